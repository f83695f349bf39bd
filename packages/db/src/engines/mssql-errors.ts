// SQL Server error numbers -> StoreError, once; and which failures are transient (worth a retry).
// Our own numbers are raised by database/mssql/0003_procedures.sql (the twins of the CPnnn SQLSTATEs
// of database/postgres, mapped in ../errors.ts).
import { StoreError, type StoreErrorCode } from "../contract.ts";
import { MIGRATE_HINT } from "../errors.ts";

const OWN_NUMBERS: Record<number, StoreErrorCode> = {
  50400: "INVALID_INPUT",
  50404: "NOT_FOUND",
  50409: "CONFLICT",
  50413: "CAP_EXCEEDED",
  50422: "IDEMPOTENCY_MISMATCH",
  50423: "REQUEST_BUSY",
};

/** SQL Server's own numbers that mean the caller's input was wrong, named by what they say. */
const INPUT_NUMBERS: Record<number, string> = {
  8152: "a value is too long for its column",
  2628: "a value is too long for its column",
  515: "a required value is missing",
  220: "a number is out of range",
  8115: "a number is out of range",
  242: "a date or time is out of range",
  241: "a date or time is malformed",
  245: "a value has the wrong type or format",
  8114: "a value has the wrong type or format",
  13609: "a JSON value is malformed",
};

/** Azure SQL / SQL Server errors after which the same call may succeed: the service was busy,
 *  moving, or dropped the connection. */
export const TRANSIENT_NUMBERS = new Set([
  4060, 40197, 40501, 40540, 40613, 49918, 49919, 49920, 10928, 10929, 10053, 10054, 10060, 40143, 233, 64, 615, 4221,
]);

/** Login refusals that mean "not now" rather than "not you": a serverless database resuming (up to a
 *  minute), a failover, a busy service, a readable secondary still starting. tedious reports them as
 *  an ELOGIN ConnectionError carrying only the server's message (the number is dropped), so they are
 *  told apart by that message, which SQL Server words the same way for each number. */
const RESUMING_LOGIN: readonly [number, RegExp][] = [
  [40613, /is not currently available\. Please retry the connection later/i],
  [4060, /Cannot open database .* requested by the login/i],
  [40197, /The service has encountered an error processing your request/i],
  [40540, /The service has encountered an error processing your request/i],
  [40501, /The service is currently busy/i],
  [4221, /Login to read-secondary failed/i],
  [615, /Could not find database ID .* The database may be offline/i],
];

/** Of those, the ones where the request surely did not run (refused before it started, or its
 *  transaction was rolled back whole, like a deadlock victim's), so even a write may be retried. */
const NOT_EXECUTED_NUMBERS = new Set([4060, 40501, 40613, 49918, 49919, 49920, 10928, 10929, 1205]);

/** mssql error codes of a connection that could not be opened (nothing was sent). */
const CONNECT_CODES = new Set(["ETIMEOUT", "ESOCKET", "ECONNCLOSED", "ENOTOPEN", "EINSTLOOKUP", "ECONNRESET", "ECONNREFUSED"]);

type DriverError = {
  number?: unknown;
  code?: unknown;
  message?: unknown;
  name?: unknown;
  originalError?: DriverError;
  precedingErrors?: DriverError[];
};

/** Every SQL Server error number carried by an mssql/tedious error (it nests them). */
export function errorNumbers(err: unknown): number[] {
  const out: number[] = [];
  const visit = (e: DriverError | undefined, depth: number) => {
    if (!e || typeof e !== "object" || depth > 4) return;
    if (typeof e.number === "number") out.push(e.number);
    visit(e.originalError, depth + 1);
    for (const p of e.precedingErrors ?? []) visit(p, depth + 1);
  };
  visit(err as DriverError, 0);
  return out;
}

function codeOf(err: unknown): string | undefined {
  const e = err as DriverError | undefined;
  const code = e?.code ?? e?.originalError?.code;
  return typeof code === "string" ? code : undefined;
}

/** A call that ran past its request timeout: the server cancelled it (XACT_ABORT rolls its
 *  transaction back). Not a lost connection: repeating it would only time out again. */
export function isTimeout(err: unknown): boolean {
  const e = err as DriverError | undefined;
  return e?.name === "RequestError" && codeOf(err) === "ETIMEOUT";
}

/** A connection-level failure: no connection, or it broke. */
export function isConnectionError(err: unknown): boolean {
  const e = err as DriverError | undefined;
  if (isTimeout(err)) return false;
  return e?.name === "ConnectionError" || CONNECT_CODES.has(codeOf(err) ?? "");
}

function messagesOf(err: unknown): string[] {
  const out: string[] = [];
  const visit = (e: DriverError | undefined, depth: number) => {
    if (!e || typeof e !== "object" || depth > 4) return;
    if (typeof e.message === "string") out.push(e.message);
    visit(e.originalError, depth + 1);
    for (const p of (e as { errors?: DriverError[] }).errors ?? []) visit(p, depth + 1);
  };
  visit(err as DriverError, 0);
  return out;
}

