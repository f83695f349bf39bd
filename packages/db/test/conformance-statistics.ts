// Conformance cases of campaign statistics (issue 14: the CurrentRedemptions refresh, counts over
// time), run inside conformanceSuite on every engine.
import { expect } from "chai";
import type { CouponStore, StatsPoint } from "../src/index.ts";
import { expectStoreError, makeCampaign, makeCoupons } from "./conformance.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let seq = 0;
const codes = (n: number) => {
  const p = `ST${process.pid}X${++seq}X`;
  return Array.from({ length: n }, (_, i) => `${p}${i}`);
};
const total = (points: StatsPoint[], f: (p: StatsPoint) => number) => points.reduce((n, p) => n + f(p), 0);

export function statisticsCases(getStore: () => CouponStore): void {
  describe("campaign statistics", () => {
    it("counts redemptions and refusals by reason per hour and per day, every bucket present and zero-filled, oldest first", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxTotal: 2 });
      const list = codes(4);
      await makeCoupons(store, id, list);
      const before = new Date(Date.now() - 1000);
      for (const [i, code] of list.entries()) await store.redeemCoupon({ code, userId: `st-${seq}-${i}` }); // 2 ok, 2 over the cap
      await store.redeemCoupon({ code: list[0] as string, userId: "late" }); // ALREADY_REDEEMED
      await store.redeemCoupon({ code: `${list[0]}NOPE`, userId: "guess" }); // no campaign: not counted for it
      const after = new Date(Date.now() + 1000);

      const hourly = await store.getCampaignStatsSeries(id, { interval: "hour" });
      expect(hourly?.interval).to.equal("hour");
      expect(hourly?.until.getTime()).to.be.at.least(after.getTime() - 1000);
      expect((hourly?.until.getTime() ?? 0) - (hourly?.since.getTime() ?? 0)).to.equal(48 * HOUR);
      const points = hourly?.points ?? [];
      // by default the window ends with the current hour, whole (the database's clock may run a little ahead)
      expect((hourly?.until.getTime() ?? 1) % HOUR, "until is a whole hour").to.equal(0);
      expect(hourly?.until.getTime()).to.be.within(Date.now(), Date.now() + HOUR);
      expect(points.length).to.equal(48);
      for (const [i, p] of points.entries()) {
        expect(p.start.getTime() % HOUR, "a whole hour").to.equal(0);
        if (i > 0) expect(p.start.getTime() - (points[i - 1] as StatsPoint).start.getTime()).to.equal(HOUR);
        expect(p.reversals).to.equal(0);
      }
      expect(total(points, (p) => p.redemptions)).to.equal(2);
      const busy = points.filter((p) => p.redemptions > 0 || Object.keys(p.refusals).length > 0);
      expect(busy.length).to.be.oneOf([1, 2]); // an hour may turn while the attempts are made
      const refusals: Record<string, number> = {};
      for (const p of busy) for (const [k, v] of Object.entries(p.refusals)) refusals[k] = (refusals[k] ?? 0) + (v ?? 0);
      expect(refusals).to.deep.equal({ CAMPAIGN_LIMIT_REACHED: 2, ALREADY_REDEEMED: 1 });
      for (const p of points.filter((x) => !busy.includes(x))) expect(p).to.deep.include({ redemptions: 0, reversals: 0 });
      for (const p of points.filter((x) => !busy.includes(x))) expect(p.refusals).to.deep.equal({});

      // day buckets over an explicit window: exactly the buckets that window touches
      const since = new Date(Math.floor(before.getTime() / DAY) * DAY - 2 * DAY);
      const daily = await store.getCampaignStatsSeries(id, { interval: "day", since, until: after });
      expect(daily?.points[0]?.start.toISOString()).to.equal(since.toISOString());
      expect(daily?.points.length).to.equal(Math.ceil((after.getTime() - since.getTime()) / DAY));
      expect(total(daily?.points ?? [], (p) => p.redemptions)).to.equal(2);

      // a window that ends before the attempts counts none of them
      const earlier = await store.getCampaignStatsSeries(id, {
        interval: "hour",
        since: new Date(before.getTime() - 5 * HOUR),
        until: before,
      });
      expect(total(earlier?.points ?? [], (p) => p.redemptions + Object.keys(p.refusals).length)).to.equal(0);
    });

    it("counts a reversal in the bucket of its time, beside the redemption it reverses", async () => {
      const store = getStore();
      const id = await makeCampaign(store, {});
      const list = codes(2);
      await makeCoupons(store, id, list);
      const redeemed = await store.redeemCoupon({ code: list[0] as string, userId: `st-rev-${seq}` });
      await store.redeemCoupon({ code: list[1] as string, userId: `st-rev-${seq}` });
      if (!redeemed.ok || redeemed.redemptionId === null) throw new Error("the redemption was refused");
      await store.reverseRedemption({ redemptionId: redeemed.redemptionId, reason: "order cancelled" });
      const daily = await store.getCampaignStatsSeries(id, { interval: "day" });
      expect(total(daily?.points ?? [], (p) => p.reversals)).to.equal(1);
      expect(total(daily?.points ?? [], (p) => p.redemptions)).to.equal(2);
      const hourly = await store.getCampaignStatsSeries(id, { interval: "hour" });
      const withReversal = (hourly?.points ?? []).filter((p) => p.reversals > 0);
      expect(withReversal.length).to.equal(1);
      const start = withReversal[0]?.start.getTime() ?? 0;
      expect(start % HOUR, "a whole hour").to.equal(0);
      expect(Date.now() - start, "the hour now (or the one before, if it turned)").to.be.within(0, 2 * HOUR);
    });

    it("answers null for an unknown campaign and refuses a bad interval, an empty window or more than 1000 buckets, naming the problem", async () => {
      const store = getStore();
      expect(await store.getCampaignStatsSeries("no-such-campaign", { interval: "day" })).to.equal(null);
      const id = await makeCampaign(store);
      await expectStoreError(
        store.getCampaignStatsSeries(id, { interval: "week" as "day" }),
        "INVALID_INPUT",
        /interval must be one of hour, day/,
      );
      const t = new Date();
      await expectStoreError(
        store.getCampaignStatsSeries(id, { interval: "hour", since: t, until: t }),
        "INVALID_INPUT",
        /must be before until/,
      );
      await expectStoreError(
        store.getCampaignStatsSeries(id, { interval: "hour", since: new Date(t.getTime() - 60 * DAY) }),
        "INVALID_INPUT",
        /makes 14\d\d buckets; at most 1000/,
      );
      const sixty = await store.getCampaignStatsSeries(id, { interval: "day", since: new Date(t.getTime() - 60 * DAY) });
      expect(sixty?.points.length).to.be.oneOf([60, 61]);
    });

    it("refreshes the seed's CurrentRedemptions column only where it differs from the slot sum", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a, b] = codes(2) as [string, string];
      await makeCoupons(store, id, [a, b]);
      await store.redeemCoupon({ code: a, userId: "sync-1" });
      expect(await store.syncCampaignCounters()).to.be.at.least(1);
      expect(await store.syncCampaignCounters(), "nothing differs any more").to.equal(0);
      await store.redeemCoupon({ code: b, userId: "sync-2" });
      expect(await store.syncCampaignCounters()).to.be.at.least(1);
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(2);
    });
  });
}
