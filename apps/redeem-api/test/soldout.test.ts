// A campaign that sells out, and a pool that is too small, through real HTTP on PostgreSQL (issue 12:
// "Sold out is cheap", "No 500 for load"). Not timed: the speed is scripts/bench-soldout.ts's job.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import pg from "pg";
import { openStore } from "../../../packages/db/src/index.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, testConfig, unique } from "./helpers.ts";

describePostgres("redeem API on PostgreSQL: a sold-out campaign and an exhausted pool", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  const opened: { store: CouponStore; running: RunningServer }[] = [];
  const serve = async (poolSize: number) => {
    const store = await openStore(db.url, { poolSize });
    // a throttle that does not refuse: every request here is a distinct user, and 429 is not the subject
    const running = await startServer({
      store,
      config: testConfig({ COUPONS_THROTTLE_USER_FAILURES: "1000000", COUPONS_THROTTLE_IP_FAILURES: "1000000" }),
    });
    opened.push({ store, running });
    return { store, api: await ApiClient.connect(running.url) };
  };
  before(async () => {
    db = await createPostgresDatabase();
  });
  after(async () => {
    for (const { running } of opened) await stopServer(running);
    await db?.drop();
  });

  it("When 300 redemptions of distinct coupons hit a campaign capped at 30 at once, and 150 more hit it sold out, then exactly 30 succeed, the rest are CAMPAIGN_LIMIT_REACHED, none is 5xx, and a unit given back is taken once", async () => {
    const { store, api } = await serve(8);
    const codes = Array.from({ length: 451 }, (_, i) => unique(`so${i}`));
    const campaignId = await seedCampaign(store, { codes, maxTotalRedemptions: 30 });
    const burst = (slice: string[]) =>
      Promise.all(slice.map((code, i) => api.post("/v1/redemptions", { code, userId: `u-${code}-${i}` }, KEYS.shop)));
    const first = await burst(codes.slice(0, 300));
    const second = await burst(codes.slice(300, 450));
    const statuses = [...first, ...second].map((r) => r.status);
    expect(
      statuses.filter((s) => s >= 500),
      "5xx answers",
    ).to.deep.equal([]);
    expect(first.filter((r) => r.status === 200)).to.have.length(30);
    expect(second.filter((r) => r.status === 200)).to.have.length(0);
    const refused = [...first, ...second].filter((r) => r.status !== 200);
    expect(new Set(refused.map((r) => r.body.code))).to.deep.equal(new Set(["CAMPAIGN_LIMIT_REACHED"]));
    expect((await store.getCampaign(campaignId))?.currentRedemptions).to.equal(30);
    expect((await store.getRedemptionStats(campaignId))?.redeemedCoupons).to.equal(30);

    // a unit comes back (as a reversal does: one slot's count down by one): the next attempt takes it
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(
        `UPDATE CampaignCounterSlots SET Redemptions = Redemptions - 1
         WHERE CampaignId = $1 AND Slot = (SELECT min(Slot) FROM CampaignCounterSlots WHERE CampaignId = $1 AND Redemptions > 0)`,
        [campaignId],
      );
    } finally {
      await admin.end();
    }
    const back = await api.post("/v1/redemptions", { code: codes[450], userId: "after-the-reversal" }, KEYS.shop);
    expect(back.status, back.text).to.equal(200);
    const again = await api.post("/v1/redemptions", { code: codes[449], userId: "one-too-many" }, KEYS.shop);
    expect(again.body.code).to.equal("CAMPAIGN_LIMIT_REACHED");
    expect((await store.getCampaign(campaignId))?.currentRedemptions).to.equal(30);
  });

  it("When every connection of a deliberately too small pool is held, then concurrent requests answer 503 with Retry-After, never 500, and the held one completes", async () => {
    const { store, api } = await serve(1);
    const codes = [unique("held"), ...Array.from({ length: 6 }, (_, i) => unique(`wait${i}`))];
    await seedCampaign(store, { codes });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    let held: Promise<{ status: number }> | undefined;
    let overload: { status: number; headers: Headers; body: { code: string } }[] = [];
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM Coupons WHERE CouponCode = $1 FOR UPDATE", [codes[0]]);
      // takes the pool's only connection and waits on the row lock the blocker holds
      held = api.post("/v1/redemptions", { code: codes[0], userId: "held" }, KEYS.shop);
      overload = await Promise.all(codes.slice(1).map((code) => api.post("/v1/redemptions", { code, userId: `w-${code}` }, KEYS.shop)));
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      await blocker.end();
    }
    for (const r of overload) {
      expect(r.status).to.equal(503);
      expect(r.body.code).to.equal("UNAVAILABLE");
      expect(Number(r.headers.get("retry-after"))).to.be.greaterThan(0);
    }
    expect((await held)?.status).to.equal(200);
    // nothing was executed for the refused ones: their coupons are still there to redeem
    const later = await api.post("/v1/redemptions", { code: codes[1], userId: "later" }, KEYS.shop);
    expect(later.status, later.text).to.equal(200);
  });
});
