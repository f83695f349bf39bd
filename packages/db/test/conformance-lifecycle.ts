// Conformance cases of a campaign's lifecycle (issue 14: list, edit, pause/resume, delete, expire),
// run inside conformanceSuite on every engine.
import { expect } from "chai";
import type { CouponStore, ListedCampaign } from "../src/index.ts";
import { expectStoreError, makeCampaign, makeCoupons } from "./conformance.ts";

const DAY = 86_400_000;
let seq = 0;
const codes = (n: number) => {
  const p = `LC${process.pid}X${++seq}X`;
  return Array.from({ length: n }, (_, i) => `${p}${i}`);
};

async function redeemAll(store: CouponStore, list: string[], user = (i: number) => `lc-user-${seq}-${i}`) {
  return Promise.all(list.map((code, i) => store.redeemCoupon({ code, userId: user(i) })));
}

export function lifecycleCases(getStore: () => CouponStore): void {
  describe("campaign lifecycle", () => {
    it("pauses a campaign so the next redemption is refused CAMPAIGN_INACTIVE, and resumes it", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a, b] = codes(2) as [string, string];
      await makeCoupons(store, id, [a, b]);
      const paused = await store.updateCampaign(id, { isActive: false });
      expect(paused.isActive).to.equal(false);
      expect(await store.redeemCoupon({ code: a, userId: "u1" })).to.deep.include({ ok: false, reason: "CAMPAIGN_INACTIVE" });
      expect((await store.updateCampaign(id, { isActive: true })).isActive).to.equal(true);
      expect(await store.redeemCoupon({ code: b, userId: "u1" })).to.deep.include({ ok: true });
    });

    it("edits name, description, dates and discount, switching the discount kind", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const end = new Date(Date.now() + 10 * DAY);
      const c = await store.updateCampaign(id, { name: "Renamed", description: null, endDate: end, discountAmount: 7.5 });
      expect(c).to.include({ name: "Renamed", description: null, discountAmount: 7.5, discountPercentage: null });
      expect(c.endDate.toISOString()).to.equal(end.toISOString());
      expect(await store.getCampaign(id)).to.deep.equal(c);
    });

    it("refuses an end before the start, two discounts, no discount, an unknown field and an unknown campaign", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      await expectStoreError(
        store.updateCampaign(id, { endDate: new Date(Date.now() - 5 * DAY) }),
        "INVALID_INPUT",
        /endDate must be after startDate/,
      );
      await expectStoreError(store.updateCampaign(id, { discountAmount: 1, discountPercentage: 2 }), "INVALID_INPUT", /exactly one/);
      await expectStoreError(store.updateCampaign(id, { discountPercentage: null }), "INVALID_INPUT", /exactly one/);
      await expectStoreError(store.updateCampaign(id, { createdBy: "x" } as never), "INVALID_INPUT", /cannot change createdBy/);
      await expectStoreError(store.updateCampaign("no-such-campaign", { name: "x" }), "NOT_FOUND");
      expect((await store.getCampaign(id))?.discountPercentage).to.equal(15);
    });

    it("refuses a total limit below the redemptions already made, naming both numbers", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxTotal: 10 });
      const list = codes(3);
      await makeCoupons(store, id, list);
      await redeemAll(store, list);
      await expectStoreError(
        store.updateCampaign(id, { maxTotalRedemptions: 2 }),
        "CONFLICT",
        /maxTotalRedemptions 2 is below the 3 redemptions/,
      );
      expect((await store.updateCampaign(id, { maxTotalRedemptions: 3 })).maxTotalRedemptions).to.equal(3);
    });

    it("holds a lowered and then a raised total limit exactly under concurrent redemptions", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxTotal: 100 });
      const list = codes(70);
      await makeCoupons(store, id, list);
      await redeemAll(store, list.slice(0, 5));
      await store.updateCampaign(id, { maxTotalRedemptions: 10 });
      const lowered = await redeemAll(store, list.slice(5, 55));
      expect(lowered.filter((r) => r.ok).length).to.equal(5);
      expect(lowered.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "CAMPAIGN_LIMIT_REACHED")).to.equal(true);
      await store.updateCampaign(id, { maxTotalRedemptions: 20 });
      const raised = await redeemAll(store, list.slice(55));
      expect(raised.filter((r) => r.ok).length).to.equal(10);
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(20);
      expect((await store.getRedemptionStats(id))?.redeemedCoupons).to.equal(20);
      await store.updateCampaign(id, { maxTotalRedemptions: null });
      const left = list.slice(55).filter((_, i) => !raised[i]?.ok);
      expect((await redeemAll(store, left, (i) => `unlimited-${i}`)).every((r) => r.ok)).to.equal(true);
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(25);
    });

    it("never passes a total limit lowered while 50 redemptions race it", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxTotal: 100 });
      const list = codes(50);
      await makeCoupons(store, id, list);
      const racing = redeemAll(store, list);
      const lowered = await store.updateCampaign(id, { maxTotalRedemptions: 10 }).then(
        () => true,
        (err: unknown) => {
          expect(String(err)).to.match(/is below the \d+ redemptions/);
          return false;
        },
      );
      const results = await racing;
      const ok = results.filter((r) => r.ok).length;
      const campaign = await store.getCampaign(id);
      expect(campaign?.currentRedemptions).to.equal(ok);
      expect((await store.getRedemptionStats(id))?.redeemedCoupons).to.equal(ok);
      expect(ok).to.be.at.most(lowered ? 10 : 50);
      expect(campaign?.maxTotalRedemptions).to.equal(lowered ? 10 : 100);
    });

    it("lists campaigns by state with paging by campaignId", async () => {
      const store = getStore();
      const active = await makeCampaign(store);
      const paused = await makeCampaign(store, { isActive: false });
      const upcoming = await makeCampaign(store, { startDate: new Date(Date.now() + DAY), endDate: new Date(Date.now() + 2 * DAY) });
      const ended = await makeCampaign(store, { startDate: new Date(Date.now() - 2 * DAY), endDate: new Date(Date.now() - DAY) });
      const all: ListedCampaign[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listCampaigns({ limit: 2, ...(after ? { after } : {}) });
        all.push(...page);
        if (page.length < 2) break;
        after = page[page.length - 1]?.campaignId;
      }
      const ids = all.map((c) => c.campaignId);
      expect(ids).to.deep.equal([...ids].sort());
      expect(new Set(ids).size).to.equal(ids.length);
      const state = (id: string) => all.find((c) => c.campaignId === id)?.state;
      expect([state(active), state(paused), state(upcoming), state(ended)]).to.deep.equal(["active", "paused", "upcoming", "ended"]);
      const pausedOnly = await store.listCampaigns({ state: "paused", limit: 1000 });
      expect(pausedOnly.map((c) => c.campaignId))
        .to.include(paused)
        .and.not.include(active);
      expect(pausedOnly.every((c) => c.state === "paused")).to.equal(true);
      await expectStoreError(store.listCampaigns({ state: "gone" as never }), "INVALID_INPUT", /state must be one of/);
    });

    it("deletes a campaign without redemptions with its coupons and requests", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const list = codes(3);
      const requestId = await makeCoupons(store, id, list);
      expect(await store.deleteCampaign(id)).to.deep.equal({ campaignId: id, deletedCoupons: 3, deletedRequests: 1 });
      expect(await store.getCampaign(id)).to.equal(null);
      expect(await store.getCouponDetails(list[0] as string)).to.equal(null);
      expect(await store.getGenerationRequest(requestId)).to.equal(null);
      await expectStoreError(store.deleteCampaign(id), "NOT_FOUND");
    });

    it("refuses to delete a campaign with redemptions unless forced", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const list = codes(2);
      await makeCoupons(store, id, list);
      await store.redeemCoupon({ code: list[0] as string, userId: "u" });
      await expectStoreError(store.deleteCampaign(id), "CONFLICT", /has 1 redemptions/);
      expect(await store.getCampaign(id)).to.not.equal(null);
      expect(await store.deleteCampaign(id, { force: true })).to.include({ deletedCoupons: 2 });
      expect(await store.getCampaign(id)).to.equal(null);
    });

    it("refuses to delete a campaign while a worker holds one of its generation requests", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const req = await store.createGenerationRequest({ campaignId: id, requestedAmount: 5, prefix: "", codeLength: 8 });
      const claim = await store.claimGenerationRequest(req.requestId, "lc-worker");
      try {
        await expectStoreError(store.deleteCampaign(id, { force: true }), "CONFLICT", /being generated/);
      } finally {
        await claim.release();
      }
      expect(await store.deleteCampaign(id)).to.include({ deletedRequests: 1 });
    });

    it("expires by code, request and campaign, counting only unredeemed coupons and leaving redeemed ones", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const first = codes(3);
      const second = codes(4);
      const r1 = await makeCoupons(store, id, first);
      await makeCoupons(store, id, second);
      await store.redeemCoupon({ code: first[1] as string, userId: "u" });
      await store.redeemCoupon({ code: second[0] as string, userId: "u" });
      expect(await store.expireCoupons({ code: (first[0] as string).toLowerCase() })).to.equal(1);
      expect(await store.redeemCoupon({ code: first[0] as string, userId: "v" })).to.deep.include({ ok: false, reason: "COUPON_EXPIRED" });
      expect(await store.expireCoupons({ requestId: r1 })).to.equal(1); // first[2]; first[0] expired already, first[1] redeemed
      expect(await store.expireCoupons({ campaignId: id })).to.equal(3); // second[1..3]
      expect(await store.expireCoupons({ campaignId: id })).to.equal(0);
      const redeemed = await store.getCouponDetails(second[0] as string);
      expect(redeemed).to.include({ status: "redeemed", expiresAt: null });
      expect((await store.getRedemptionStats(id))?.expiredCoupons).to.equal(5);
      await expectStoreError(store.expireCoupons({ code: "NO-SUCH-CODE" }), "NOT_FOUND");
      await expectStoreError(store.expireCoupons({ requestId: "no-such-request" }), "NOT_FOUND");
      await expectStoreError(store.expireCoupons({ code: "A", campaignId: id } as never), "INVALID_INPUT", /exactly one/);
    });
  });
}
