// The generation worker through the library, on every reachable engine: it picks up every waiting
// request with exactly its amount, exits at once with nothing to do in --once, stops a cancelled
// request at its next batch keeping what it inserted, and (where the engine pushes) wakes on a new
// request without polling. Every wait is driven by the worker's own events, never by the clock.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { type WorkerEvent, runWorker } from "../src/worker.ts";
import { type EngineUnderTest, describePostgres, embeddedEngine, postgresEngine } from "../../../packages/db/test/support.ts";
import { codesOf, storeWithCampaign } from "./helpers.ts";

function scenarios(engine: EngineUnderTest) {
  let store!: CouponStore;
  // One database per engine: every scenario works on requests (and prefixes) of its own.
  storeWithCampaign(engine, (s) => {
    store = s;
  });

  const request = (amount: number, prefix: string) =>
    store.createGenerationRequest({ campaignId: "c1", requestedAmount: amount, prefix, codeLength: 10 });

  it("When nothing waits, then --once returns at once having processed nothing", async () => {
    const waiting = await store.listGenerationRequests({ status: "Requested" });
    expect(waiting).to.deep.equal([]);
    const report = await runWorker(store, { once: true });
    expect(report).to.deep.include({ processed: 0, exit: "once" });
  });

  it("When three requests wait, then the worker generates each with exactly its amount, then exits when idle", async function () {
    this.timeout(60_000);
    const sizes = [1, 700, 2_500];
    const made = await Promise.all(sizes.map((n, i) => request(n, `W${i}-`)));
    const report = await runWorker(store, { concurrency: 2, idleExitMs: 0, generate: { batchSize: 500 } });
    expect(report.exit).to.equal("idle");
    expect([...report.generated].sort()).to.deep.equal(made.map((r) => r.requestId).sort());
    for (const [i, r] of made.entries()) {
      const now = await store.getGenerationRequest(r.requestId);
      expect(now).to.include({ status: "Generated", generatedAmount: sizes[i] });
      expect((await codesOf(store, r.requestId)).size).to.equal(sizes[i]);
    }
  });

  it("When --once finds one waiting request, then it runs just that one", async () => {
    const a = await request(3, "ONCE1-");
    const b = await request(3, "ONCE2-");
    const report = await runWorker(store, { once: true });
    expect(report).to.deep.include({ processed: 1, exit: "once" });
    expect(report.generated).to.deep.equal([a.requestId]);
    expect((await store.getGenerationRequest(b.requestId))?.status).to.equal("Requested");
    await runWorker(store, { once: true });
  });

  it("When a request is cancelled while it runs, then the worker stops at the next batch, keeps what it inserted and reports it", async function () {
    this.timeout(60_000);
    const r = await request(20_000, "CANCEL-");
    let cancelled = false;
    const report = await runWorker(store, {
      once: true,
      generate: {
        batchSize: 500,
        concurrency: 1,
        onEvent: (e) => {
          if (e.type === "progress" && !cancelled) {
            cancelled = true;
            void store.cancelGenerationRequest(r.requestId);
          }
        },
      },
    });
    expect(report.cancelled).to.deep.equal([r.requestId]);
    const now = await store.getGenerationRequest(r.requestId);
    expect(now?.status).to.equal("Cancelled");
    expect(now?.generatedAmount).to.be.greaterThan(0).and.lessThan(20_000);
    expect((await codesOf(store, r.requestId)).size).to.equal(now?.generatedAmount);
  });

  it("When the worker waits with a long poll and a request is created, then the store's push wakes it (where the engine pushes)", async function () {
    this.timeout(60_000);
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    let created: string | undefined;
    const report = runWorker(store, {
      signal: stop.signal,
      pollMs: 3_600_000,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "idle" && created === undefined) {
          created = "pending";
          void request(5, "PUSH-").then((r) => (created = r.requestId));
        }
        if (e.type === "generated") stop.abort();
      },
    });
    const done = await report;
    expect(done.exit).to.equal("signal");
    expect(done.generated).to.have.length(1);
    // It was waiting half an hour or more (the poll, with jitter): only the push can have woken it.
    const firstIdle = events.find((e) => e.type === "idle");
    expect(firstIdle?.type === "idle" && firstIdle.waitingMs).to.be.at.least(1_800_000);
  });
}

describe("generation worker: embedded", () => scenarios(embeddedEngine));
describePostgres("generation worker: postgres", () => scenarios(postgresEngine));
