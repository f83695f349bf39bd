// How the mssql engine's areas (mssql-campaigns.ts, mssql-generation.ts, mssql-operations.ts) call a
// stored procedure: one helper with retries and error mapping, over the primary or the read pool.
import sql from "mssql";
import type { RouteEvent } from "../contract.ts";
import type { Row } from "../rows.ts";
import type { MssqlSettings } from "./mssql-config.ts";
import { mapMssqlError, withRetry } from "./mssql-errors.ts";

type SqlType = sql.ISqlType | sql.ISqlTypeFactoryWithNoParams;
export type Param = [name: string, type: SqlType, value: unknown];

export const nv = (n: number) => sql.NVarChar(n);

/** Request timeouts by class of call (the pool's own is 30 s, mssql-config.ts). A timeout cancels the
 *  call and is reported as such, never retried as a lost connection (mssql-errors.ts). */
export const CALL_TIMEOUT_MS = {
  /** Redemptions, lookups, single-row writes. */
  call: 30_000,
  /** One bulk insert batch (up to 100,000 codes). */
  bulk: 120_000,
  /** Analytics reads: an exact COUNT_BIG over tens of millions of rows, a quarter's fraud report. */
  analytics: 600_000,
  /** One archive batch (up to 100,000 rows moved in one DELETE ... OUTPUT INTO). */
  archive: 600_000,
} as const;
export type CallClass = keyof typeof CALL_TIMEOUT_MS;

export class MssqlCalls {
  readonly pool: sql.ConnectionPool;
  readonly readPool: sql.ConnectionPool | undefined;
  readonly settings: MssqlSettings;
  readonly #onRoute: ((e: RouteEvent) => void) | undefined;

  constructor(pool: sql.ConnectionPool, settings: MssqlSettings, readPool?: sql.ConnectionPool, onRoute?: (e: RouteEvent) => void) {
    this.pool = pool;
    this.settings = settings;
    this.readPool = readPool;
    this.#onRoute = onRoute;
  }

  get readRoute() {
    return this.readPool ? ("replica" as const) : ("primary" as const);
  }

  /** Executes one procedure; `idempotent` calls are retried on any transient failure, others only
   *  when the server surely did not run them. Returns its result sets. */
  async exec(
    proc: string,
    params: Param[],
    idempotent: boolean,
    pool: sql.ConnectionPool = this.pool,
    timeout: CallClass = "call",
  ): Promise<Row[][]> {
    try {
      return await withRetry(async () => {
        // mssql's Request takes a per-request timeout as its second argument (its typings lack it).
        const Request = sql.Request as unknown as new (p: sql.ConnectionPool, o: { requestTimeout: number }) => sql.Request;
        const req = new Request(pool, { requestTimeout: CALL_TIMEOUT_MS[timeout] });
        for (const [name, type, value] of params) req.input(name, type, value);
        const res = await req.execute(proc);
        return (res.recordsets ?? []) as unknown as Row[][];
      }, idempotent);
    } catch (err) {
      throw mapMssqlError(err);
    }
  }

  /** The first result set. */
  async rows(proc: string, params: Param[], idempotent = true, timeout: CallClass = "call"): Promise<Row[]> {
    return (await this.exec(proc, params, idempotent, this.pool, timeout))[0] ?? [];
  }

  /** An analytics read: to the read pool when there is one (see the contract's operations section). */
  async read(method: string, proc: string, params: Param[]): Promise<Row[]> {
    this.#onRoute?.({ method, route: this.readRoute });
    return (await this.exec(proc, params, true, this.readPool ?? this.pool, "analytics"))[0] ?? [];
  }
}
