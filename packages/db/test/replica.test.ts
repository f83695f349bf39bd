// Analytics reads on a real streaming replica: the test starts one (replica-support.ts), opens a
// store with the primary and the replica, and pauses the replica's replay so the two differ. Writes
// and every consistent read (redeem, validate, details, campaign) see the new rows at once: they are
// on the primary. The analytics reads (active campaigns, stats, attempts, export, fraud report,
// scale status) do not until replay resumes: they are on the replica, which reports
// pg_is_in_recovery(). The store says which connection served each analytics call.
import { expect } from "chai";
import pg from "pg";
import { type CouponStore, type RouteEvent, openStore, storeConfigFromEnv } from "../src/index.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { type Replica, skipUnlessReplica, startReplica } from "./replica-support.ts";
import { POSTGRES_URL, type TestDatabase, createPostgresDatabase, describePostgres } from "./support.ts";

const HOUR = 3_600_000;

// Replay speed depends on the machine's load: wait for the state itself, as long as the test's own
// timeout allows (a named failure just before mocha's).
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 55_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePostgres("analytics reads on a PostgreSQL streaming replica", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let replica: Replica;
  let store: CouponStore;
  let onReplica: pg.Client;
  const routes: RouteEvent[] = [];

  before(async function () {
    if (skipUnlessReplica(this, POSTGRES_URL)) return;
    db = await createPostgresDatabase();
    replica = await startReplica(POSTGRES_URL);
    const readUrl = replica.urlFor(db.name);
    // the replica has the database once it has replayed its creation
    await until("the replica to accept connections to the test database", async () => {
      const c = new pg.Client({ connectionString: readUrl });
      try {
        await c.connect();
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => {});
      }
    });
    onReplica = new pg.Client({ connectionString: readUrl });
    await onReplica.connect();
    const config = storeConfigFromEnv({ COUPONS_DATABASE_URL: db.url, COUPONS_DATABASE_READ_URL: readUrl });
    store = await openStore(config, { onRoute: (e) => routes.push(e) });
  });
  after(async () => {
    await onReplica?.query("SELECT pg_wal_replay_resume()").catch(() => {});
    await onReplica?.end().catch(() => {});
    await store?.close();
    await replica?.stop();
    await db?.drop();
  });

  it("reads on a server in recovery and writes on the primary", async () => {
    expect(store.readRoute).to.equal("replica");
    expect((await onReplica.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).to.equal(true);
    const primary = new pg.Client({ connectionString: db.url });
    await primary.connect();
    try {
      expect((await primary.query("SELECT pg_is_in_recovery() AS r")).rows[0].r).to.equal(false);
    } finally {
      await primary.end();
    }
  });

  it("serves consistent calls from the primary and analytics from the lagging replica", async () => {
    const first = await makeCampaign(store);
    await makeCoupons(store, first, ["RP-A1"]);
    await until("the replica to catch up", async () => (await store.listActiveCampaigns()).some((c) => c.campaignId === first));

    await onReplica.query("SELECT pg_wal_replay_pause()");
    await until(
      "replay to pause",
      async () => (await onReplica.query("SELECT pg_get_wal_replay_pause_state() AS s")).rows[0].s === "paused",
    );
    const second = await makeCampaign(store);
    await makeCoupons(store, second, ["RP-B1", "RP-B2"]);
    const redeemed = await store.redeemCoupon({ code: "RP-B1", userId: "ann", ipAddress: "10.9.9.9" });
    expect(redeemed.ok, "redeem runs on the primary").to.equal(true);
    await store.redeemCoupon({ code: "RP-NOPE", userId: "ann", ipAddress: "10.9.9.9" });
    expect((await store.validateCoupon({ code: "RP-B2", userId: "ann" })).ok).to.equal(true);
    expect((await store.getCouponDetails("RP-B1"))?.status).to.equal("redeemed");
    expect((await store.getCampaign(second))?.currentRedemptions).to.equal(1);

    routes.length = 0;
    expect((await store.listActiveCampaigns()).map((c) => c.campaignId))
      .to.include(first)
      .and.not.include(second);
    expect(await store.getRedemptionStats(second)).to.equal(null);
    expect(await store.listRedemptionAttempts({ userId: "ann" })).to.deep.equal([]);
    const window = { since: new Date(Date.now() - HOUR), until: new Date(Date.now() + HOUR) };
    expect(await store.fraudReport({ ...window, by: "user" })).to.deep.equal([]);
    const exported: string[] = [];
    for await (const r of store.streamCoupons({ campaignId: second })) exported.push(r.couponCode);
    expect(exported).to.deep.equal([]);
    expect((await store.getScaleStatus()).couponsTotal).to.equal(1);
    expect(routes.map((e) => e.method).sort()).to.deep.equal(
      ["fraudReport", "getRedemptionStats", "getScaleStatus", "listActiveCampaigns", "listRedemptionAttempts", "streamCoupons"].sort(),
    );
    expect(routes.every((e) => e.route === "replica")).to.equal(true);

    await onReplica.query("SELECT pg_wal_replay_resume()");
    await until("the replica to replay the new rows", async () => (await store.getRedemptionStats(second))?.redeemedCoupons === 1);
    expect((await store.listRedemptionAttempts({ userId: "ann" })).map((a) => a.couponCode).sort()).to.deep.equal(["RP-B1", "RP-NOPE"]);
    expect((await store.fraudReport({ ...window, by: "user" })).map((r) => r.subject)).to.deep.equal(["ann"]);
  });

  it("cannot write through the replica (what a misrouted write would meet)", async () => {
    const err = await onReplica.query("CREATE TABLE nope (x int)").then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/read-only transaction/);
  });
});
