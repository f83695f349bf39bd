// The invariant check itself: it must see each count go wrong on its own (the four counts are
// independent), and it must not write (a check that syncs a counter first can hide what it checks).
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { seedCampaign } from "../../apps/redeem-api/test/helpers.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../packages/db/test/support.ts";
import { checkInvariants } from "./invariants.ts";
import { changedTables, snapshot, withPg } from "./support.ts";

describePostgres("faults: the invariant check", () => {
  let db: TestDatabase;
  let store: CouponStore;
  let campaignId: string;
  beforeEach(async () => {
    db = await createPostgresDatabase();
    store = await openStore(db.url);
    campaignId = await seedCampaign(store, { codes: ["INV-A", "INV-B", "INV-C"], maxTotalRedemptions: 2 });
    for (const [code, userId] of [
      ["INV-A", "u1"],
      ["INV-B", "u2"],
    ] as const)
      expect((await store.redeemCoupon({ code, userId })).ok, code).to.equal(true);
  });
  afterEach(async () => {
    await store?.close();
    await db?.drop();
  });

  it("When every redemption went through the store, then the four counts agree at 2, nothing is reported, and no table changes", async () => {
    const before = await snapshot(db.url);
    const report = await checkInvariants(db.url, [campaignId]);
    expect(report.tallies).to.have.length(1);
    expect(report.tallies[0]).to.include({ redeemedCoupons: 2, successRows: 2, slotSum: 2, userSum: 2 });
    expect(report).to.deep.include({ disagreements: [], overruns: [], doubleRedemptions: [] });
    expect(changedTables(before, await snapshot(db.url)), "tables written by the check").to.deep.equal({});
  });

  const tamper: [string, string, RegExp][] = [
    [
      "a coupon is marked redeemed behind the store's back",
      "UPDATE Coupons SET IsRedeemed = true, RedeemedBy = 'u3', RedeemedAt = now() WHERE CouponCode = 'INV-C'",
      /redeemed coupons 3, successful history rows 2/,
    ],
    [
      "a counter slot is bumped alone",
      "UPDATE CampaignCounterSlots SET Redemptions = Redemptions + 1, Budget = CASE WHEN Budget IS NULL THEN NULL ELSE greatest(Budget, Redemptions + 1) END WHERE CampaignId = $1 AND Slot = (SELECT min(Slot) FROM CampaignCounterSlots WHERE CampaignId = $1)",
      /counter slots 3/,
    ],
    [
      "a user's count is bumped alone",
      "UPDATE UserRedemptions SET RedemptionCount = RedemptionCount + 1 WHERE CampaignId = $1 AND UserId = 'u1'",
      /sum of UserRedemptions 3/,
    ],
    [
      "a successful history row is deleted",
      "DELETE FROM RedemptionHistory WHERE CampaignId = $1 AND CouponCode = 'INV-A'",
      /successful history rows 1/,
    ],
  ];
  for (const [what, sql, says] of tamper) {
    it(`When ${what}, then the check reports the disagreement naming the counts`, async () => {
      await withPg(db.url, (c) => c.query(sql, sql.includes("$1") ? [campaignId] : []));
      const report = await checkInvariants(db.url, [campaignId]);
      expect(report.disagreements.join("\n")).to.match(says);
    });
  }

  it("When a campaign holds more redemptions than its total limit, then the check reports the overrun", async () => {
    await withPg(db.url, (c) => c.query("UPDATE Campaigns SET MaxTotalRedemptions = 1 WHERE CampaignId = $1", [campaignId]));
    expect((await checkInvariants(db.url, [campaignId])).overruns).to.deep.equal([`campaign ${campaignId}: 2 > 1`]);
  });
});
