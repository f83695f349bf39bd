// The redeem API's campaign lifecycle scenarios (list by state, edit, pause/resume, delete, expire),
// run by apiScenarios on every engine with its running server and checking client.
import { expect } from "chai";
import { KEYS, seedCampaign, unique } from "./helpers.ts";
import type { ScenarioContext } from "./scenarios-redemption.ts";

const DAY = 86_400_000;

export function lifecycleScenarios(ctx: ScenarioContext): void {
  const { redeem } = ctx;
  const patch = (campaignId: string, body: unknown, key: string = KEYS.admin) =>
    ctx.api.call("PATCH", `/v1/campaigns/${encodeURIComponent(campaignId)}`, { key, body });

  describe("campaign lifecycle", () => {
    it("When campaigns are listed by state, then each page holds only that state and the cursor pages through all", async () => {
      const paused = await seedCampaign(ctx.store, { codes: [], isActive: false });
      const upcoming = await seedCampaign(ctx.store, { codes: [], startDate: new Date(Date.now() + DAY) });
      const onlyPaused = await ctx.api.get("/v1/campaigns?state=paused&limit=1000", KEYS.reader);
      expect(onlyPaused.status).to.equal(200);
      const ids = onlyPaused.body.campaigns.map((c: { campaignId: string }) => c.campaignId);
      expect(ids).to.include(paused).and.not.include(upcoming);
      expect(onlyPaused.body.campaigns.every((c: { state: string }) => c.state === "paused")).to.equal(true);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await ctx.api.get(`/v1/campaigns?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, KEYS.reader);
        expect(page.status).to.equal(200);
        seen.push(...page.body.campaigns.map((c: { campaignId: string }) => c.campaignId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).to.include.members([paused, upcoming]);
      expect(new Set(seen).size).to.equal(seen.length);
      const bad = await ctx.api.get("/v1/campaigns?state=gone", KEYS.reader);
      expect(bad.status).to.equal(400);
    });

    it("When an admin pauses a campaign, then a redemption is refused CAMPAIGN_INACTIVE until it is resumed", async () => {
      const [a, b] = [unique("pa"), unique("pb")];
      const campaignId = await seedCampaign(ctx.store, { codes: [a, b] });
      const paused = await patch(campaignId, { isActive: false });
      expect(paused.status).to.equal(200);
      expect(paused.body.isActive).to.equal(false);
      const refused = await redeem(a, "alice");
      expect(refused.status).to.equal(422);
      expect(refused.body.code).to.equal("CAMPAIGN_INACTIVE");
      expect((await patch(campaignId, { isActive: true })).body.isActive).to.equal(true);
      expect((await redeem(b, "alice")).status).to.equal(200);
      expect((await patch(campaignId, { isActive: false }, KEYS.reader)).status).to.equal(403);
    });

    it("When an edit would break a rule, then it is refused naming it and nothing changes", async () => {
      const [a, b] = [unique("la"), unique("lb")];
      const campaignId = await seedCampaign(ctx.store, { codes: [a, b], maxTotalRedemptions: 5 });
      expect((await redeem(a, "bob")).status).to.equal(200);
      expect((await redeem(b, "bea")).status).to.equal(200);
      const below = await patch(campaignId, { maxTotalRedemptions: 1 });
      expect(below.status).to.equal(409);
      expect(below.body.detail).to.match(/maxTotalRedemptions 1 is below the 2 redemptions/);
      expect((await patch(campaignId, { maxTotalRedemptions: 2 })).body.maxTotalRedemptions).to.equal(2);
      const refused = await patch(campaignId, { endDate: new Date(Date.now() - 10 * DAY).toISOString() });
      expect(refused.status).to.equal(400);
      expect(refused.body.detail).to.match(/endDate must be after startDate/);
      const empty = await patch(campaignId, {});
      expect(empty.status).to.equal(400);
      const renamed = await patch(campaignId, { name: "Renamed", discountAmount: 5 });
      expect(renamed.body).to.include({ name: "Renamed", discountAmount: 5, discountPercentage: null, maxTotalRedemptions: 2 });
      expect((await patch("NO-SUCH-CAMPAIGN", { name: "x" })).status).to.equal(404);
    });

    it("When an admin deletes a campaign, then redemptions need force=true and the campaign is gone after", async () => {
      const [a, b] = [unique("da"), unique("db")];
      const campaignId = await seedCampaign(ctx.store, { codes: [a, b] });
      expect((await redeem(a, "carol")).status).to.equal(200);
      const refused = await ctx.api.delete(`/v1/campaigns/${campaignId}`);
      expect(refused.status).to.equal(409);
      expect(refused.body.detail).to.match(/has 1 redemptions/);
      const forced = await ctx.api.delete(`/v1/campaigns/${campaignId}?force=true`);
      expect(forced.status).to.equal(200);
      expect(forced.body).to.deep.equal({ campaignId, deletedCoupons: 2, deletedRequests: 1 });
      expect((await ctx.api.get(`/v1/campaigns/${campaignId}`, KEYS.reader)).status).to.equal(404);
      expect((await ctx.api.get(`/v1/coupons/${b}`, KEYS.reader)).status).to.equal(404);
    });

    it("When coupons are expired by code, request and campaign, then each answers its count and the code is refused COUPON_EXPIRED", async () => {
      const codes = [unique("ea"), unique("eb"), unique("ec")];
      const campaignId = await seedCampaign(ctx.store, { codes });
      const [request] = await ctx.store.listGenerationRequests({ campaignId });
      expect((await redeem(codes[2] as string, "dave")).status).to.equal(200);
      const one = await ctx.api.post(`/v1/coupons/${(codes[0] as string).toLowerCase()}/expire`, undefined);
      expect(one.status).to.equal(200);
      expect(one.body).to.deep.equal({ expired: 1 });
      const refused = await redeem(codes[0] as string, "dave");
      expect(refused.body.code).to.equal("COUPON_EXPIRED");
      const byRequest = await ctx.api.post(`/v1/generation-requests/${request?.requestId}/expire`, undefined);
      expect(byRequest.body).to.deep.equal({ expired: 1 });
      const byCampaign = await ctx.api.post(`/v1/campaigns/${campaignId}/expire`, undefined);
      expect(byCampaign.status).to.equal(200);
      expect(byCampaign.body).to.deep.equal({ expired: 0 });
      expect((await ctx.api.get(`/v1/coupons/${codes[2]}`, KEYS.reader)).body.status).to.equal("redeemed");
      expect((await ctx.api.post("/v1/coupons/NO-SUCH-CODE/expire", undefined)).status).to.equal(404);
    });
  });
}
