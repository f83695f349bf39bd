// A worker's hold on a generation request on SQL Server: a session application lock
// (sp_ClaimGenerationRequest) on a connection of its own, so the hold ends when the worker dies.
import sql from "mssql";
import { type GenerationClaim, StoreError } from "../contract.ts";
import { type Row, requestFromRow } from "../rows.ts";
import type { MssqlSettings } from "./mssql-config.ts";
import { mapMssqlError, withRetry } from "./mssql-errors.ts";

/** The claim's own connection (a pool of exactly one that never reaps it): the session application
 *  lock taken by sp_ClaimGenerationRequest lives as long as this connection does. */
export async function claimOnOwnConnection(settings: MssqlSettings, requestId: string, workerId: string): Promise<GenerationClaim> {
  const lost = new AbortController();
  let released = false;
  const gone = (err?: unknown) => {
    if (!released && !lost.signal.aborted) {
      lost.abort(new StoreError("UNAVAILABLE", `lost the connection that holds generation request ${requestId}`, { cause: err }));
    }
  };
  const pool = new sql.ConnectionPool({
    ...settings.config,
    pool: { max: 1, min: 1, idleTimeoutMillis: 2_147_483_647 },
    beforeConnect: (conn) => {
      conn.on("end", () => gone());
      conn.on("error", (err) => gone(err));
    },
  });
  pool.on("error", (err) => gone(err));
  const param = (req: sql.Request) => req.input("RequestId", sql.NVarChar(100), requestId);
  let row: Row | undefined;
  try {
    await withRetry(() => pool.connect(), true);
    const res = await param(pool.request()).input("WorkerId", sql.NVarChar(100), workerId).execute("dbo.sp_ClaimGenerationRequest");
    row = (res.recordset as unknown as Row[] | undefined)?.[0];
    if (!row) throw new Error("sp_ClaimGenerationRequest returned no row");
  } catch (err) {
    released = true;
    await pool.close().catch(() => {});
    throw mapMssqlError(err);
  }
  return {
    request: requestFromRow(row),
    signal: lost.signal,
    async release() {
      if (released) return;
      released = true;
      try {
        await param(pool.request()).execute("dbo.sp_ReleaseGenerationRequest");
      } catch {
        // the lock goes with the connection anyway
      }
      await pool.close().catch(() => {});
    },
  };
}
