// The fraud report over HTTP (GET /v1/fraud-report), run by apiScenarios on every engine with its
// running server and checking client.
import { expect } from "chai";
import { KEYS, unique } from "./helpers.ts";
import type { ScenarioContext } from "./scenarios-redemption.ts";

export function fraudScenarios(ctx: ScenarioContext): void {
  describe("the fraud report", () => {
    it("When a user guesses codes, then the report by user lists them with their refusals, distinct codes and reason", async () => {
      const userId = unique("guesser");
      for (const guess of ["NOPE-1", "NOPE-2", "NOPE-2"]) expect((await ctx.redeem(guess, userId)).status).to.equal(404);
      const r = await ctx.api.get("/v1/fraud-report?by=user&top=1000");
      expect(r.status, r.text).to.equal(200);
      expect(r.body.by).to.equal("user");
      const row = r.body.rows.find((x: { subject: string }) => x.subject === userId);
      expect(row, "the guesser's row").to.include({ attempts: 3, refusals: 3, distinctCodes: 2 });
      expect(row.reasons).to.deep.equal([{ reason: "COUPON_NOT_FOUND", count: 3 }]);
      expect(Date.parse(r.body.until) - Date.parse(r.body.since)).to.equal(86_400_000);
    });

    it("When the window is empty or reversed, or the key lacks admin, then it answers an empty report, 400 and 403", async () => {
      const empty = await ctx.api.get("/v1/fraud-report?by=campaign&since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z");
      expect(empty.status, empty.text).to.equal(200);
      expect(empty.body.rows).to.deep.equal([]);
      const reversed = await ctx.api.get("/v1/fraud-report?since=2001-01-02T00:00:00Z&until=2001-01-01T00:00:00Z");
      expect(reversed.status).to.equal(400);
      expect(reversed.body.detail).to.equal("until: must be after since");
      expect((await ctx.api.get("/v1/fraud-report?by=device")).status).to.equal(400);
      expect((await ctx.api.get("/v1/fraud-report", KEYS.reader)).status).to.equal(403);
    });
  });
}
