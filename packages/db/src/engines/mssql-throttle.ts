// The mssql engine's throttle calls (issue 12): the stored outcome of an idempotency key and the
// batched record of throttled attempts. Inputs arrive checked (store.ts).
import sql from "mssql";
import { documentOf, one, redeemResultFromJson } from "../results.ts";
import type { EngineOps } from "../store.ts";
import { type MssqlCalls, nv } from "./mssql-calls.ts";

type ThrottleOps = Pick<EngineOps, "getIdempotentOutcome" | "recordThrottledAttempts">;

export function throttleCalls(c: MssqlCalls): ThrottleOps {
  return {
    async getIdempotentOutcome(idempotencyKey, requestHash) {
      const rows = await c.rows("dbo.sp_GetIdempotentOutcome", [
        ["IdempotencyKey", nv(4000), idempotencyKey],
        ["RequestHash", nv(4000), requestHash],
      ]);
      return rows[0] ? redeemResultFromJson(documentOf(rows[0])) : null;
    },

    async recordThrottledAttempts(rows) {
      // minutes as UTC ISO 8601 without a zone: what OPENJSON ... datetime2 reads in every setting
      const json = JSON.stringify(rows.map((r) => ({ ...r, minute: r.minute.toISOString().slice(0, 19) })));
      // an addition, so not retried after a send that may have run (idempotent: false)
      const result = await c.rows("dbo.sp_RecordThrottledAttempts", [["Rows", sql.NVarChar(sql.MAX), json]], false);
      return Number(one(result, "sp_RecordThrottledAttempts").n);
    },
  };
}
