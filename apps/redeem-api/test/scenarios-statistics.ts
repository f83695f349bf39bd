// The redeem API's campaign statistics scenarios (GET /v1/campaigns/{id}/stats with ?interval=), run
// by apiScenarios on every engine with its running server and checking client.
import { expect } from "chai";
import { KEYS, seedCampaign, unique } from "./helpers.ts";
import type { ScenarioContext } from "./scenarios-redemption.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Point = { start: string; redemptions: number; refusals: Record<string, number>; reversals: number };

export function statisticsScenarios(ctx: ScenarioContext): void {
  const { redeem } = ctx;
  const stats = (campaignId: string, query = "") =>
    ctx.api.get(`/v1/campaigns/${encodeURIComponent(campaignId)}/stats${query}`, KEYS.reader);

  describe("campaign statistics over time", () => {
    it("When stats are asked with interval=hour, then the counts come with a zero-filled series of redemptions and refusals by reason, oldest first", async () => {
      const [a, b] = [unique("st-a"), unique("st-b")];
      const campaignId = await seedCampaign(ctx.store, { codes: [a, b] });
      expect((await redeem(a, "st-user-1")).status).to.equal(200);
      expect((await redeem(a, "st-user-2")).status).to.equal(409);
      const plain = await stats(campaignId);
      expect(plain.status).to.equal(200);
      expect(plain.body).to.deep.equal({ campaignId, totalCoupons: 2, redeemedCoupons: 1, availableCoupons: 1, expiredCoupons: 0 });

      const r = await stats(campaignId, "?interval=hour");
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.include(plain.body);
      const { series } = r.body as { series: { interval: string; since: string; until: string; points: Point[] } };
      expect(series.interval).to.equal("hour");
      expect(Date.parse(series.until) - Date.parse(series.since)).to.equal(48 * HOUR);
      expect(series.points.length).to.be.oneOf([48, 49]);
      const starts = series.points.map((p) => Date.parse(p.start));
      expect(starts.every((t, i) => t % HOUR === 0 && (i === 0 || t - (starts[i - 1] as number) === HOUR))).to.equal(true);
      const busy = series.points.filter((p) => p.redemptions > 0 || Object.keys(p.refusals).length > 0);
      expect(busy.reduce((n, p) => n + p.redemptions, 0)).to.equal(1);
      expect(busy.flatMap((p) => Object.entries(p.refusals))).to.deep.equal([["ALREADY_REDEEMED", 1]]);
      expect(series.points.filter((p) => !busy.includes(p)).every((p) => p.redemptions === 0 && p.reversals === 0)).to.equal(true);
    });

    it("When stats are asked per day over an explicit window, then every day of it is a bucket", async () => {
      const campaignId = await seedCampaign(ctx.store, { codes: [] });
      const until = new Date(Math.floor(Date.now() / DAY) * DAY);
      const since = new Date(until.getTime() - 7 * DAY);
      const r = await stats(campaignId, `?interval=day&since=${since.toISOString()}&until=${until.toISOString()}`);
      expect(r.status).to.equal(200);
      expect(r.body.series.points.map((p: Point) => p.start)).to.deep.equal(
        Array.from({ length: 7 }, (_, i) => new Date(since.getTime() + i * DAY).toISOString()),
      );
    });

    it("When stats are asked with a bad interval, too many buckets, an empty window or dates without interval, then 400 names the problem; an unknown campaign is 404", async () => {
      const campaignId = await seedCampaign(ctx.store, { codes: [] });
      const bad = await stats(campaignId, "?interval=week");
      expect(bad.status).to.equal(400);
      expect(bad.body.errors[0].field).to.equal("interval");
      const many = await stats(campaignId, `?interval=hour&since=${new Date(Date.now() - 50 * DAY).toISOString()}`);
      expect(many.status).to.equal(400);
      expect(many.body.detail).to.match(/makes 12\d\d buckets; at most 1000/);
      const t = new Date().toISOString();
      const empty = await stats(campaignId, `?interval=day&since=${t}&until=${t}`);
      expect(empty.status).to.equal(400);
      expect(empty.body.detail).to.match(/since .* must be before until/);
      const alone = await stats(campaignId, `?since=${t}`);
      expect(alone.status).to.equal(400);
      expect(alone.body.detail).to.match(/need interval/);
      expect((await stats("NO-SUCH-CAMPAIGN", "?interval=day")).status).to.equal(404);
      expect((await stats("NO-SUCH-CAMPAIGN")).status).to.equal(404);
    });
  });
}
