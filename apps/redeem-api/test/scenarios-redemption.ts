// The redeem API's redemption scenarios (every refusal code, idempotency, validation), run by
// apiScenarios on every engine with its running server and checking client.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import type { ApiClient, ApiResponse } from "./helpers.ts";
import { KEYS, seedCampaign, unique } from "./helpers.ts";

const DAY = 86_400_000;

export type ScenarioContext = {
  readonly api: ApiClient;
  readonly store: CouponStore;
  redeem(
    code: string,
    userId: string,
    extra?: Record<string, unknown>,
    key?: string,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
};

export function redemptionScenarios(ctx: ScenarioContext): void {
  const { redeem } = ctx;
  describe("redemption and every refusal code", () => {
    it("When a user redeems an available coupon, then it answers 200 with the discount and records IP and user agent", async () => {
      const code = unique("ok");
      const campaignId = await seedCampaign(ctx.store, { codes: [code], discountPercentage: 12.5 });
      const r = await ctx.api.call("POST", "/v1/redemptions", {
        key: KEYS.shop,
        body: { code: code.toLowerCase(), userId: "alice" },
        headers: { "user-agent": "shop-service/1.0" },
      });
      expect(r.status).to.equal(200);
      expect(r.body).to.include({ redeemed: true, couponCode: code, campaignId, discountPercentage: 12.5, discountAmount: null });
      expect(r.headers.get("idempotent-replayed")).to.equal(null);
      const [attempt] = await ctx.store.listRedemptionAttempts({ couponCode: code });
      expect(attempt).to.include({ success: true, userId: "alice", ipAddress: "127.0.0.1", userAgent: "shop-service/1.0" });
    });

    it("When a service redeems on a user's behalf, then the body's IP and user agent are recorded", async () => {
      const code = unique("behalf");
      await seedCampaign(ctx.store, { codes: [code] });
      const r = await redeem(code, "bob", { ipAddress: "203.0.113.7", userAgent: "Mozilla/5.0 (phone)" });
      expect(r.status).to.equal(200);
      const [attempt] = await ctx.store.listRedemptionAttempts({ couponCode: code });
      expect(attempt).to.include({ ipAddress: "203.0.113.7", userAgent: "Mozilla/5.0 (phone)" });
    });

    it("When X-Forwarded-For is sent without a trusted proxy configured, then it is ignored", async () => {
      const code = unique("xff");
      await seedCampaign(ctx.store, { codes: [code] });
      await redeem(code, "carol", {}, KEYS.shop, { "x-forwarded-for": "198.51.100.1" });
      const [attempt] = await ctx.store.listRedemptionAttempts({ couponCode: code });
      expect(attempt?.ipAddress).to.equal("127.0.0.1");
    });

    it("When the code does not exist, then 404 COUPON_NOT_FOUND, and the attempt is logged", async () => {
      const code = unique("missing");
      const r = await redeem(code, "dave");
      expect(r.status).to.equal(404);
      expect(r.body).to.include({ code: "COUPON_NOT_FOUND", couponCode: code, campaignId: null });
      const [attempt] = await ctx.store.listRedemptionAttempts({ couponCode: code });
      expect(attempt).to.include({ success: false, failureReason: "COUPON_NOT_FOUND" });
    });

    it("When the campaign is inactive or not started, then 422 CAMPAIGN_INACTIVE", async () => {
      const off = unique("off");
      await seedCampaign(ctx.store, { codes: [off], isActive: false });
      const r = await redeem(off, "erin");
      expect(r.status).to.equal(422);
      expect(r.body.code).to.equal("CAMPAIGN_INACTIVE");
      const later = unique("later");
      await seedCampaign(ctx.store, { codes: [later], startDate: new Date(Date.now() + DAY) });
      expect((await redeem(later, "erin")).body.code).to.equal("CAMPAIGN_INACTIVE");
    });

    it("When the coupon was redeemed already, then 409 ALREADY_REDEEMED", async () => {
      const code = unique("twice");
      await seedCampaign(ctx.store, { codes: [code] });
      expect((await redeem(code, "frank")).status).to.equal(200);
      const r = await redeem(code, "grace");
      expect(r.status).to.equal(409);
      expect(r.body.code).to.equal("ALREADY_REDEEMED");
    });

    it("When the coupon has expired, then 422 COUPON_EXPIRED", async () => {
      const code = unique("old");
      await seedCampaign(ctx.store, { codes: [code], expirationDate: new Date(Date.now() - 1000) });
      const r = await redeem(code, "heidi");
      expect(r.status).to.equal(422);
      expect(r.body.code).to.equal("COUPON_EXPIRED");
    });

    it("When the coupon is assigned to another user, then 403 NOT_ASSIGNED_TO_USER; the assignee may redeem", async () => {
      const code = unique("mine");
      await seedCampaign(ctx.store, { codes: [code] });
      expect((await ctx.api.put(`/v1/coupons/${code}/assignment`, { userId: "ivan" })).status).to.equal(200);
      const r = await redeem(code, "judy");
      expect(r.status).to.equal(403);
      expect(r.body.code).to.equal("NOT_ASSIGNED_TO_USER");
      expect((await redeem(code, "ivan")).status).to.equal(200);
    });

    it("When the user reached the per-user limit, then 409 USER_LIMIT_REACHED", async () => {
      const [a, b] = [unique("pu1"), unique("pu2")];
      await seedCampaign(ctx.store, { codes: [a, b], maxRedemptionsPerUser: 1 });
      expect((await redeem(a, "ken")).status).to.equal(200);
      const r = await redeem(b, "ken");
      expect(r.status).to.equal(409);
      expect(r.body.code).to.equal("USER_LIMIT_REACHED");
    });

    it("When the campaign reached its total limit, then 409 CAMPAIGN_LIMIT_REACHED", async () => {
      const [a, b] = [unique("cap1"), unique("cap2")];
      await seedCampaign(ctx.store, { codes: [a, b], maxTotalRedemptions: 1 });
      expect((await redeem(a, "leo")).status).to.equal(200);
      const r = await redeem(b, "mia");
      expect(r.status).to.equal(409);
      expect(r.body.code).to.equal("CAMPAIGN_LIMIT_REACHED");
    });

    it("When many requests redeem one coupon at once, then exactly one succeeds", async () => {
      const code = unique("storm");
      await seedCampaign(ctx.store, { codes: [code] });
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => redeem(code, `storm-${i}`, { ipAddress: `10.0.0.${i}` })));
      expect(results.filter((r) => r.status === 200)).to.have.length(1);
      expect(results.filter((r) => r.status === 409 && r.body.code === "ALREADY_REDEEMED")).to.have.length(23);
    });

    it("When the body is invalid, then 400 VALIDATION_FAILED names the field", async () => {
      const r = await ctx.api.post("/v1/redemptions", { code: "X" }, KEYS.shop);
      expect(r.status).to.equal(400);
      expect(r.body.errors[0].field).to.equal("userId");
      expect(r.body.detail).to.match(/^userId: /);
      const ip = await redeem("X", "u", { ipAddress: "not-an-ip" });
      expect(ip.body.errors[0].field).to.equal("ipAddress");
      const long = await redeem("A".repeat(51), "u");
      expect(long.body.errors[0].field).to.equal("code");
    });
  });

  describe("idempotency", () => {
    it("When a redemption is retried with the same key and body, then the original outcome returns, marked as a replay", async () => {
      const code = unique("idem");
      await seedCampaign(ctx.store, { codes: [code] });
      const key = { "idempotency-key": unique("k") };
      const first = await redeem(code, "nina", {}, KEYS.shop, key);
      expect(first.status).to.equal(200);
      // the coupon is redeemed now; the retry still gets the original success
      const again = await ctx.api.call("POST", "/v1/redemptions", { key: KEYS.shop, body: { userId: "nina", code }, headers: key });
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers.get("idempotent-replayed")).to.equal("true");
      expect(await ctx.store.listRedemptionAttempts({ couponCode: code })).to.have.length(1);
    });

    it("When a refused redemption is retried with its key, then the same refusal returns, even if the coupon changed since", async () => {
      const code = unique("idem-ref");
      const key = { "idempotency-key": unique("k") };
      const first = await redeem(code, "olga", {}, KEYS.shop, key);
      expect(first.status).to.equal(404);
      await seedCampaign(ctx.store, { codes: [code] }); // the code exists now
      const again = await redeem(code, "olga", {}, KEYS.shop, key);
      expect(again.status).to.equal(404);
      expect(again.body.code).to.equal("COUPON_NOT_FOUND");
      expect(again.headers.get("idempotent-replayed")).to.equal("true");
    });

    it("When the same key comes with another body, then 422 IDEMPOTENCY_MISMATCH", async () => {
      const code = unique("idem-mm");
      await seedCampaign(ctx.store, { codes: [code] });
      const key = { "idempotency-key": unique("k") };
      expect((await redeem(code, "pete", {}, KEYS.shop, key)).status).to.equal(200);
      const r = await redeem(code, "quinn", {}, KEYS.shop, key);
      expect(r.status).to.equal(422);
      expect(r.body.code).to.equal("IDEMPOTENCY_MISMATCH");
    });

    it("When two API keys use the same Idempotency-Key, then they do not share outcomes", async () => {
      const [a, b] = [unique("idem-a"), unique("idem-b")];
      await seedCampaign(ctx.store, { codes: [a, b] });
      const key = { "idempotency-key": unique("shared") };
      expect((await redeem(a, "rita", {}, KEYS.shop, key)).status).to.equal(200);
      const other = await redeem(b, "sam", {}, KEYS.other, key);
      expect(other.status).to.equal(200);
      expect(other.body.couponCode).to.equal(b);
    });

    it("When the Idempotency-Key is malformed, then 400 names the header", async () => {
      const r = await redeem("X", "u", {}, KEYS.shop, { "idempotency-key": "x".repeat(129) });
      expect(r.status).to.equal(400);
      expect(r.body.code).to.equal("VALIDATION_FAILED");
    });
  });

  describe("validation without redeeming", () => {
    it("When a coupon is validated, then the verdict comes back and nothing changes", async () => {
      const code = unique("val");
      const campaignId = await seedCampaign(ctx.store, { codes: [code], discountPercentage: 20 });
      const r = await ctx.api.post("/v1/validations", { code, userId: "tom" }, KEYS.shop);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ valid: true, couponCode: code, campaignId, discountPercentage: 20, discountAmount: null });
      expect((await ctx.api.get(`/v1/coupons/${code}`, KEYS.reader)).body.status).to.equal("available");
      expect(await ctx.store.listRedemptionAttempts({ couponCode: code })).to.have.length(0);
    });

    it("When a coupon cannot be redeemed, then validate says why with the refusal code", async () => {
      const code = unique("val-no");
      const campaignId = await seedCampaign(ctx.store, { codes: [code], maxTotalRedemptions: 1 });
      await redeem(code, "uma");
      const r = await ctx.api.post("/v1/validations", { code, userId: "vic" }, KEYS.shop);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ valid: false, couponCode: code, campaignId, reason: "ALREADY_REDEEMED" });
      const missing = await ctx.api.post("/v1/validations", { code: unique("nope"), userId: "vic" }, KEYS.shop);
      expect(missing.body).to.include({ valid: false, reason: "COUPON_NOT_FOUND", campaignId: null });
    });

    it("When a key with only the read scope validates, then it is refused 403: validation is the redeeming services' check", async () => {
      const code = unique("val-read");
      await seedCampaign(ctx.store, { codes: [code] });
      const r = await ctx.api.post("/v1/validations", { code, userId: "vic" }, KEYS.reader);
      expect(r.status).to.equal(403);
      expect(r.body).to.include({ code: "FORBIDDEN" });
    });
  });
}
