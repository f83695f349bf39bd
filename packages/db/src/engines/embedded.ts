// The embedded engine: PGlite (PostgreSQL compiled to WebAssembly) in this process, data in a local
// folder, running the same SQL files as the postgres engine. One process owns a data folder at a
// time (a lock the operating system releases when it dies: process-lock.ts); within it, claims are
// kept in memory.
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { type CouponStore, type GenerationClaim, type RouteEvent, StoreError } from "../contract.ts";
import { mapPgError } from "../errors.ts";
import { type MigrationReport, databaseDir, pgMigrationTarget, runMigrations } from "../migrate.ts";
import { acquireProcessLock } from "../process-lock.ts";
import { prepareDataDir, restrictDataDir } from "./embedded-files.ts";
import { type Row, requestFromRow } from "../rows.ts";
import { SqlEngine } from "../sql-store.ts";
import { defineStore } from "../store.ts";

export type EmbeddedOptions = {
  /** A folder, or "memory" for a throw-away database. */
  dataDir: string;
  /** Apply pending migrations when opening (default true: a fresh clone just works). */
  migrate?: boolean;
  /** Told of each analytics read (always the primary: an embedded database has no replica). */
  onRoute?: (e: RouteEvent) => void;
};

export async function openEmbeddedStore(opts: EmbeddedOptions): Promise<CouponStore & { migrate(): Promise<MigrationReport> }> {
  const memory = opts.dataDir === "memory";
  const dir = memory ? null : resolve(opts.dataDir);
  // the folder is made private before anything is written in or beside it (the lock file)
  try {
    if (dir) prepareDataDir(dir);
  } catch (err) {
    throw new StoreError("UNAVAILABLE", `cannot create the embedded database folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const unlock = dir ? await lockDataDir(dir) : () => {};
  let db: PGlite;
  try {
    db = await PGlite.create(dir ? { dataDir: dir } : {});
    if (dir) restrictDataDir(dir);
  } catch (err) {
    unlock();
    throw new StoreError("UNAVAILABLE", `cannot open the embedded database at ${dir ?? "memory"}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const held = new Set<string>();
  const exec = {
    async query(text: string, params?: readonly unknown[]): Promise<Row[]> {
      const res = await db.query<Row>(text, params as unknown[]);
      return res.rows;
    },
  };
  const claim = async (requestId: string, workerId: string): Promise<GenerationClaim> => {
    // The advisory lock is re-entrant within PGlite's single session, so the Set is the real hold. It
    // is tested and taken with no await in between: two claims made at once cannot both pass.
    if (held.has(requestId)) {
      throw new StoreError("REQUEST_BUSY", `generation request ${requestId} is being worked by another worker in this process`);
    }
    held.add(requestId);
    let rows: Row[];
    try {
      rows = await exec.query("SELECT * FROM sp_ClaimGenerationRequest($1,$2)", [requestId, workerId]);
      await exec.query("SELECT sp_ReleaseGenerationRequest($1)", [requestId]);
    } catch (err) {
      held.delete(requestId);
      throw err;
    }
    const row = rows[0];
    if (!row) throw new Error("sp_ClaimGenerationRequest returned no row");
    return {
      request: requestFromRow(row),
      signal: new AbortController().signal,
      async release() {
        held.delete(requestId);
      },
    };
  };
  const migrate = () => migrateEmbedded(db);
  if (opts.migrate !== false) {
    try {
      await migrate();
    } catch (err) {
      await db.close().catch(() => {});
      unlock();
      throw mapPgError(err);
    }
  }
  const store = defineStore(
    new SqlEngine({
      engine: "embedded",
      exec,
      onRoute: opts.onRoute,
      claim,
      heldRequests: held,
      async listen(channel, onPayload) {
        const unlisten = await db.listen(channel, onPayload);
        return { close: () => unlisten() };
      },
      async close() {
        await db.close();
        unlock();
      },
    }),
  );
  return Object.assign(store, { migrate });
}

/** Applies database/postgres migrations (numbered, then repeatable) to an open PGlite database. */
export async function migrateEmbedded(db: PGlite, dir: string = databaseDir("postgres")): Promise<MigrationReport> {
  const session = { exec: (script: string) => db.exec(script), query: <R>(text: string, params?: unknown[]) => db.query<R>(text, params) };
  return runMigrations(await pgMigrationTarget(session), dir);
}

/** One process per data folder: PGlite has no locking of its own across processes. Held by another
 *  process: REQUEST_BUSY (that process has every request in the folder), the CLI's exit 4. */
function lockDataDir(dir: string): Promise<() => void> {
  return acquireProcessLock(`${dir}.lock`, (owner, own) =>
    own
      ? new StoreError("UNAVAILABLE", `the embedded database at ${dir} is already open in this process; share one store`)
      : new StoreError(
          "REQUEST_BUSY",
          `the embedded database at ${dir} is in use by ${owner ? `process ${owner.pid} on ${owner.host}` : "another process"} (one process at a time). Stop it; or, when it is the redeem API, use the API (the read commands campaign list/show and request list/show ask it by themselves); or use PostgreSQL for more than one process: docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=coupons postgres:17, then COUPONS_DATABASE_URL=postgres://postgres:coupons@127.0.0.1:5432/postgres and coupons migrate (docs/database.md)`,
        ),
  );
}
