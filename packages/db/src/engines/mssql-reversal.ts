// The mssql engine's reversal calls (issue 14): sp_ReverseRedemption and sp_ListUserRedemptions of
// database/mssql/R__0310_reversal.sql. Inputs arrive checked (store.ts).
import sql from "mssql";
import { documentOf } from "../results.ts";
import { historyItemFromRow, reversalResultFromJson } from "../reversals.ts";
import type { EngineOps } from "../store.ts";
import { type MssqlCalls, nv } from "./mssql-calls.ts";

type ReversalOps = Pick<EngineOps, "reverseRedemption" | "listUserRedemptions">;

export function reversalCalls(c: MssqlCalls): ReversalOps {
  return {
    async reverseRedemption(r) {
      // A second reversal of the same redemption is a replay, so a transient failure may be retried.
      const rows = await c.rows(
        "dbo.sp_ReverseRedemption",
        [
          ["RedemptionId", sql.BigInt, r.redemptionId],
          ["ClientId", nv(4000), r.clientId],
          ["Reason", nv(4000), r.reason],
          ["IpAddress", nv(200), r.ipAddress],
          ["UserAgent", nv(4000), r.userAgent],
          ["IdempotencyKey", nv(4000), r.idempotencyKey],
          ["RequestHash", nv(4000), r.requestHash],
        ],
        true,
      );
      return reversalResultFromJson(documentOf(rows[0]));
    },

    async listUserRedemptions(f) {
      const rows = await c.rows("dbo.sp_ListUserRedemptions", [
        ["UserId", nv(4000), f.userId],
        ["Limit", sql.Int, f.limit],
        ["After", nv(4000), f.after],
        ["IncludeAttempts", sql.Bit, f.includeAttempts],
      ]);
      return rows.map(historyItemFromRow);
    },
  };
}
