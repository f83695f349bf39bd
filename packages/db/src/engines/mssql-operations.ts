// The mssql engine's operations calls: archive, fraud report, scale status and the idempotency-key
// purge. Inputs arrive checked (store.ts).
import sql from "mssql";
import { purgeInBatches } from "../paging.ts";
import { one } from "../results.ts";
import { attemptFromRow, fraudRowFromRow, scaleStatusFromRow } from "../rows.ts";
import type { EngineOps } from "../store.ts";
import { type MssqlCalls, nv } from "./mssql-calls.ts";

type OperationsOps = Pick<EngineOps, "archive" | "fraudReport" | "getScaleStatus" | "purgeIdempotencyKeys">;

export function operationsCalls(c: MssqlCalls): OperationsOps {
  const moved = (rows: Awaited<ReturnType<MssqlCalls["rows"]>>) => Number(one(rows, "sp_ArchiveRedemptionHistory").moved);
  return {
    // Each move is one DELETE ... OUTPUT INTO: atomic, and re-running a move of the same ids moves
    // nothing twice, so the moves are retried like reads.
    archive: {
      list: async (before, limit) =>
        (
          await c.rows(
            "dbo.sp_ListArchivableHistory",
            [
              ["Before", sql.DateTime2, before],
              ["Limit", sql.Int, limit],
            ],
            true,
            "archive",
          )
        ).map(attemptFromRow),
      move: async (before, batchSize) =>
        moved(
          await c.rows(
            "dbo.sp_ArchiveRedemptionHistory",
            [
              ["Before", sql.DateTime2, before],
              ["BatchSize", sql.Int, batchSize],
            ],
            true,
            "archive",
          ),
        ),
      moveIds: async (ids) =>
        moved(
          await c.rows(
            "dbo.sp_ArchiveRedemptionHistory",
            [
              ["BatchSize", sql.Int, ids.length],
              ["Ids", sql.NVarChar(sql.MAX), JSON.stringify(ids.map(Number))],
            ],
            true,
            "archive",
          ),
        ),
    },

    async fraudReport(f) {
      const rows = await c.read("fraudReport", "dbo.sp_FraudReport", [
        ["Since", sql.DateTime2, f.since],
        ["Until", sql.DateTime2, f.until],
        ["By", nv(20), f.by],
        ["Top", sql.Int, f.top],
      ]);
      return rows.map(fraudRowFromRow);
    },

    async getScaleStatus(before) {
      const rows = await c.read("getScaleStatus", "dbo.sp_GetScaleStatus", [["ArchiveBefore", sql.DateTime2, before]]);
      return scaleStatusFromRow(one(rows, "sp_GetScaleStatus"), before);
    },

    purgeIdempotencyKeys(before) {
      return purgeInBatches(async (size) => {
        const rows = await c.rows(
          "dbo.sp_PurgeIdempotencyKeys",
          [
            ["Before", sql.DateTime2, before],
            ["BatchSize", sql.Int, size],
          ],
          true,
          "archive",
        );
        return Number(one(rows, "sp_PurgeIdempotencyKeys").n);
      });
    },
  };
}
