// The mssql engine's generation calls: requests, claims (a session application lock on a connection
// of its own, mssql-claim.ts), bulk insert, prefix counts and export. Inputs arrive checked (store.ts).
import sql from "mssql";
import { exportPages } from "../paging.ts";
import { one } from "../results.ts";
import { requestFromRow, strOrNull } from "../rows.ts";
import type { EngineOps } from "../store.ts";
import { type MssqlCalls, nv } from "./mssql-calls.ts";
import { claimOnOwnConnection } from "./mssql-claim.ts";

type GenerationOps = Pick<
  EngineOps,
  | "createGenerationRequest"
  | "getGenerationRequest"
  | "listGenerationRequests"
  | "claimGenerationRequest"
  | "updateGenerationRequest"
  | "bulkInsertCoupons"
  | "cancelGenerationRequest"
  | "watchGenerationRequests"
  | "countCouponsWithPrefix"
  | "streamCoupons"
>;

export function generationCalls(c: MssqlCalls): GenerationOps {
  return {
    async createGenerationRequest(r) {
      const rows = await c.rows(
        "dbo.sp_CreateGenerationRequest",
        [
          ["RequestId", nv(100), r.requestId],
          ["CampaignId", nv(100), r.campaignId],
          ["RequestedAmount", sql.Int, r.requestedAmount],
          ["Prefix", nv(20), r.prefix],
          ["ExpirationDate", sql.DateTime2, r.expirationDate],
          ["RequestedBy", nv(100), r.requestedBy],
          ["CodeLength", sql.Int, r.codeLength],
          ["Traceparent", sql.VarChar(55), r.traceparent],
        ],
        false,
      );
      return requestFromRow(one(rows, "sp_CreateGenerationRequest"));
    },

    async getGenerationRequest(requestId) {
      const rows = await c.rows("dbo.sp_GetGenerationRequest", [["RequestId", nv(100), requestId]]);
      return rows[0] ? requestFromRow(rows[0]) : null;
    },

    async listGenerationRequests(f) {
      const rows = await c.rows("dbo.sp_ListGenerationRequests", [
        ["CampaignId", nv(100), f.campaignId],
        ["Status", nv(20), f.status],
        ["Limit", sql.Int, f.limit],
        ["AfterRequestId", nv(100), f.after],
      ]);
      return rows.map(requestFromRow);
    },

    claimGenerationRequest(requestId, workerId) {
      return claimOnOwnConnection(c.settings, requestId, workerId);
    },

    async updateGenerationRequest(requestId, status, failureReason) {
      const rows = await c.rows("dbo.sp_UpdateGenerationRequest", [
        ["RequestId", nv(100), requestId],
        ["Status", nv(20), status],
        ["FailureReason", sql.NVarChar(sql.MAX), failureReason],
      ]);
      return requestFromRow(one(rows, "sp_UpdateGenerationRequest"));
    },

    async bulkInsertCoupons(requestId, codes) {
      const rows = await c.rows(
        "dbo.sp_BulkInsertCoupons",
        [
          ["RequestId", nv(100), requestId],
          ["Codes", sql.NVarChar(sql.MAX), JSON.stringify(codes)],
        ],
        false,
        "bulk",
      );
      const r = one(rows, "sp_BulkInsertCoupons");
      const existing = strOrNull(r, "existing");
      return {
        inserted: Number(r.inserted),
        existing: existing ? (JSON.parse(existing) as { code: string }[]).map((e) => e.code) : [],
        generatedAmount: Number(r.generatedAmount),
        requestedAmount: Number(r.requestedAmount),
      };
    },

    async cancelGenerationRequest(requestId) {
      const rows = await c.rows("dbo.sp_CancelGenerationRequest", [["RequestId", nv(100), requestId]], false);
      return requestFromRow(one(rows, "sp_CancelGenerationRequest"));
    },

    // SQL Server has no LISTEN/NOTIFY: a worker polls (with backoff and jitter).
    async watchGenerationRequests() {
      return null;
    },

    async countCouponsWithPrefix(prefix) {
      const rows = await c.rows("dbo.sp_CountCouponsWithPrefix", [["Prefix", nv(400), prefix]]);
      return Number(one(rows, "sp_CountCouponsWithPrefix").n);
    },

    async *streamCoupons({ campaignId, requestId }) {
      yield* exportPages((after, limit) =>
        c.read("streamCoupons", "dbo.sp_ExportCoupons", [
          ["CampaignId", nv(100), campaignId],
          ["RequestId", nv(100), requestId],
          ["AfterCouponId", sql.BigInt, after],
          ["Limit", sql.Int, limit],
        ]),
      );
    },
  };
}
