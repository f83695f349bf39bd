// Fair intake (src/intake.ts): waiting requests are started one per lane per round, the drain yields
// to the event loop once its slice is spent, and a full lane is refused without touching the others.
// Not timed: a slice of 0 ms ends every turn after one round, whatever the machine's speed.
import { expect } from "chai";
import { FairIntake } from "../src/intake.ts";
import { HttpProblem } from "../src/problems.ts";

const drained = (intake: FairIntake) =>
  new Promise<void>((resolve) => {
    const check = () => (intake.waiting === 0 ? resolve() : setImmediate(check));
    setImmediate(check);
  });

describe("fair intake", () => {
  it("starts one waiting request of each lane before any lane's second, in the order the lanes arrived", async () => {
    const intake = new FairIntake({ sliceMs: 60_000, maxQueue: 100 });
    const started: string[] = [];
    const add = (lane: string, name: string) => intake.enqueue(lane, () => started.push(name));
    for (let i = 1; i <= 5; i++) add("campaign:SALE", `sale${i}`);
    add("campaign:OTHER", "other1");
    add("campaign:SALE", "sale6");
    add("unknown", "unknown1");
    expect(started, "nothing starts in the turn it arrives").to.deep.equal([]);
    await drained(intake);
    expect(started).to.deep.equal(["sale1", "other1", "unknown1", "sale2", "sale3", "sale4", "sale5", "sale6"]);
  });

  it("gives the event loop back between slices: a callback queued behind the drain runs before the rest of a burst", async () => {
    const intake = new FairIntake({ sliceMs: 0, maxQueue: 100 });
    const order: string[] = [];
    for (let i = 1; i <= 3; i++) intake.enqueue("campaign:SALE", () => order.push(`sale${i}`));
    intake.enqueue("campaign:OTHER", () => order.push("other1"));
    setImmediate(() => order.push("io"));
    await drained(intake);
    expect(order).to.deep.equal(["sale1", "other1", "io", "sale2", "sale3"]);
  });

  it("refuses a request beyond a full lane with 503 UNAVAILABLE and Retry-After, and still takes other lanes' requests", async () => {
    const intake = new FairIntake({ sliceMs: 60_000, maxQueue: 2 });
    const started: string[] = [];
    intake.enqueue("campaign:SALE", () => started.push("sale1"));
    intake.enqueue("campaign:SALE", () => started.push("sale2"));
    let refused: unknown;
    try {
      intake.enqueue("campaign:SALE", () => started.push("sale3"));
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(HttpProblem);
    const problem = refused as HttpProblem;
    expect(problem.problem.status).to.equal(503);
    expect(problem.problem.code).to.equal("UNAVAILABLE");
    expect(problem.headers["Retry-After"]).to.equal("1");
    intake.enqueue("campaign:OTHER", () => started.push("other1"));
    await drained(intake);
    expect(started).to.deep.equal(["sale1", "other1", "sale2"]);
  });
});
