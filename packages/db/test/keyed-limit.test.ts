// The per-key bound in front of the slow redemption path (src/keyed-limit.ts): at most `perKey` in
// flight per key, waiters served in order as turns are released, other keys never wait, and a wait
// past its bound or a full queue is refused UNAVAILABLE (nothing executed).
import { expect } from "chai";
import { StoreError } from "../src/contract.ts";
import { KeyedLimit } from "../src/keyed-limit.ts";

describe("KeyedLimit (per-campaign bound of the slow path)", () => {
  it("lets perKey calls of a key in, queues the next in order, and never holds another key", async () => {
    const limit = new KeyedLimit({ perKey: 2, maxWaitMs: 60_000, maxQueue: 10 });
    const a1 = await limit.acquire("A", "a");
    const a2 = await limit.acquire("A", "a");
    const order: string[] = [];
    const a3 = limit.acquire("A", "a").then((r) => {
      order.push("a3");
      return r;
    });
    const a4 = limit.acquire("A", "a").then((r) => {
      order.push("a4");
      return r;
    });
    expect(limit.load("A")).to.deep.equal({ running: 2, waiting: 2 });
    const b1 = await limit.acquire("B", "b"); // resolves although A is full
    expect(limit.load("B")).to.deep.equal({ running: 1, waiting: 0 });
    a1();
    a1(); // a second release of the same turn changes nothing
    const r3 = await a3;
    expect(order).to.deep.equal(["a3"]);
    expect(limit.load("A")).to.deep.equal({ running: 2, waiting: 1 });
    a2();
    const r4 = await a4;
    expect(order).to.deep.equal(["a3", "a4"]);
    r3();
    r4();
    b1();
    expect(limit.load("A")).to.deep.equal({ running: 0, waiting: 0 });
    expect(limit.load("B")).to.deep.equal({ running: 0, waiting: 0 });
  });

  it("refuses UNAVAILABLE, saying nothing was executed, when the queue is full or the wait runs out", async () => {
    const limit = new KeyedLimit({ perKey: 1, maxWaitMs: 20, maxQueue: 1 });
    const held = await limit.acquire("A", "the budget of campaign A");
    const waiting = limit.acquire("A", "the budget of campaign A").catch((e: unknown) => e);
    const overflow = await limit.acquire("A", "the budget of campaign A").catch((e: unknown) => e);
    expect(overflow).to.be.instanceOf(StoreError);
    expect((overflow as StoreError).code).to.equal("UNAVAILABLE");
    expect((overflow as StoreError).message).to.match(/campaign A is busy .*nothing was executed/);
    const timedOut = await waiting;
    expect(timedOut).to.be.instanceOf(StoreError);
    expect((timedOut as StoreError).message).to.match(/no turn came free within 20 ms/);
    held();
    expect(limit.load("A")).to.deep.equal({ running: 0, waiting: 0 });
  });
});
