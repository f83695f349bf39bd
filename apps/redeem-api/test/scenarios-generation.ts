// The redeem API's generation-request scenarios (create, follow, list the queue, cancel), run by
// apiScenarios on every engine with its running server and checking client.
import { expect } from "chai";
import { seedCampaign, unique } from "./helpers.ts";
import type { ScenarioContext } from "./scenarios-redemption.ts";

export function generationScenarios(ctx: ScenarioContext): void {
  describe("generation requests", () => {
    it("When an admin creates a generation request, then it answers 201 and its progress can be read", async () => {
      const campaignId = await seedCampaign(ctx.store, { codes: [] });
      const r = await ctx.api.post("/v1/generation-requests", { campaignId, requestedAmount: 4, prefix: "GEN-", codeLength: 8 });
      expect(r.status).to.equal(201);
      expect(r.body).to.include({ campaignId, requestedAmount: 4, generatedAmount: 0, status: "Requested", progressPercent: 0 });
      expect(r.headers.get("location")).to.equal(`/v1/generation-requests/${r.body.requestId}`);
      const claim = await ctx.store.claimGenerationRequest(r.body.requestId, "w1");
      await ctx.store.bulkInsertCoupons(r.body.requestId, [unique("GEN-a"), unique("GEN-b"), unique("GEN-c")]);
      await claim.release();
      const got = await ctx.api.get(`/v1/generation-requests/${r.body.requestId}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.include({ generatedAmount: 3, progressPercent: 75, status: "Generating" });
    });

    it("When an admin lists and cancels requests, then the queue shows what waits, a cancel keeps the codes, and a Generated one cannot be cancelled", async () => {
      const campaignId = await seedCampaign(ctx.store, { codes: [] });
      const a = await ctx.api.post("/v1/generation-requests", { campaignId, requestedAmount: 3, prefix: "QA-" });
      const b = await ctx.api.post("/v1/generation-requests", { campaignId, requestedAmount: 2, prefix: "QB-" });
      const listed = await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&status=REQUESTED`);
      expect(listed.status, listed.text).to.equal(200);
      expect(listed.body.requests.map((r: { requestId: string }) => r.requestId).sort()).to.deep.equal(
        [a.body.requestId, b.body.requestId].sort(),
      );
      expect(listed.body.waiting).to.equal(2);
      expect(listed.body.oldestWaitingSeconds).to.be.a("number");
      const cancelled = await ctx.api.delete(`/v1/generation-requests/${a.body.requestId}`);
      expect(cancelled.status, cancelled.text).to.equal(200);
      expect(cancelled.body).to.include({ status: "Cancelled", generatedAmount: 0 });
      const again = await ctx.api.delete(`/v1/generation-requests/${a.body.requestId}`);
      expect(again.body).to.include({ status: "Cancelled" });
      const claim = await ctx.store.claimGenerationRequest(b.body.requestId, "w1");
      await ctx.store.bulkInsertCoupons(b.body.requestId, [unique("QB-a"), unique("QB-b")]);
      await ctx.store.updateGenerationRequest(b.body.requestId, "Generated");
      await claim.release();
      const refused = await ctx.api.delete(`/v1/generation-requests/${b.body.requestId}`);
      expect(refused.status).to.equal(409);
      expect(refused.body.code).to.equal("CONFLICT");
      const badStatus = await ctx.api.get("/v1/generation-requests?status=Done");
      expect(badStatus.status).to.equal(400);
      expect(badStatus.body.errors[0].field).to.equal("status");
      expect((await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&status=waiting`)).status).to.equal(400);
      const empty = await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&status=Requested`);
      expect(empty.body).to.deep.include({ requests: [], waiting: 0, oldestWaitingSeconds: null });
      const first = await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&limit=1`);
      expect(first.body.nextCursor).to.be.a("string");
      const second = await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&limit=1&cursor=${first.body.nextCursor}`);
      const last = await ctx.api.get(`/v1/generation-requests?campaignId=${campaignId}&limit=1&cursor=${second.body.nextCursor}`);
      const ids = [first, second, last].flatMap((p) => p.body.requests.map((r: { requestId: string }) => r.requestId));
      expect([...ids].sort()).to.deep.equal([a.body.requestId, b.body.requestId].sort());
      expect(last.body).to.deep.include({ requests: [], nextCursor: null });
    });

    it("When the campaign or request does not exist, then it answers 404; a bad prefix answers 400 naming it", async () => {
      const r = await ctx.api.post("/v1/generation-requests", { campaignId: "NO-SUCH", requestedAmount: 1 });
      expect(r.status).to.equal(404);
      expect(r.body.code).to.equal("NOT_FOUND");
      expect((await ctx.api.get("/v1/generation-requests/nope")).status).to.equal(404);
      const bad = await ctx.api.post("/v1/generation-requests", { campaignId: "x", requestedAmount: 1, prefix: "bad!" });
      expect(bad.status).to.equal(400);
      expect(bad.body.errors[0].field).to.equal("prefix");
    });
  });
}
