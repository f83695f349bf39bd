// The process lock (src/process-lock.ts) with real processes: several children released at the same
// moment race for one lock and exactly one owns it, every time; a SIGKILLed owner's lock is free the
// moment the process is gone; a side file naming pid 1 (a container's dead PID 1) blocks nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { acquireProcessLock } from "../src/process-lock.ts";

const CHILD = fileURLToPath(new URL("./fixtures/lock-child.ts", import.meta.url));
const busy = () => new Error("busy");

describe("process lock (held by a socket the operating system releases)", function () {
  this.timeout(60_000);
  let dir: string;
  let lock: string;
  const children = new Set<ChildProcess>();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "coupons-lock-"));
    lock = join(dir, "db.lock");
  });
  afterEach(async () => {
    await Promise.all(
      [...children].map(async (c) => {
        if (c.exitCode === null && c.signalCode === null) {
          const gone = once(c, "exit");
          c.kill("SIGKILL");
          await gone;
        }
      }),
    );
    children.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A child holding or trying the lock; `next()` gives its next stdout line. */
  function child() {
    const c = spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", CHILD, lock], {
      env: { ...process.env, NODE_OPTIONS: undefined } as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "inherit"],
    });
    children.add(c);
    const lines = createInterface({ input: c.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`child ${c.pid} ended without a line`);
      return r.value;
    };
    return { process: c, next, go: () => c.stdin.write("go\n") };
  }

  /** Starts n children, releases them together once all are ready, returns their answers. */
  async function race(n: number) {
    const cs = Array.from({ length: n }, child);
    expect(await Promise.all(cs.map((c) => c.next()))).to.deep.equal(Array(n).fill("ready"));
    for (const c of cs) c.go();
    const answers = await Promise.all(cs.map((c) => c.next()));
    return { cs, answers };
  }

  async function endAll(cs: ReturnType<typeof child>[]) {
    await Promise.all(
      cs.map(async (c) => {
        if (c.process.exitCode !== null) return;
        const gone = once(c.process, "exit");
        c.process.stdin.end();
        await gone;
      }),
    );
  }

  it("When six processes race for one lock at the same moment, five times over, then exactly one owns it each time and the others are told who", async () => {
    for (let round = 0; round < 5; round++) {
      const { cs, answers } = await race(6);
      const owners = cs.filter((_, i) => answers[i] === "owner");
      expect(owners, `round ${round}: ${answers.join(" | ")}`).to.have.length(1);
      const owner = owners[0] as (typeof cs)[number];
      for (const a of answers.filter((x) => x !== "owner")) {
        // the side file may not be written yet when a loser looks: then it says it does not know
        expect(a).to.be.oneOf([`busy held by ${owner.process.pid}@${hostname()}`, "busy held by unknown"]);
      }
      await endAll(cs);
    }
  });

  it("When the owner is SIGKILLed, then the lock is free as soon as the process is gone, and a live owner is named to the next", async () => {
    const first = child();
    expect(await first.next()).to.equal("ready");
    first.go();
    expect(await first.next()).to.equal("owner");
    const second = child();
    expect(await second.next()).to.equal("ready");
    second.go();
    expect(await second.next()).to.equal(`busy held by ${first.process.pid}@${hostname()}`);
    const gone = once(first.process, "exit");
    first.process.kill("SIGKILL");
    await gone;
    const release = await acquireProcessLock(lock, busy);
    release();
  });

  it("When a side file names pid 1 or this process's own pid but nobody holds the lock, then it is taken at once", async () => {
    for (const content of [JSON.stringify({ pid: 1, host: hostname() }), "1", String(process.pid)]) {
      writeFileSync(lock, content);
      const release = await acquireProcessLock(lock, busy);
      release();
    }
  });

  it("When this process takes a lock it holds already, then it is refused as its own, and free again after release", async () => {
    const release = await acquireProcessLock(lock, busy);
    let own: boolean | undefined;
    const again = await acquireProcessLock(lock, (_owner, ownProcess) => {
      own = ownProcess;
      return new Error("own");
    }).catch((err: Error) => err);
    expect(again).to.be.instanceOf(Error).with.property("message", "own");
    expect(own).to.equal(true);
    release();
    (await acquireProcessLock(lock, busy))();
  });
});
