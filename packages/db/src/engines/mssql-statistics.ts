// The mssql engine's statistics calls: the CurrentRedemptions refresh and the stats series
// (database/mssql/R__0600_statistics.sql). Inputs arrive checked (store.ts).
import sql from "mssql";
import { StoreError } from "../contract.ts";
import { one } from "../results.ts";
import { num } from "../rows.ts";
import { seriesFromRows, statsRowFromRow } from "../statistics.ts";
import type { EngineOps } from "../store.ts";
import { type MssqlCalls, nv } from "./mssql-calls.ts";

type StatisticsOps = Pick<EngineOps, "syncCampaignCounters" | "getCampaignStatsSeries">;

export function statisticsCalls(c: MssqlCalls): StatisticsOps {
  return {
    // re-running either changes nothing more: retried like reads
    async syncCampaignCounters() {
      const changed = num(one(await c.rows("dbo.sp_RefreshCampaignCounters", [], true), "sp_RefreshCampaignCounters"), "n");
      await c.rows("dbo.sp_RollupCampaignStats", [], true);
      return changed;
    },

    async getCampaignStatsSeries(campaignId, s) {
      try {
        const rows = await c.read("getCampaignStatsSeries", "dbo.sp_GetCampaignStatsSeries", [
          ["CampaignId", nv(100), campaignId],
          ["Interval", nv(10), s.interval],
          ["Since", sql.DateTime2, s.since],
          ["Until", sql.DateTime2, s.until],
        ]);
        return seriesFromRows(s, rows.map(statsRowFromRow));
      } catch (err) {
        if (err instanceof StoreError && err.code === "NOT_FOUND") return null;
        throw err;
      }
    },
  };
}
