// The redeem API's reversal and user-history scenarios (issue 14), run by apiScenarios on every
// engine with its running server and checking client.
import { expect } from "chai";
import { KEYS, seedCampaign, unique } from "./helpers.ts";
import type { ScenarioContext } from "./scenarios-redemption.ts";

export function reversalScenarios(ctx: ScenarioContext): void {
  const { redeem } = ctx;
  const reverse = (redemptionId: string, body?: unknown, key: string = KEYS.shop, headers: Record<string, string> = {}) =>
    ctx.api.call("POST", `/v1/redemptions/${redemptionId}/reversal`, { key, body, headers });
  const history = (userId: string, query = "", key: string = KEYS.reader) =>
    ctx.api.get(`/v1/users/${encodeURIComponent(userId)}/redemptions${query}`, key);

  describe("reversal of a redemption and a user's history", () => {
    it("When a shop reverses its redemption, then the coupon is redeemable again, the counts go down, and a second reversal replays the first", async () => {
      const [a, b] = [unique("ra"), unique("rb")];
      const alice = unique("alice");
      const campaignId = await seedCampaign(ctx.store, { codes: [a, b], maxRedemptionsPerUser: 1 });
      const redeemed = await redeem(a, alice);
      expect(redeemed.status).to.equal(200);
      const redemptionId = redeemed.body.redemptionId as string;
      expect(redemptionId).to.match(/^[1-9][0-9]*$/);
      const limited = await redeem(b, alice);
      expect(limited.status).to.equal(409);
      expect(limited.body).to.include({ code: "USER_LIMIT_REACHED" });
      expect(limited.body.redemptionId)
        .to.match(/^[1-9][0-9]*$/)
        .and.not.equal(redemptionId);

      const reversed = await reverse(redemptionId, { reason: "order 1 cancelled" });
      expect(reversed.status).to.equal(200);
      expect(reversed.headers.get("idempotent-replayed")).to.equal(null);
      expect(reversed.body).to.include({
        redemptionId,
        couponCode: a,
        campaignId,
        userId: alice,
        reason: "order 1 cancelled",
        reversedBy: "apikey:shop",
      });
      expect((await ctx.api.get(`/v1/coupons/${a}`, KEYS.reader)).body.status).to.equal("available");
      expect((await ctx.api.get(`/v1/campaigns/${campaignId}`, KEYS.reader)).body.currentRedemptions).to.equal(0);
      expect((await redeem(b, alice)).status).to.equal(200);

      const again = await reverse(redemptionId);
      expect(again.status).to.equal(200);
      expect(again.headers.get("idempotent-replayed")).to.equal("true");
      expect(again.body).to.deep.equal(reversed.body);
      expect((await ctx.api.get(`/v1/campaigns/${campaignId}`, KEYS.reader)).body.currentRedemptions).to.equal(1);
    });

    it("When a reversal is retried with its Idempotency-Key, then it replays, and the key with another body is refused 422", async () => {
      const code = unique("ri");
      await seedCampaign(ctx.store, { codes: [code] });
      const redemptionId = (await redeem(code, unique("ian"))).body.redemptionId as string;
      const key = { "Idempotency-Key": unique("rev-key") };
      const first = await reverse(redemptionId, { reason: "returned" }, KEYS.shop, key);
      expect(first.status).to.equal(200);
      const replay = await reverse(redemptionId, { reason: "returned" }, KEYS.shop, key);
      expect(replay.status).to.equal(200);
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      expect(replay.body).to.deep.equal(first.body);
      const other = await reverse(redemptionId, { reason: "another" }, KEYS.shop, key);
      expect(other.status).to.equal(422);
      expect(other.body.code).to.equal("IDEMPOTENCY_MISMATCH");
    });

    it("When a reversal names an unknown id, a refused attempt or another service's redemption, then it is refused 404 or 409 and nothing changes", async () => {
      const code = unique("rr");
      const campaignId = await seedCampaign(ctx.store, { codes: [code] });
      const ok = (await redeem(code, unique("rita"))).body.redemptionId as string;
      const refused = (await redeem(code, unique("rolf"))).body.redemptionId as string;
      const unknown = await reverse("999999999999");
      expect(unknown.status).to.equal(404);
      expect(unknown.body.code).to.equal("REDEMPTION_NOT_FOUND");
      const attempt = await reverse(refused);
      expect(attempt.status).to.equal(409);
      expect(attempt.body.code).to.equal("REDEMPTION_NOT_REVERSIBLE");
      expect(attempt.body.detail).to.match(/refused attempt \(ALREADY_REDEEMED\)/);
      const otherService = await reverse(ok, undefined, KEYS.other);
      expect(otherService.status).to.equal(404);
      expect(otherService.body.code).to.equal("REDEMPTION_NOT_FOUND");
      expect((await reverse(ok, undefined, KEYS.reader)).status).to.equal(403);
      expect((await reverse("abc")).status).to.equal(400);
      const long = await reverse(ok, { reason: "x".repeat(501) });
      expect(long.status).to.equal(400);
      expect(long.body.errors[0].field).to.equal("reason");
      expect((await ctx.api.get(`/v1/campaigns/${campaignId}`, KEYS.reader)).body.currentRedemptions).to.equal(1);
      expect((await ctx.api.get(`/v1/coupons/${code}`, KEYS.reader)).body.status).to.equal("redeemed");
    });

    it("When a user's history is read, then redemptions and reversals come newest first, attempts only with include=attempts, paged by cursor", async () => {
      const [a, b] = [unique("ha"), unique("hb")];
      const hana = unique("hana");
      await seedCampaign(ctx.store, { codes: [a, b] });
      const first = (await redeem(a, hana)).body.redemptionId as string;
      const refused = (await redeem(a, hana)).body.redemptionId as string;
      const reversal = (await reverse(first, { reason: "cancelled" })).body;
      const second = (await redeem(b, hana)).body.redemptionId as string;

      const plain = await history(hana);
      expect(plain.status).to.equal(200);
      expect(plain.body.items.map((i: { kind: string; redemptionId: string }) => [i.kind, i.redemptionId])).to.deep.equal([
        ["redemption", second],
        ["reversal", first],
        ["redemption", first],
      ]);
      expect(plain.body.items[1]).to.include({ reversalId: reversal.reversalId, reason: "cancelled", reversed: true });
      expect(plain.body.items[2].reversed).to.equal(true);
      expect(plain.body.nextCursor).to.equal(null);

      const all = await history(hana, "?include=attempts");
      expect(all.body.items.map((i: { kind: string }) => i.kind)).to.deep.equal(["redemption", "reversal", "attempt", "redemption"]);
      expect(all.body.items[2]).to.include({ redemptionId: refused, failureReason: "ALREADY_REDEEMED" });

      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await history(hana, `?include=attempts&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status).to.equal(200);
        paged.push(...page.body.items.map((i: { kind: string; redemptionId: string }) => `${i.kind}:${i.redemptionId}`));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(paged).to.deep.equal(all.body.items.map((i: { kind: string; redemptionId: string }) => `${i.kind}:${i.redemptionId}`));

      expect((await history(unique("nobody"))).body).to.deep.equal({ items: [], nextCursor: null });
      expect((await history(hana, "", KEYS.shop)).status).to.equal(403);
      expect((await history(hana, "?cursor=zz9")).status).to.equal(400);
    });
  });
}
