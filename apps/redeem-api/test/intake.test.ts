// Fair intake (src/intake.ts): waiting requests start one per lane per round, a lane never has more
// requests in progress than its bound, the drain yields to the event loop once its slice is spent, a
// request whose client left is dropped, one that waited too long is answered instead of started, and
// a full lane is refused without touching the others. Not timed: a slice of 0 ms ends every turn
// after one round whatever the machine's speed, and waiting time comes from the test's own clock.
import { expect } from "chai";
import { FairIntake, type IntakeOptions, type IntakeTask } from "../src/intake.ts";
import { HttpProblem } from "../src/problems.ts";

const intakeOf = (opts: Partial<IntakeOptions> = {}) =>
  new FairIntake({ sliceMs: 60_000, maxQueue: 100, maxWaitMs: 60_000, boundOf: () => 100, ...opts });

/** A task that records its start and keeps its `done` for the test to call. */
function recorder(log: string[]) {
  const done = new Map<string, () => void>();
  const task = (name: string, extra: Partial<IntakeTask> = {}): IntakeTask => ({
    start(d) {
      log.push(name);
      done.set(name, d);
    },
    expired: (waited) => log.push(`${name} expired after ${waited}`),
    ...extra,
  });
  return { task, finish: (name: string) => done.get(name)?.() };
}

/** Resolves once the drain has had every turn it asked for. */
const settled = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve))));

describe("fair intake", () => {
  it("starts one waiting request of each lane before any lane's second, in the order the lanes arrived", async () => {
    const intake = intakeOf();
    const started: string[] = [];
    const { task } = recorder(started);
    for (let i = 1; i <= 5; i++) intake.enqueue("campaign:SALE", task(`sale${i}`));
    intake.enqueue("campaign:OTHER", task("other1"));
    intake.enqueue("campaign:SALE", task("sale6"));
    intake.enqueue("unknown", task("unknown1"));
    expect(started, "nothing starts in the turn it arrives").to.deep.equal([]);
    await settled();
    expect(started).to.deep.equal(["sale1", "other1", "unknown1", "sale2", "sale3", "sale4", "sale5", "sale6"]);
    expect(intake.waiting).to.equal(0);
  });

  it("keeps a lane's requests in progress at its bound, starting the next as one finishes, while other lanes go on", async () => {
    const intake = intakeOf({ boundOf: (lane) => (lane === "campaign:SALE" ? 2 : 1) });
    const started: string[] = [];
    const { task, finish } = recorder(started);
    for (let i = 1; i <= 4; i++) intake.enqueue("campaign:SALE", task(`sale${i}`));
    intake.enqueue("campaign:OTHER", task("other1"));
    await settled();
    expect(started).to.deep.equal(["sale1", "other1", "sale2"]);
    expect(intake.load("campaign:SALE")).to.deep.equal({ waiting: 2, inProgress: 2 });
    finish("sale1");
    finish("sale1"); // a second call of the same done changes nothing
    await settled();
    expect(started).to.deep.equal(["sale1", "other1", "sale2", "sale3"]);
    expect(intake.load("campaign:SALE")).to.deep.equal({ waiting: 1, inProgress: 2 });
    finish("other1");
    intake.enqueue("campaign:OTHER", task("other2"));
    await settled();
    expect(started.at(-1), "a lane at its bound holds up no other lane").to.equal("other2");
    finish("sale2");
    finish("sale3");
    await settled();
    expect(started).to.include("sale4");
    expect(intake.load("campaign:SALE")).to.deep.equal({ waiting: 0, inProgress: 1 });
  });

  it("gives the event loop back between slices: a callback queued behind the drain runs before the rest of a burst", async () => {
    const intake = intakeOf({ sliceMs: 0 });
    const order: string[] = [];
    const { task } = recorder(order);
    for (let i = 1; i <= 3; i++) intake.enqueue("campaign:SALE", task(`sale${i}`));
    intake.enqueue("campaign:OTHER", task("other1"));
    setImmediate(() => order.push("io"));
    await settled();
    await settled();
    expect(order).to.deep.equal(["sale1", "other1", "io", "sale2", "sale3"]);
  });

  it("drops a request whose client went away, and answers one that waited past maxWaitMs instead of starting it", async () => {
    let clock = 0;
    const intake = intakeOf({ maxWaitMs: 1000, now: () => clock });
    const log: string[] = [];
    const { task } = recorder(log);
    intake.enqueue("campaign:SALE", task("left", { gone: () => true }));
    intake.enqueue("campaign:SALE", task("old"));
    clock = 1500;
    intake.enqueue("campaign:SALE", task("fresh"));
    await settled();
    expect(log).to.deep.equal(["old expired after 1500", "fresh"]);
  });

  it("refuses a request beyond a full lane with 503 UNAVAILABLE and Retry-After (those that can start at once do not count), and still takes other lanes' requests", async () => {
    const intake = intakeOf({ maxQueue: 2, boundOf: () => 1 });
    const started: string[] = [];
    const { task } = recorder(started);
    const refused: string[] = [];
    intake.on("refused", (lane: string) => refused.push(lane));
    for (let i = 1; i <= 3; i++) intake.enqueue("campaign:SALE", task(`sale${i}`));
    let problem: unknown;
    try {
      intake.enqueue("campaign:SALE", task("sale4"));
    } catch (err) {
      problem = err;
    }
    expect(problem).to.be.instanceOf(HttpProblem);
    const p = (problem as HttpProblem).problem;
    expect(p.status).to.equal(503);
    expect(p.code).to.equal("UNAVAILABLE");
    expect(p.detail).to.equal("this campaign's queue is busy (2 calls wait already); nothing was executed, retry it");
    expect((problem as HttpProblem).headers["Retry-After"]).to.equal("1");
    expect(refused).to.deep.equal(["campaign:SALE"]);
    intake.enqueue("campaign:OTHER", task("other1"));
    await settled();
    expect(started).to.deep.equal(["sale1", "other1"]);
    expect(intake.load("campaign:SALE")).to.deep.equal({ waiting: 2, inProgress: 1 });
  });
});
