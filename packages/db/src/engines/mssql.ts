// The mssql engine: Azure SQL / SQL Server through an `mssql` (tedious) pool, calling only the stored
// procedures of database/mssql (the app's role may EXECUTE them and touch no table). Inputs are
// checked once by store.ts; the calls live by area in mssql-campaigns.ts, mssql-generation.ts and
// mssql-operations.ts, results are mapped by rows.ts and results.ts as for the PostgreSQL engines.
import sql from "mssql";
import { type CouponStore, type RouteEvent, StoreError } from "../contract.ts";
import { defineStore } from "../store.ts";
import { MssqlCalls } from "./mssql-calls.ts";
import { campaignCalls } from "./mssql-campaigns.ts";
import { type MssqlOptions, type MssqlSettings, type MssqlStoreConfig, buildMssqlSettings } from "./mssql-config.ts";
import { mapMssqlError, withRetry } from "./mssql-errors.ts";
import { generationCalls } from "./mssql-generation.ts";
import { operationsCalls } from "./mssql-operations.ts";
import { reversalCalls } from "./mssql-reversal.ts";
import { throttleCalls } from "./mssql-throttle.ts";
import { statisticsCalls } from "./mssql-statistics.ts";

export { migrateMssql } from "./mssql-migrate.ts";
export { buildMssqlSettings } from "./mssql-config.ts";

export type MssqlStoreOptions = MssqlOptions & { onRoute?: (e: RouteEvent) => void };

/** The analytics read pool's settings: the read URL's server, or the primary's, with
 *  ApplicationIntent=ReadOnly (Azure SQL routes such sessions to a readable secondary). */
export function readReplicaSettings(c: MssqlStoreConfig, o: MssqlOptions = {}): MssqlSettings | null {
  if (!c.readUrl && !c.readIntent) return null;
  const base = buildMssqlSettings(c.readUrl ? { engine: "mssql", url: c.readUrl } : { ...c, readUrl: undefined }, o);
  return {
    ...base,
    config: { ...base.config, options: { ...base.config.options, readOnlyIntent: true } },
    describe: `${base.describe}, ApplicationIntent=ReadOnly`,
  };
}

async function connect(settings: MssqlSettings): Promise<sql.ConnectionPool> {
  const pool = new sql.ConnectionPool(settings.config);
  // An idle connection that breaks emits 'error' on the pool; the next call gets a fresh connection.
  pool.on("error", () => {});
  try {
    await withRetry(() => pool.connect(), true);
  } catch (err) {
    await pool.close().catch(() => {});
    const mapped = mapMssqlError(err);
    if (mapped instanceof StoreError) {
      throw new StoreError(mapped.code, `${settings.describe}: ${mapped.message}`, { cause: err, expose: mapped.expose });
    }
    throw mapped;
  }
  return pool;
}

export async function openMssqlStore(c: MssqlStoreConfig, o: MssqlStoreOptions = {}): Promise<CouponStore> {
  const settings = buildMssqlSettings(c, o);
  const readSettings = readReplicaSettings(c, o);
  const pool = await connect(settings);
  let readPool: sql.ConnectionPool | undefined;
  try {
    readPool = readSettings ? await connect(readSettings) : undefined;
  } catch (err) {
    await pool.close().catch(() => {});
    throw err;
  }
  const calls = new MssqlCalls(pool, settings, readPool, o.onRoute);
  return defineStore({
    engine: "mssql",
    readRoute: calls.readRoute,
    ...campaignCalls(calls),
    ...generationCalls(calls),
    ...operationsCalls(calls),
    ...reversalCalls(calls),
    ...throttleCalls(calls),
    ...statisticsCalls(calls),
    async ping() {
      // No table is read, so the execute-only role may run it.
      try {
        await withRetry(() => pool.request().query("SELECT 1 AS ok"), true);
      } catch (err) {
        throw mapMssqlError(err);
      }
    },
    async close() {
      await Promise.all([pool.close(), readPool?.close()]);
    },
  });
}
