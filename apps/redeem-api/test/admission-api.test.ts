// Admission per campaign through real HTTP on PostgreSQL (src/admission.ts, with its fair intake,
// src/intake.ts): campaign A's calls are held in the database (a transaction of the test locks their
// coupons), so A's lane is full and its queue too (the requests beyond A's turns wait in the intake,
// unstarted); then a redemption and a validation of campaign B are answered while A's calls are still
// held, one more call of A is refused 503 with Retry-After having executed nothing, and calls with a
// wrong key or none are refused 401 without taking a place in A's queue. Driven by the
// admission's own events and counters; nothing is timed.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import pg from "pg";
import { openStore } from "../../../packages/db/src/index.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import type { Admission } from "../src/admission.ts";
import type { FairIntake } from "../src/intake.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, testConfig } from "./helpers.ts";

/** A campaign whose codes come from a generation request with a prefix, as generated codes do. */
async function seedWithPrefix(store: CouponStore, campaignId: string, prefix: string, count: number): Promise<string[]> {
  const codes = Array.from({ length: count }, (_, i) => `${prefix}${i}X`);
  await seedCampaign(store, { campaignId, codes, prefix });
  return codes;
}

/** Resolves after `n` events `name` of lane `lane`. */
function events(admission: Admission | FairIntake, name: "admitted" | "queued" | "waiting", lane: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = (l: string) => {
      if (l !== lane || ++seen < n) return;
      admission.off(name, on);
      resolve();
    };
    admission.on(name, on);
  });
}

describePostgres("redeem API on PostgreSQL: admission per campaign", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let store: CouponStore;
  let running: RunningServer | undefined;

  before(async () => {
    db = await createPostgresDatabase();
    // 4 connections: without admission A's five held calls would take all of them, and B would wait
    store = await openStore(db.url, { poolSize: 4 });
    running = await startServer({
      store,
      config: testConfig({
        COUPONS_DB_POOL_SIZE: "4",
        COUPONS_ADMISSION_PER_CAMPAIGN: "2",
        COUPONS_ADMISSION_QUEUE: "3",
        COUPONS_ADMISSION_WAIT_MS: "600000",
        COUPONS_THROTTLE_USER_FAILURES: "1000000",
        COUPONS_THROTTLE_IP_FAILURES: "1000000",
      }),
    });
  });
  after(async () => {
    if (running) await stopServer(running);
    await db?.drop();
  });

  it("When campaign A's calls are held in the database beyond its bound, then B's redemption and validation are answered at once, A's overflow is 503 with Retry-After and executes nothing, and A's queued calls then succeed", async () => {
    const api = await ApiClient.connect((running as RunningServer).url);
    const admission = (running as RunningServer).built.deps.admission;
    const a = await seedWithPrefix(store, "ADM-A", "ADMA-", 10);
    const b = await seedWithPrefix(store, "ADM-B", "ADMB-", 2);
    // the first may join a load that began before the seeding; the second begins after it
    await admission.index.refresh();
    await admission.index.refresh();
    expect(admission.index.laneOf(a[0] as string)).to.equal("campaign:ADM-A");
    expect(admission.index.laneOf(b[0] as string)).to.equal("campaign:ADM-B");

    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    const redeem = (code: string, userId: string) => api.post("/v1/redemptions", { code, userId }, KEYS.shop);
    let heldCalls: Promise<{ status: number; text: string }>[] = [];
    let queuedCalls: Promise<{ status: number; text: string }>[] = [];
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM Coupons WHERE CouponCode = ANY($1) FOR UPDATE", [a.slice(0, 6)]);
      // two calls take A's two turns and wait on the locks in the database
      const admitted = events(admission, "admitted", "campaign:ADM-A", 2);
      heldCalls = [redeem(a[0] as string, "held-0"), redeem(a[1] as string, "held-1")];
      await admitted;
      // four more: one starts (the intake lets one more than the turns be in progress) and waits in
      // admission's queue, three fill A's queue in the intake, unstarted (their coupons are locked
      // too; none of the four holds a connection)
      const queued = Promise.all([
        events(admission, "queued", "campaign:ADM-A", 1),
        events(admission.intake, "waiting", "campaign:ADM-A", 4),
      ]);
      queuedCalls = [2, 3, 4, 5].map((i) => redeem(a[i] as string, `queued-${i}`));
      await queued;
      expect(admission.load("campaign:ADM-A")).to.deep.equal({ running: 2, waiting: 1 });
      expect(admission.intake.load("campaign:ADM-A")).to.deep.equal({ waiting: 3, inProgress: 3 });

      // one more of A, a redemption and a validation: refused at once, nothing executed
      const over = await redeem(a[7] as string, "over");
      expect(over.status, over.text).to.equal(503);
      expect(over.body.code).to.equal("UNAVAILABLE");
      expect(over.body.detail).to.match(/this campaign's queue is busy \(3 calls wait already\); nothing was executed/);
      expect(Number(over.headers.get("retry-after"))).to.be.greaterThan(0);
      const overValidation = await api.post("/v1/validations", { code: a[8], userId: "over" }, KEYS.shop);
      expect(overValidation.status, overValidation.text).to.equal(503);
      expect(Number(overValidation.headers.get("retry-after"))).to.be.greaterThan(0);

      // callers whose credentials are refused without waiting take no place in A's queue: 401 at once
      const badKey = await api.post("/v1/redemptions", { code: a[9], userId: "intruder" }, "cpn_not-a-key");
      expect(badKey.status, badKey.text).to.equal(401);
      const noKey = await api.post("/v1/redemptions", { code: a[9], userId: "intruder" }, null);
      expect(noKey.status, noKey.text).to.equal(401);
      expect(admission.intake.load("campaign:ADM-A")).to.deep.equal({ waiting: 3, inProgress: 3 });

      // B is not behind A: answered while A's calls are still held and queued
      const onB = await redeem(b[0] as string, "b-user");
      expect(onB.status, onB.text).to.equal(200);
      expect(onB.body.campaignId).to.equal("ADM-B");
      const validB = await api.post("/v1/validations", { code: b[1], userId: "b-user-2" }, KEYS.shop);
      expect(validB.status, validB.text).to.equal(200);
      expect(validB.body.valid).to.equal(true);
      expect(admission.intake.load("campaign:ADM-A")).to.deep.equal({ waiting: 3, inProgress: 3 });
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      await blocker.end();
    }
    const done = await Promise.all([...heldCalls, ...queuedCalls]);
    expect(
      done.map((r) => r.status),
      done.map((r) => r.text).join("\n"),
    ).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(admission.load("campaign:ADM-A")).to.deep.equal({ running: 0, waiting: 0 });
    expect(admission.intake.load("campaign:ADM-A")).to.deep.equal({ waiting: 0, inProgress: 0 });
    // the refused one executed nothing: its coupon is still there, and no attempt of "over" was recorded
    expect((await store.getCouponDetails(a[7] as string))?.isRedeemed).to.equal(false);
    const history = await store.listUserRedemptions("over", { includeAttempts: true });
    expect(history).to.deep.equal([]);
    const later = await redeem(a[7] as string, "later");
    expect(later.status, later.text).to.equal(200);
  });
});
