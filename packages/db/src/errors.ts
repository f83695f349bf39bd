// Maps driver errors (PostgreSQL SQLSTATEs, PGlite's, SQL Server error numbers) onto StoreError once.
import { StoreError, type StoreErrorCode } from "./contract.ts";

/** What an unmigrated database needs, said the same way everywhere. */
export const MIGRATE_HINT = "run `coupons migrate` (npm run migrate) with a login that may change the schema";

/** Our own SQLSTATEs, raised by database/postgres/0003_procedures.sql. */
const OWN_STATES: Record<string, StoreErrorCode> = {
  CP400: "INVALID_INPUT",
  CP404: "NOT_FOUND",
  CP409: "CONFLICT",
  CP413: "CAP_EXCEEDED",
  CP422: "IDEMPOTENCY_MISMATCH",
  CP423: "REQUEST_BUSY",
};

/** Deadlock (40P01) and serialization (40001) victims: the database rolled the transaction back
 *  whole, so the same call may simply be made again. */
export const ROLLED_BACK_STATES = new Set(["40P01", "40001"]);

/** Standard SQLSTATEs that mean the caller's input was wrong, named by what they say. */
const INPUT_STATES: Record<string, string> = {
  "22001": "a value is too long for its column",
  "22003": "a number is out of range",
  "22007": "a date or time is malformed",
  "22008": "a date or time is out of range",
  "22P02": "a value has the wrong type or format",
  "22023": "a parameter value is invalid",
  "22P05": "a text value contains a character the database cannot store",
  "22021": "a text value is not valid UTF-8",
  "23502": "a required value is missing",
  "23514": "a value breaks a check constraint",
};

// Connection-level failures: the server is down, restarting, refusing connections (too many, or the
// database set to ALLOW_CONNECTIONS false: 55000 with that message), or the link broke.
const NOT_ACCEPTING = /is not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)/i;
const UNAVAILABLE = new Set([
  "53300",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "08006",
  "08001",
  "08003",
  "08004",
]);

type DriverError = { code?: unknown; message?: unknown; constraint?: unknown; detail?: unknown };

export function mapPgError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as DriverError;
  const code = typeof e.code === "string" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : String(err);
  if (code && OWN_STATES[code]) return new StoreError(OWN_STATES[code], message, { cause: err, expose: true });
  if (code && INPUT_STATES[code]) {
    const where = typeof e.constraint === "string" ? ` (${e.constraint})` : "";
    return new StoreError("INVALID_INPUT", `${INPUT_STATES[code]}${where}: ${message}`, { cause: err });
  }
  if (message === "timeout exceeded when trying to connect") {
    // pg-pool: no connection of this process's pool came free (or could be opened) in time; the
    // call was never sent
    return new StoreError(
      "UNAVAILABLE",
      "no database connection came free in time (every connection of this process's pool was busy, or none could be opened); nothing was executed, retry it",
      { cause: err },
    );
  }
  if (code === "57014" || code === "55P03") {
    // statement_timeout / lock_timeout (or a cancel): the server cancelled the statement and rolled
    // its transaction back; every call here is one statement in its own transaction
    return new StoreError(
      "UNAVAILABLE",
      `the call did not finish within its time limit and was cancelled; nothing was kept, retry it: ${message}`,
      { cause: err },
    );
  }
  if (code && ROLLED_BACK_STATES.has(code)) {
    // A deadlock or serialization victim: the database rolled the transaction back whole.
    return new StoreError(
      "UNAVAILABLE",
      `the database rolled this call back to resolve a conflict with another; nothing was kept, retry it: ${message}`,
      {
        cause: err,
      },
    );
  }
  // a procedure, view or table this version calls is missing: the schema was never migrated or is older
  if (code === "42883" || code === "42P01") {
    return new StoreError("NOT_MIGRATED", `the database schema is missing or older than this version (${message}); ${MIGRATE_HINT}`, {
      cause: err,
    });
  }
  if (code === "3D000")
    return new StoreError("NO_DATABASE", `${message}: create it or fix the database URL; then ${MIGRATE_HINT}`, { cause: err });
  if (code === "23505") return new StoreError("CONFLICT", `already exists: ${message}`, { cause: err });
  if (code === "23503") return new StoreError("NOT_FOUND", `a referenced row does not exist: ${message}`, { cause: err });
  if (
    (code && UNAVAILABLE.has(code)) ||
    NOT_ACCEPTING.test(message) ||
    /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(message)
  ) {
    return new StoreError("UNAVAILABLE", `the database cannot be reached: ${message}`, { cause: err });
  }
  return err;
}
