// `coupons campaign stats`: the counts, the series as a table (a bar chart on a terminal), --json as
// the API's document, and the refusals of bad options (embedded, the CLI as a child process).
import { expect } from "chai";
import { statsText } from "../src/commands/campaign-stats.ts";
import { EXIT } from "../src/index.ts";
import { cli, createCampaign, embeddedFolder, explain, withStore } from "./helpers.ts";

const HOUR = 3_600_000;

describe("coupons campaign stats (embedded)", function () {
  this.timeout(60_000);
  const f = embeddedFolder();
  const run = async (args: string[], expected: number = EXIT.OK) => {
    const r = await cli(args, { env: { COUPONS_DATABASE_URL: f.url } });
    expect(r.code, explain(r)).to.equal(expected);
    return r;
  };

  it("When a campaign has redemptions and refusals, then stats prints the counts and, with --interval, one line per bucket; --json prints the API's document", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store, "c1");
      const req = await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 3 });
      const claim = await store.claimGenerationRequest(req.requestId, "test");
      await store.bulkInsertCoupons(req.requestId, ["S0", "S1", "S2"]);
      await claim.release();
      await store.redeemCoupon({ code: "S0", userId: "u1" });
      await store.redeemCoupon({ code: "S1", userId: "u2" });
      await store.redeemCoupon({ code: "S0", userId: "u3" }); // ALREADY_REDEEMED
    });
    const counts = await run(["campaign", "stats", "c1"]);
    expect(counts.stdout.trim()).to.equal("campaign c1: 3 coupons, 2 redeemed, 1 available, 0 expired");

    const hourly = (await run(["campaign", "stats", "c1", "--interval", "hour"])).stdout.trim().split("\n");
    expect(hourly[1]).to.match(/^per hour, /);
    expect(hourly[2]).to.match(/^start\s+redeemed\s+refused\s+reversed\s+refusals by reason$/);
    const rows = hourly.slice(3);
    expect(rows.length).to.be.oneOf([48, 49]);
    const busy = rows.filter((l) => !/^\S+\s+0\s+0\s+0$/.test(l));
    expect(busy.length).to.be.oneOf([1, 2]);
    expect(busy.join("\n")).to.match(/ALREADY_REDEEMED 1/);
    expect(busy.join("\n"), "no bars when stdout is not a terminal").to.not.contain("#");

    const doc = JSON.parse((await run(["--json", "campaign", "stats", "c1", "--interval", "day"])).stdout);
    expect(doc).to.deep.include({ campaignId: "c1", totalCoupons: 3, redeemedCoupons: 2 });
    expect(doc.series.interval).to.equal("day");
    expect(doc.series.points.reduce((n: number, p: { redemptions: number }) => n + p.redemptions, 0)).to.equal(2);
    expect(Object.keys(doc.series.points[0])).to.deep.equal(["start", "redemptions", "refusals", "reversals"]);
  });

  it("When the campaign is unknown or an option is wrong, then it exits with the reason", async () => {
    expect((await run(["campaign", "stats", "nope", "--interval", "day"], EXIT.REFUSED)).stderr).to.contain("campaign nope does not exist");
    expect((await run(["campaign", "stats", "nope"], EXIT.REFUSED)).stderr).to.contain("campaign nope does not exist");
    expect((await run(["campaign", "stats", "c1", "--interval", "week"], EXIT.USAGE)).stderr).to.contain("must be one of hour, day");
    expect((await run(["campaign", "stats", "c1", "--since", "2026-01-01"], EXIT.USAGE)).stderr).to.contain("need --interval");
    const many = await run(["campaign", "stats", "c1", "--interval", "hour", "--since", "2020-01-01", "--until", "2020-03-01"], EXIT.USAGE);
    expect(many.stderr).to.match(/makes 1440 buckets; at most 1000/);
  });

  it("draws a bar per bucket proportional to its redemptions when asked for bars", () => {
    const start = new Date(Date.UTC(2030, 0, 1));
    const lines = statsText(
      { campaignId: "c", totalCoupons: 10, redeemedCoupons: 4, availableCoupons: 6, expiredCoupons: 0 },
      {
        interval: "hour",
        since: start,
        until: new Date(start.getTime() + 3 * HOUR),
        points: [0, 1, 3].map((redemptions, i) => ({
          start: new Date(start.getTime() + i * HOUR),
          redemptions,
          refusals: {},
          reversals: 0,
        })),
      },
      true,
    );
    expect(lines.slice(3).map((l) => (l.match(/#+$/) ?? [""])[0].length)).to.deep.equal([0, 10, 30]);
    expect(lines[3]).to.match(/^2030-01-01T00:00Z\s+0\s+0\s+0$/);
  });
});
