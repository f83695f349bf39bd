// The redemption invariants, read straight from the tables with pg (not through the store under test):
// per campaign, redeemed coupons = successful history rows = the counter (slots, and the seed's
// CurrentRedemptions column once synced) = the sum of the users' counts; no limit passed; no coupon
// redeemed twice.
import { withPg } from "./support.ts";

export type CampaignTally = {
  campaignId: string;
  redeemedCoupons: number;
  successRows: number;
  slotSum: number;
  currentRedemptions: number;
  userSum: number;
  maxTotal: number | null;
  maxPerUser: number | null;
};

export type InvariantReport = {
  tallies: CampaignTally[];
  /** Coupons with more than one successful history row. */
  doubleRedemptions: { couponCode: string; successes: number }[];
  /** Campaigns past their total limit, users past their per-user limit. */
  overruns: string[];
  /** Every disagreement between the counts, in words. */
  disagreements: string[];
};

export async function checkInvariants(url: string, campaignIds?: string[]): Promise<InvariantReport> {
  return withPg(url, async (c) => {
    const only = campaignIds ? "WHERE c.CampaignId = ANY($1)" : "";
    const params = campaignIds ? [campaignIds] : [];
    // refresh the seed's snapshot column from the live counter first
    await c.query(`SELECT sp_SyncCampaignCounters(c.CampaignId) FROM Campaigns c ${only}`, params);
    const tallies = (
      await c.query(
        `SELECT c.CampaignId AS "campaignId",
            (SELECT count(*) FROM Coupons k WHERE k.CampaignId = c.CampaignId AND k.IsRedeemed)::int AS "redeemedCoupons",
            (SELECT count(*) FROM RedemptionHistory h WHERE h.CampaignId = c.CampaignId AND h.Success)::int AS "successRows",
            (SELECT coalesce(sum(s.Redemptions), 0) FROM CampaignCounterSlots s WHERE s.CampaignId = c.CampaignId)::int AS "slotSum",
            c.CurrentRedemptions AS "currentRedemptions",
            (SELECT coalesce(sum(u.RedemptionCount), 0) FROM UserRedemptions u WHERE u.CampaignId = c.CampaignId)::int AS "userSum",
            c.MaxTotalRedemptions AS "maxTotal", c.MaxRedemptionsPerUser AS "maxPerUser"
         FROM Campaigns c ${only} ORDER BY c.CampaignId`,
        params,
      )
    ).rows as CampaignTally[];
    const doubles = (
      await c.query(
        `SELECT h.CouponCode AS "couponCode", count(*)::int AS successes FROM RedemptionHistory h
         WHERE h.Success ${campaignIds ? "AND h.CampaignId = ANY($1)" : ""}
         GROUP BY h.CouponCode HAVING count(*) > 1`,
        params,
      )
    ).rows as { couponCode: string; successes: number }[];
    const overruns: string[] = [];
    const disagreements: string[] = [];
    for (const t of tallies) {
      const counts = [t.redeemedCoupons, t.successRows, t.slotSum, t.currentRedemptions, t.userSum];
      if (new Set(counts).size !== 1) {
        disagreements.push(
          `campaign ${t.campaignId}: redeemed coupons ${t.redeemedCoupons}, successful history rows ${t.successRows}, ` +
            `counter slots ${t.slotSum}, CurrentRedemptions ${t.currentRedemptions}, sum of UserRedemptions ${t.userSum}`,
        );
      }
      if (t.maxTotal !== null && Math.max(...counts) > t.maxTotal)
        overruns.push(`campaign ${t.campaignId}: ${Math.max(...counts)} > ${t.maxTotal}`);
    }
    const users = (
      await c.query(
        `SELECT u.CampaignId AS "campaignId", u.UserId AS "userId", u.RedemptionCount AS "count", c.MaxRedemptionsPerUser AS "max",
            (SELECT count(*) FROM Coupons k WHERE k.CampaignId = u.CampaignId AND k.RedeemedBy = u.UserId AND k.IsRedeemed)::int AS "coupons"
         FROM UserRedemptions u JOIN Campaigns c ON c.CampaignId = u.CampaignId ${only}`,
        params,
      )
    ).rows as { campaignId: string; userId: string; count: number; max: number | null; coupons: number }[];
    for (const u of users) {
      if (u.max !== null && Math.max(u.count, u.coupons) > u.max)
        overruns.push(`user ${u.userId} in ${u.campaignId}: ${u.count} > ${u.max}`);
      if (u.count !== u.coupons)
        disagreements.push(`user ${u.userId} in ${u.campaignId}: count ${u.count}, coupons redeemed by them ${u.coupons}`);
    }
    const orphans = (
      await c.query(
        `SELECT count(*)::int AS n FROM Coupons k WHERE k.IsRedeemed AND (k.RedeemedBy IS NULL OR k.RedeemedAt IS NULL)
         ${campaignIds ? "AND k.CampaignId = ANY($1)" : ""}`,
        params,
      )
    ).rows[0].n as number;
    if (orphans > 0) disagreements.push(`${orphans} redeemed coupons without RedeemedBy/RedeemedAt`);
    return { tallies, doubleRedemptions: doubles, overruns, disagreements };
  });
}