/** The transient number of a login refused for now (see RESUMING_LOGIN), or undefined. */
export function resumingLoginNumber(err: unknown): number | undefined {
  if (codeOf(err) !== "ELOGIN") return undefined;
  const numbers = errorNumbers(err).filter((n) => TRANSIENT_NUMBERS.has(n));
  if (numbers[0] !== undefined) return numbers[0];
  const messages = messagesOf(err);
  return RESUMING_LOGIN.find(([, pattern]) => messages.some((m) => pattern.test(m)))?.[0];
}

/** A managed-identity or Entra ID token that could not be had: tedious throws an AggregateError
 *  holding an EFEDAUTH ConnectionError (and the credential's own error). A configuration fault
 *  (identity missing, not granted, wrong tenant), not a passing one. */
export function isTokenFailure(err: unknown): boolean {
  const visit = (e: DriverError | undefined, depth: number): boolean => {
    if (!e || typeof e !== "object" || depth > 4) return false;
    if (e.code === "EFEDAUTH") return true;
    if (typeof e.name === "string" && /CredentialUnavailable|AuthenticationRequired|AuthenticationError/.test(e.name)) return true;
    return visit(e.originalError, depth + 1) || ((e as { errors?: DriverError[] }).errors ?? []).some((x) => visit(x, depth + 1));
  };
  return visit(err as DriverError, 0);
}

/**
 * Whether a failed call may be repeated. `idempotent` calls (reads, replay-safe writes) retry on any
 * transient failure; other writes only when the request surely did not run.
 */
export function isRetryable(err: unknown, idempotent: boolean): boolean {
  if (err instanceof StoreError || isTimeout(err) || isTokenFailure(err)) return false;
  if (resumingLoginNumber(err) !== undefined) return true;
  const numbers = errorNumbers(err);
  if (numbers.some((n) => NOT_EXECUTED_NUMBERS.has(n))) return true;
  const e = err as DriverError | undefined;
  // mssql raises ConnectionError when the pool cannot open a connection: nothing was sent. A refused
  // login (wrong password, unknown identity) is not worth repeating.
  if (e?.name === "ConnectionError" && codeOf(err) !== "ELOGIN") return true;
  if (!idempotent) return false;
  return numbers.some((n) => TRANSIENT_NUMBERS.has(n)) || (isConnectionError(err) && codeOf(err) !== "ELOGIN");
}

export function mapMssqlError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as DriverError;
  const message = typeof e.message === "string" ? e.message : String(err);
  const numbers = errorNumbers(err);
  const first = numbers[0];
  for (const n of numbers) {
    const own = OWN_NUMBERS[n];
    if (own) return new StoreError(own, message, { cause: err, expose: true });
  }
  if (first !== undefined && INPUT_NUMBERS[first]) {
    return new StoreError("INVALID_INPUT", `${INPUT_NUMBERS[first]}: ${message}`, { cause: err });
  }
  // 2812: a stored procedure, 208: a table or view this version calls is missing (never migrated, or older)
  if (first === 2812 || first === 208) {
    return new StoreError("NOT_MIGRATED", `the database schema is missing or older than this version (${message}); ${MIGRATE_HINT}`, {
      cause: err,
    });
  }
  if (first === 2627 || first === 2601) return new StoreError("CONFLICT", `already exists: ${message}`, { cause: err });
  if (first === 547) {
    return /FOREIGN KEY|REFERENCE/i.test(message)
      ? new StoreError("NOT_FOUND", `a referenced row does not exist: ${message}`, { cause: err })
      : new StoreError("INVALID_INPUT", `a value breaks a check constraint: ${message}`, { cause: err });
  }
  if (isTimeout(err)) {
    return new StoreError("UNAVAILABLE", `the call did not finish within its time limit and was cancelled (nothing was kept): ${message}`, {
      cause: err,
    });
  }
  if (isTokenFailure(err)) {
    return new StoreError(
      "CONFIG",
      `no access token for SQL Server: check the managed identity (COUPONS_MSSQL_CLIENT_ID), that it exists and is a user of the database: ${messagesOf(err).join("; ")}`,
      { cause: err },
    );
  }
  const resuming = resumingLoginNumber(err);
  if (resuming !== undefined) {
    return new StoreError(
      "UNAVAILABLE",
      `the database is not accepting logins now (error ${resuming}: resuming, failing over or busy): ${message}`,
      {
        cause: err,
      },
    );
  }
  const transient = numbers.some((n) => TRANSIENT_NUMBERS.has(n));
  if (!transient && (first === 18456 || codeOf(err) === "ELOGIN")) {
    return new StoreError("CONFIG", `SQL Server refused the login; check the user, password or identity: ${message}`, { cause: err });
  }
  if (transient || isConnectionError(err)) {
    return new StoreError("UNAVAILABLE", `the database cannot be reached: ${message}`, { cause: err });
  }
  return err;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type RetryPolicy = {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long a login refused "for now" (resumingLoginNumber) keeps being retried, whatever the
   *  attempt count: an Azure SQL serverless database takes up to a minute to resume. */
  resumeBudgetMs: number;
};
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, resumeBudgetMs: 60_000 };

/** Runs `fn`, repeating it with exponential backoff and jitter while its failure is retryable. */
export async function withRetry<T>(fn: () => Promise<T>, idempotent: boolean, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err, idempotent)) throw err;
      const resuming = resumingLoginNumber(err) !== undefined;
      if (resuming ? Date.now() - started >= policy.resumeBudgetMs : attempt >= policy.attempts) throw err;
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
