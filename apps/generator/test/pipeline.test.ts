// The pipeline through the library, on every reachable engine: exact counts, collisions replaced,
// one worker per request, feasibility before any write, and a stop that leaves the request resumable.
import type { CouponStore, StoreError } from "@coupons/db";
import { expect } from "chai";
import { ALPHABET, GeneratorError, generate } from "../src/index.ts";
import { type EngineUnderTest, describePostgres, embeddedEngine, postgresEngine } from "../../../packages/db/test/support.ts";
import { codesOf, counterSource, storeWithCampaign } from "./helpers.ts";

function scenarios(engine: EngineUnderTest) {
  let store!: CouponStore;
  // One database per engine: every scenario works on requests (and prefixes) of its own.
  storeWithCampaign(engine, (s) => {
    store = s;
  });

  const request = (amount: number, prefix = "T-", codeLength = 10) =>
    store.createGenerationRequest({ campaignId: "c1", requestedAmount: amount, prefix, codeLength });

  for (const amount of [1, 99, 100, 101, 250]) {
    it(`When a request asks for ${amount} code(s) with batches of 100, then exactly ${amount} distinct coupons exist and it is Generated`, async () => {
      const r = await request(amount);
      const result = await generate(store, r.requestId, { batchSize: 100, concurrency: 2 });
      expect(result.outcome).to.equal("generated");
      expect(result.request.status).to.equal("Generated");
      expect(result.request.generatedAmount).to.equal(amount);
      const codes = await codesOf(store, r.requestId);
      expect(codes.size).to.equal(amount);
      const pattern = new RegExp(`^T-[${ALPHABET}]{10}$`);
      for (const c of codes) expect(c).to.match(pattern);
    });
  }

  it("When a request asks for 100,000 codes, then exactly 100,000 distinct coupons exist", async function () {
    this.timeout(60_000);
    const r = await request(100_000, "", 12);
    const result = await generate(store, r.requestId);
    expect(result.request.status).to.equal("Generated");
    expect((await codesOf(store, r.requestId)).size).to.equal(100_000);
  });

  it("When drawn codes exist already, then they are replaced until the batch is full", async () => {
    const first = await request(50);
    await generate(store, first.requestId, { nextCode: counterSource("K-") });
    const second = await request(100);
    // the same sequence again: its first 50 codes all collide with the first request's
    const result = await generate(store, second.requestId, { batchSize: 100, nextCode: counterSource("K-") });
    expect(result.collisions).to.equal(50);
    expect(result.inserted).to.equal(100);
    const codes = await codesOf(store, second.requestId);
    expect(codes.size).to.equal(100);
    expect(codes.has("K-00000000")).to.equal(false);
  });

  it("When two workers start on one request at once, then it ends with N coupons, not 2N, and the loser is told it is busy", async () => {
    const r = await request(20_000);
    const outcomes = await Promise.allSettled([
      generate(store, r.requestId, { batchSize: 1000 }),
      generate(store, r.requestId, { batchSize: 1000 }),
    ]);
    const done = outcomes.filter((o) => o.status === "fulfilled");
    expect(done.length).to.be.at.least(1);
    for (const o of outcomes) {
      if (o.status === "rejected") {
        expect(o.reason).to.be.instanceOf(GeneratorError);
        expect((o.reason as GeneratorError).code).to.equal("BUSY");
      }
    }
    expect((await store.getGenerationRequest(r.requestId))?.generatedAmount).to.equal(20_000);
    expect((await codesOf(store, r.requestId)).size).to.equal(20_000);
  });

  it("When the amount cannot be drawn from the code space, then it is refused with the numbers before any code is written", async () => {
    const r = await request(20_000, "0INF", 4);
    const err = await generate(store, r.requestId).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(GeneratorError);
    expect((err as GeneratorError).code).to.equal("INFEASIBLE");
    expect((err as Error).message)
      .to.contain("923,521")
      .and.contain("Use a length of 5");
    expect(await store.countCouponsWithPrefix("0INF")).to.equal(0);
    const after = await store.getGenerationRequest(r.requestId);
    expect(after?.status).to.equal("Failed");
    expect(after?.failureReason).to.contain("923,521");
  });

  it("When a request Failed earlier, then a plain run refuses it and --retry-failed finishes it", async () => {
    const r = await request(300);
    await store.claimGenerationRequest(r.requestId, "w0").then((c) => c.release());
    await store.updateGenerationRequest(r.requestId, "Failed", "the database was restored");
    const err = await generate(store, r.requestId).catch((e: unknown) => e);
    expect((err as GeneratorError).code).to.equal("REQUEST_FAILED");
    const result = await generate(store, r.requestId, { retryFailed: true, batchSize: 100 });
    expect(result.request.status).to.equal("Generated");
    expect((await codesOf(store, r.requestId)).size).to.equal(300);
  });

  it("When a stop is requested mid-run, then in-flight batches finish, the request is resumable, and a re-run ends with exactly N", async () => {
    const r = await request(5_000);
    const stopper = new AbortController();
    const stopped = await generate(store, r.requestId, {
      batchSize: 500,
      stopSignal: stopper.signal,
      onEvent: (e) => {
        if (e.type === "progress" && e.generated >= 1000) stopper.abort();
      },
    });
    expect(stopped.outcome).to.equal("stopped");
    expect(stopped.request.status).to.equal("Requested");
    expect(stopped.request.generatedAmount).to.be.within(1000, 4999);
    expect((await codesOf(store, r.requestId)).size).to.equal(stopped.request.generatedAmount);
    const resumed = await generate(store, r.requestId, { batchSize: 500 });
    expect(resumed.inserted).to.equal(5_000 - stopped.request.generatedAmount);
    expect(resumed.request.status).to.equal("Generated");
    expect((await codesOf(store, r.requestId)).size).to.equal(5_000);
  });

  it("When a request is Generated already, then running it again changes nothing", async () => {
    const r = await request(10);
    await generate(store, r.requestId);
    const again = await generate(store, r.requestId);
    expect(again.outcome).to.equal("already-generated");
    expect((await codesOf(store, r.requestId)).size).to.equal(10);
  });

  it("When the request does not exist, then it is refused as NOT_FOUND", async () => {
    const err = await generate(store, "nope").catch((e: unknown) => e);
    expect((err as GeneratorError).code).to.equal("NOT_FOUND");
  });

  it("When a bulk insert would pass the cap, then the store refuses the whole batch (the pipeline never sends more than is left)", async () => {
    const r = await request(10);
    const claim = await store.claimGenerationRequest(r.requestId, "w1");
    const next = counterSource("0CAP-");
    const err = await store
      .bulkInsertCoupons(
        r.requestId,
        Array.from({ length: 11 }, () => next()),
      )
      .catch((e: unknown) => e);
    await claim.release();
    expect((err as StoreError).code).to.equal("CAP_EXCEEDED");
    expect(await store.countCouponsWithPrefix("0CAP-")).to.equal(0);
  });
}

describe("generator pipeline on the embedded engine", function () {
  this.timeout(60_000);
  scenarios(embeddedEngine);
});

describePostgres("generator pipeline on PostgreSQL", function () {
  this.timeout(60_000);
  scenarios(postgresEngine);
});
