// The redemption invariants, read straight from the tables with pg (not through the store under test),
// in one read-only snapshot: the check writes nothing and calls no procedure. Per campaign, four
// quantities that different writes maintain are counted independently and must agree: coupons marked
// redeemed (Coupons), successful history rows (RedemptionHistory), the counter slots
// (CampaignCounterSlots) and the users' counts (UserRedemptions). No limit passed; no coupon redeemed
// twice. The seed's Campaigns.CurrentRedemptions is a snapshot only sp_SyncCampaignCounters writes,
// so it is not compared (syncing it first and comparing it with the slots would prove nothing).
import { withPg } from "./support.ts";

export type CampaignTally = {
  campaignId: string;
  redeemedCoupons: number;
  successRows: number;
  slotSum: number;
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

/** The four independent counts of one campaign, in words, when they are not all equal. */
export function tallyDisagreement(t: CampaignTally): string | null {
  const counts = [t.redeemedCoupons, t.successRows, t.slotSum, t.userSum];
  if (new Set(counts).size === 1) return null;
  return (
    `campaign ${t.campaignId}: redeemed coupons ${t.redeemedCoupons}, successful history rows ${t.successRows}, ` +
    `counter slots ${t.slotSum}, sum of UserRedemptions ${t.userSum}`
  );
}

export async function checkInvariants(url: string, campaignIds?: string[]): Promise<InvariantReport> {
  return withPg(url, async (c) => {
    const only = campaignIds ? "WHERE c.CampaignId = ANY($1)" : "";
    const params = campaignIds ? [campaignIds] : [];
    // one consistent snapshot for every count below, and PostgreSQL refuses any write in it
    await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const tallies = (
        await c.query(
          `SELECT c.CampaignId AS "campaignId",
              (SELECT count(*) FROM Coupons k WHERE k.CampaignId = c.CampaignId AND k.IsRedeemed)::int AS "redeemedCoupons",
              (SELECT count(*) FROM RedemptionHistory h WHERE h.CampaignId = c.CampaignId AND h.Success)::int AS "successRows",
              (SELECT coalesce(sum(s.Redemptions), 0) FROM CampaignCounterSlots s WHERE s.CampaignId = c.CampaignId)::int AS "slotSum",
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
        const disagreement = tallyDisagreement(t);
        if (disagreement) disagreements.push(disagreement);
        const most = Math.max(t.redeemedCoupons, t.successRows, t.slotSum, t.userSum);
        if (t.maxTotal !== null && most > t.maxTotal) overruns.push(`campaign ${t.campaignId}: ${most} > ${t.maxTotal}`);
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
    } finally {
      await c.query("ROLLBACK");
    }
  });
}
