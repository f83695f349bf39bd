// The loops every engine runs the same way around its own procedure call: keyset pages of codes for
// export, and purges repeated until a batch comes back short.
import type { ExportRow } from "./contract.ts";
import { type Row, date, dateOrNull, str, strOrNull } from "./rows.ts";

export const EXPORT_PAGE = 10_000;
/** Batch size of purges: small enough to hold few locks at once. */
export const PURGE_BATCH = 5_000;

/** Codes in CouponId order, one page of EXPORT_PAGE at a time after the last id seen. */
export async function* exportPages(fetchPage: (afterCouponId: string, limit: number) => Promise<Row[]>): AsyncIterable<ExportRow> {
  let after = "0";
  for (;;) {
    const rows = await fetchPage(after, EXPORT_PAGE);
    for (const r of rows) {
      yield {
        couponCode: str(r, "CouponCode"),
        campaignId: str(r, "CampaignId"),
        expiresAt: dateOrNull(r, "ExpiresAt"),
        generationBatchId: strOrNull(r, "GenerationBatchId"),
        createdAt: date(r, "CreatedAt"),
      };
    }
    if (rows.length < EXPORT_PAGE) return;
    after = str(rows[rows.length - 1] as Row, "CouponId");
  }
}

/** Calls `purgeBatch(PURGE_BATCH)` until it deletes fewer than a batch; returns the total. */
export async function purgeInBatches(purgeBatch: (batchSize: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await purgeBatch(PURGE_BATCH);
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}
