// The PostgreSQL family's statistics calls (issue 14; database/postgres/R__0600_statistics.sql), used
// by SqlEngine (sql-store.ts) over its query functions. Inputs arrive checked (store.ts).
import type { StatsSeries } from "./contract.ts";
import { StoreError } from "./contract.ts";
import { one } from "./results.ts";
import type { Row } from "./rows.ts";
import { type CheckedStatsSeries, seriesFromRows, statsRowFromRow } from "./statistics.ts";

type Query = (text: string, params?: readonly unknown[]) => Promise<Row[]>;
type Read = (method: string, text: string, params?: readonly unknown[]) => Promise<Row[]>;

/** CurrentRedemptions from the slot sums where they differ, then the hourly rollup; returns how many
 *  campaigns' counts changed. */
export async function syncCounters(q: Query): Promise<number> {
  const changed = Number(one(await q("SELECT sp_RefreshCampaignCounters() AS n"), "sp_RefreshCampaignCounters").n);
  await q("SELECT sp_RollupCampaignStats() AS n");
  return changed;
}

/** The campaign's series (an analytics read), or null for an unknown campaign. */
export async function statsSeries(read: Read, campaignId: string, c: CheckedStatsSeries): Promise<StatsSeries | null> {
  try {
    const rows = await read("getCampaignStatsSeries", "SELECT * FROM sp_GetCampaignStatsSeries($1,$2,$3,$4)", [
      campaignId,
      c.interval,
      c.since,
      c.until,
    ]);
    return seriesFromRows(c, rows.map(statsRowFromRow));
  } catch (err) {
    if (err instanceof StoreError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}
