// Overload is not an unexpected failure: when every connection of the store's pool is busy for the
// pool's whole wait, a call is refused UNAVAILABLE (the API's 503 with Retry-After), having executed
// nothing. The pool here has one connection, held by a redemption that waits on a row lock the test
// holds; the wait that runs out is the pool's own (connectionTimeoutMillis), not a clock of the test's.
import { expect } from "chai";
import pg from "pg";
import { type CouponStore, StoreError, openStore } from "../src/index.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "./support.ts";

describePostgres("postgres engine: a pool with no free connection", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let store: CouponStore;
  before(async () => {
    db = await createPostgresDatabase();
    store = await openStore(db.url, { poolSize: 1 });
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it("refuses a call UNAVAILABLE, saying nothing was executed, and serves again once a connection is free", async () => {
    const campaignId = await makeCampaign(store);
    await makeCoupons(store, campaignId, ["POOL1"]);
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    let holding: Promise<unknown> | undefined;
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM Coupons WHERE CouponCode = 'POOL1' FOR UPDATE");
      // takes the pool's only connection and waits on the row lock
      holding = store.redeemCoupon({ code: "POOL1", userId: "first" });
      const refused = await store.getCampaign(campaignId).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(StoreError);
      expect((refused as StoreError).code).to.equal("UNAVAILABLE");
      expect((refused as StoreError).message).to.match(/nothing was executed/);
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      await blocker.end();
    }
    expect(await holding).to.include({ ok: true });
    expect((await store.getCampaign(campaignId))?.currentRedemptions).to.equal(1);
  });
});
