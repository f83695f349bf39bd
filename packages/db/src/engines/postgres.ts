// The postgres engine: a pg pool over the functions of database/postgres. A generation claim is a
// session-level advisory lock held on a dedicated connection, so it dies with the worker.
import pg from "pg";
import { type CouponStore, type GenerationClaim, type RouteEvent, StoreError } from "../contract.ts";
import { mapPgError } from "../errors.ts";
import { type MigrationReport, databaseDir, pgMigrationTarget, runMigrations } from "../migrate.ts";
import { type Row, requestFromRow } from "../rows.ts";
import { SqlEngine } from "../sql-store.ts";
import { defineStore } from "../store.ts";

export type PostgresOptions = {
  url: string;
  /** A streaming replica for analytics reads (see the contract's operations section). */
  readUrl?: string;
  onRoute?: (e: RouteEvent) => void;
  /** Pool size; the default suits a 2-core machine running the app and the server. */
  max?: number;
  applicationName?: string;
};

export function poolConfig(opts: PostgresOptions): pg.PoolConfig {
  return {
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "coupons",
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  };
}

export async function openPostgresStore(opts: PostgresOptions): Promise<CouponStore> {
  const pool = new pg.Pool(poolConfig(opts));
  // An idle client that loses its server emits 'error' on the pool; without a listener that would
  // crash the process. The next query gets a fresh connection or a clear UNAVAILABLE error.
  pool.on("error", () => {});
  const readPool = opts.readUrl ? new pg.Pool({ ...poolConfig(opts), connectionString: opts.readUrl }) : undefined;
  readPool?.on("error", () => {});
  const executor = (p: pg.Pool) => ({
    async query(text: string, params?: readonly unknown[]) {
      const res = await p.query(text, params as unknown[]);
      return res.rows as Row[];
    },
  });
  return defineStore(
    new SqlEngine({
      engine: "postgres",
      exec: executor(pool),
      read: readPool ? executor(readPool) : undefined,
      onRoute: opts.onRoute,
      claim: (requestId, workerId) => claimOnOwnConnection(opts, requestId, workerId),
      listen: (channel, onPayload) => listenOnOwnConnection(opts, channel, onPayload),
      close: async () => {
        await Promise.all([pool.end(), readPool?.end()]);
      },
    }),
  );
}

/** LISTEN on a connection of its own (a pooled one would be handed to others). If it breaks, the
 *  watch goes quiet: waiting workers poll as well, so a lost listener only delays them. */
async function listenOnOwnConnection(opts: PostgresOptions, channel: string, onPayload: (payload: string) => void) {
  const client = new pg.Client({ ...poolConfig(opts), application_name: "coupons-listen" });
  client.on("error", () => {});
  client.on("notification", (n) => {
    if (n.channel === channel) onPayload(n.payload ?? "");
  });
  try {
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  } catch (err) {
    await client.end().catch(() => {});
    throw mapPgError(err);
  }
  return { close: () => client.end().catch(() => {}) };
}

async function claimOnOwnConnection(opts: PostgresOptions, requestId: string, workerId: string): Promise<GenerationClaim> {
  const client = new pg.Client({ ...poolConfig(opts), application_name: `coupons-claim:${requestId}`.slice(0, 63) });
  const lost = new AbortController();
  client.on("error", (err) =>
    lost.abort(new StoreError("UNAVAILABLE", `lost the connection that holds generation request ${requestId}`, { cause: err })),
  );
  client.on("end", () => lost.abort(new StoreError("UNAVAILABLE", `the connection that holds generation request ${requestId} closed`)));
  await client.connect();
  let rows: Row[];
  try {
    rows = (await client.query("SELECT * FROM sp_ClaimGenerationRequest($1,$2)", [requestId, workerId])).rows as Row[];
  } catch (err) {
    await client.end().catch(() => {});
    throw mapPgError(err);
  }
  const row = rows[0];
  if (!row) throw new Error("sp_ClaimGenerationRequest returned no row");
  let released = false;
  return {
    request: requestFromRow(row),
    signal: lost.signal,
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query("SELECT sp_ReleaseGenerationRequest($1)", [requestId]);
      } catch {
        // the lock goes with the connection anyway
      }
      await client.end().catch(() => {});
    },
  };
}

/** Applies database/postgres migrations (numbered, then repeatable); one migrator at a time (advisory lock). */
export async function migratePostgres(url: string, dir: string = databaseDir("postgres")): Promise<MigrationReport> {
  const client = new pg.Client({ connectionString: url, application_name: "coupons-migrate" });
  try {
    await client.connect();
  } catch (err) {
    throw mapPgError(err);
  }
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('coupons.migrate'))");
    const session = {
      exec: (script: string) => client.query(script),
      query: async <R>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as R[] }),
    };
    return await runMigrations(await pgMigrationTarget(session), dir);
  } finally {
    await client.end().catch(() => {});
  }
}
