// The worker's push switch (`coupons worker --no-push`): on an engine that pushes (embedded and
// PostgreSQL: NOTIFY), a worker with push waits up to its long poll for a wake-up, and one without
// push ignores it and looks at the queue on its own, first within a second and then with backoff.
// Read from the worker's own idle events (the wait it chose), not from a clock.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { type WorkerEvent, runWorker } from "../src/worker.ts";
import { embeddedEngine } from "../../../packages/db/test/support.ts";

describe("generation worker: push on and off (embedded)", () => {
  let store: CouponStore;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, cleanup } = await embeddedEngine.open());
  });
  after(async () => cleanup?.());

  /** The waits of the worker's first `n` idle events, then the worker is stopped. */
  async function firstWaits(push: boolean, n: number): Promise<number[]> {
    const stop = new AbortController();
    const waits: number[] = [];
    const report = await runWorker(store, {
      push,
      pollMs: 60_000,
      signal: stop.signal,
      onEvent: (e: WorkerEvent) => {
        if (e.type !== "idle") return;
        waits.push(e.waitingMs);
        if (waits.length === n) stop.abort();
      },
    });
    expect(report.exit).to.equal("signal");
    return waits;
  }

  it("When push is on, then the idle worker waits its long poll (30 to 60 s, with jitter) for a wake-up", async () => {
    const [wait] = await firstWaits(true, 1);
    expect(wait).to.be.within(30_000, 60_000);
  });

  it("When push is off, then the idle worker polls within a second, and waits longer each time the queue stays empty", async function () {
    this.timeout(20_000);
    const waits = await firstWaits(false, 3);
    expect(waits[0]).to.be.within(500, 1_000);
    // jittered halves of 1 s, 2 s, 4 s: each window lies above the one before
    expect(waits[1]).to.be.within(1_000, 2_000);
    expect(waits[2]).to.be.within(2_000, 4_000);
  });
});
