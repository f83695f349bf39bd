import { expect } from "chai";
import { EXIT } from "../src/index.ts";
import { cli, createCampaign, withStore, embeddedFolder, explain } from "./helpers.ts";

describe("coupons campaign list|update|pause|resume|delete and coupons expire (embedded)", function () {
  this.timeout(60_000);
  const f = embeddedFolder();
  const run = async (args: string[], expected: number = EXIT.OK) => {
    const r = await cli(args, { env: { COUPONS_DATABASE_URL: f.url } });
    expect(r.code, explain(r)).to.equal(expected);
    return r;
  };
  /** A campaign c1 with codes A0..A{n-1} from one generation request; returns its request id. */
  const seed = (codes: string[]) =>
    withStore(f.url, async (store) => {
      await createCampaign(store, "c1");
      const req = await store.createGenerationRequest({ campaignId: "c1", requestedAmount: codes.length });
      const claim = await store.claimGenerationRequest(req.requestId, "test");
      await store.bulkInsertCoupons(req.requestId, codes);
      await store.updateGenerationRequest(req.requestId, "Generated");
      await claim.release();
      return req.requestId;
    });

  it("When a campaign is paused, listed, resumed and edited, then each command prints the campaign as stored", async () => {
    await seed(["A0"]);
    expect(JSON.parse((await run(["campaign", "pause", "c1"])).stdout).isActive).to.equal(false);
    const paused = JSON.parse((await run(["--json", "campaign", "list", "--state", "paused"])).stdout);
    expect(paused.campaigns.map((c: { campaignId: string; state: string }) => [c.campaignId, c.state])).to.deep.equal([["c1", "paused"]]);
    expect(JSON.parse((await run(["--json", "campaign", "list", "--state", "active"])).stdout).campaigns).to.deep.equal([]);
    // for people: a header row, then the campaign with its state, count against its limit and dates
    const table = (await run(["campaign", "list"])).stdout.trim().split("\n");
    expect(table[0]).to.match(/^CAMPAIGN\s+STATE\s+REDEEMED\/LIMIT\s+DISCOUNT\s+START \(UTC\)\s+END \(UTC\)\s+NAME$/);
    expect(table.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).to.deep.equal([["c1", "paused", "0/-"]]);
    expect((await run(["campaign", "list", "--state", "active"])).stdout.trim()).to.equal("No campaigns.");
    await withStore(f.url, async (store) => {
      expect(await store.redeemCoupon({ code: "A0", userId: "u" })).to.deep.include({ ok: false, reason: "CAMPAIGN_INACTIVE" });
    });
    expect(JSON.parse((await run(["campaign", "resume", "c1"])).stdout).isActive).to.equal(true);
    const edited = JSON.parse(
      (await run(["campaign", "update", "c1", "--name", "New", "--discount-amount", "4.5", "--max-total", "3"])).stdout,
    );
    expect(edited).to.include({ name: "New", discountAmount: 4.5, discountPercentage: null, maxTotalRedemptions: 3 });
    expect(JSON.parse((await run(["campaign", "update", "c1", "--max-total", "none"])).stdout).maxTotalRedemptions).to.equal(null);
  });

  it("When an update breaks a rule or names nothing, then it exits with the reason and changes nothing", async () => {
    await seed(["A0", "A1"]);
    await withStore(f.url, async (store) => {
      await store.redeemCoupon({ code: "A0", userId: "u1" });
      await store.redeemCoupon({ code: "A1", userId: "u2" });
    });
    const below = await run(["campaign", "update", "c1", "--max-total", "1"], EXIT.REFUSED);
    expect(below.stderr).to.contain("maxTotalRedemptions 1 is below the 2 redemptions");
    expect((await run(["campaign", "update", "c1"], EXIT.USAGE)).stderr).to.contain("at least one option");
    expect((await run(["campaign", "list", "--state", "gone"], EXIT.USAGE)).stderr).to.contain("--state");
    await withStore(f.url, async (store) => expect((await store.getCampaign("c1"))?.maxTotalRedemptions).to.equal(null));
  });

  it("When a campaign with redemptions is deleted, then it needs --force and is gone after", async () => {
    await seed(["A0", "A1"]);
    await withStore(f.url, (store) => store.redeemCoupon({ code: "A0", userId: "u" }));
    expect((await run(["campaign", "delete", "c1"], EXIT.REFUSED)).stderr).to.contain("has 1 redemptions");
    const deleted = JSON.parse((await run(["campaign", "delete", "c1", "--force"])).stdout);
    expect(deleted).to.deep.equal({ campaignId: "c1", deletedCoupons: 2, deletedRequests: 1 });
    await withStore(f.url, async (store) => expect(await store.getCampaign("c1")).to.equal(null));
  });

  it("When coupons are expired by code, request and campaign, then each prints its count and redeemed ones stay", async () => {
    const requestId = await seed(["A0", "A1", "A2", "A3"]);
    await withStore(f.url, (store) => store.redeemCoupon({ code: "A3", userId: "u" }));
    expect(JSON.parse((await run(["expire", "--code", "a0"])).stdout)).to.deep.equal({ expired: 1 });
    expect(JSON.parse((await run(["expire", "--request", requestId])).stdout)).to.deep.equal({ expired: 2 });
    expect(JSON.parse((await run(["expire", "--campaign", "c1"])).stdout)).to.deep.equal({ expired: 0 });
    expect((await run(["expire", "--code", "A0", "--campaign", "c1"], EXIT.USAGE)).stderr).to.contain("exactly one");
    expect((await run(["expire", "--code", "NOPE"], EXIT.REFUSED)).stderr).to.contain("does not exist");
    await withStore(f.url, async (store) => {
      expect((await store.getCouponDetails("A3"))?.status).to.equal("redeemed");
      expect((await store.getRedemptionStats("c1"))?.expiredCoupons).to.equal(3);
    });
  });
});
