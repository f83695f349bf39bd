// Crashes of the generator on PostgreSQL, as production has them: SIGKILL at random moments and a
// restart each time, several workers started on one request at once, and the database going away
// under a running worker. In the end: exactly N distinct codes, Generated, GeneratedAmount = N.
import type { ChildProcess } from "node:child_process";
import { expect } from "chai";
import { type CliResult, createCampaign, finished, nextEvent, startCli, until, withStore } from "../../apps/generator/test/helpers.ts";
import { EXIT } from "../../apps/generator/src/errors.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../packages/db/test/support.ts";
import { figures, withPg } from "./support.ts";

const explain = (r: CliResult) => `exit ${r.code} signal ${r.signal}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;

type RequestState = { status: string; generated: number; requested: number; rows: number; distinct: number; failure: string | null };

describePostgres("faults: generator crashes on PostgreSQL", function () {
  this.timeout(120_000);
  const BATCH = 2000;
  let db: TestDatabase;
  before(async () => {
    db = await createPostgresDatabase();
    await withStore(db.url, (store) => createCampaign(store, "crash"));
  });
  after(async () => {
    await db?.drop();
  });

  const newRequest = (amount: number) =>
    withStore(
      db.url,
      async (s) => (await s.createGenerationRequest({ campaignId: "crash", requestedAmount: amount, codeLength: 10 })).requestId,
    );

  /** The request row and its coupons, read directly. */
  const state = (id: string): Promise<RequestState> =>
    withPg(db.url, async (c) => {
      const r = await c.query(
        `SELECT g.Status AS status, g.GeneratedAmount AS generated, g.RequestedAmount AS requested, g.FailureReason AS failure,
           (SELECT count(*) FROM Coupons k WHERE k.GenerationBatchId = g.RequestId)::int AS rows,
           (SELECT count(DISTINCT k.CouponCode) FROM Coupons k WHERE k.GenerationBatchId = g.RequestId)::int AS distinct
         FROM GenerationRequests g WHERE g.RequestId = $1`,
        [id],
      );
      return r.rows[0] as RequestState;
    });

  const run = (id: string, extra: string[] = [], env: Record<string, string> = {}): ChildProcess =>
    startCli(["--json", "run", "--request-id", id, "--batch-size", String(BATCH), ...extra], {
      env: { COUPONS_DATABASE_URL: db.url, ...env },
    });

  async function expectComplete(id: string, n: number) {
    const s = await state(id);
    expect(s, JSON.stringify(s)).to.include({ status: "Generated", generated: n, requested: n, rows: n, distinct: n });
  }

  // Where each run dies, read from the worker's own JSON log lines and the committed batches, never
  // from a clock: the same moments on a machine of any speed. "spawned": before Node has loaded the
  // CLI; "claimed": at generation.start (the request is held, no batch yet); "first batch": at the
  // first generation.progress (one batch committed); a number k: once k batches of this run are
  // committed (read from the table), with more in flight.
  const MOMENTS: ("spawned" | "claimed" | "first batch" | number)[] = [
    "spawned",
    "claimed",
    "first batch",
    2,
    5,
    "claimed",
    "first batch",
    3,
    1,
    "claimed",
    4,
    "first batch",
  ];
  /** Resolves once `child` has reached `moment` (false: it exited first). */
  async function reached(child: ChildProcess, id: string, moment: (typeof MOMENTS)[number]): Promise<boolean> {
    if (moment === "spawned") return true;
    if (moment === "first batch") return (await nextEvent(child, "generation.progress")) !== null;
    const start = await nextEvent(child, "generation.start");
    if (start === null || moment === "claimed") return start !== null;
    const target = Number(start.generated) + moment * BATCH;
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    // the mocha timeout is the only limit: the batches come as fast as the machine makes them
    await until(`${moment} batches of this run`, async () => exited || (await state(id)).generated >= target, Number.POSITIVE_INFINITY);
    return !exited;
  }

  it(`When a worker is SIGKILLed at ${MOMENTS.length} moments read from its own progress and restarted each time, then the request ends Generated with exactly N distinct codes`, async () => {
    // every run is killed after at most a few batches (the deepest moment is 5 batches of 2000, plus
    // those in flight), so 12 runs cannot finish 200 batches at any machine speed
    const N = 400_000;
    const id = await newRequest(N);
    const log: string[] = [];
    let kills = 0;
    for (const moment of MOMENTS) {
      const child = run(id);
      const done = finished(child);
      const there = await reached(child, id, moment);
      child.kill("SIGKILL");
      const r = await done;
      const s = await state(id);
      log.push(
        `killed at ${moment}${there ? "" : " (exited before)"}: ${r.signal ?? `exit ${r.code}`}, ${s.status} ${s.generated}/${N}, ${s.rows} rows`,
      );
      // whatever the moment, the count and the rows agree: a batch is all in or all out
      expect(s.rows, log.join("\n")).to.equal(s.generated);
      expect(s.distinct, log.join("\n")).to.equal(s.rows);
      expect(there && r.signal === "SIGKILL", `the worker was alive at "${moment}"\n${log.join("\n")}\n${explain(r)}`).to.equal(true);
      kills++;
    }
    expect((await state(id)).generated, `the kills came mid-run\n${log.join("\n")}`).to.be.below(N);
    const last = await finished(run(id));
    expect(last.code, `${log.join("\n")}\n${explain(last)}`).to.equal(EXIT.OK);
    await expectComplete(id, N);
    figures.killsSurvived += kills;
  });

  for (const workers of [2, 3]) {
    it(`When ${workers} workers are started on one request at once, then exactly one works it to N codes and the others exit 4 saying it is being worked by another worker`, async () => {
      const N = 200_000;
      const id = await newRequest(N);
      const children = Array.from({ length: workers }, () => run(id));
      const results = children.map((c) => finished(c));
      // The first to log generation.start holds the claim; it is paused (SIGSTOP, its claim held)
      // until every other worker has answered, so none of them can find the request finished
      // instead of busy, however fast or slow the machine.
      const winner = await Promise.any(
        children.map(async (c) => {
          if (!(await nextEvent(c, "generation.start"))) throw new Error("exited without claiming");
          return c;
        }),
      ).catch(async () => {
        throw new Error(`no worker claimed the request:\n${(await Promise.all(results)).map(explain).join("\n---\n")}`);
      });
      winner.kill("SIGSTOP");
      const losers = await Promise.all(results.filter((_, i) => children[i] !== winner));
      winner.kill("SIGCONT");
      const won = await (results[children.indexOf(winner)] as Promise<CliResult>);
      const all = [won, ...losers].map(explain).join("\n---\n");
      expect(won.code, all).to.equal(EXIT.OK);
      for (const r of losers) {
        expect(r.code, all).to.equal(EXIT.BUSY);
        expect(r.stdout + r.stderr, all).to.contain("being worked by another worker");
      }
      await expectComplete(id, N);
    });
  }

  it("When 3 workers race on one request and the one working it is SIGKILLed, then a restarted worker finishes it with exactly N codes", async () => {
    const N = 100_000;
    const id = await newRequest(N);
    const children = [run(id), run(id), run(id)];
    const done = children.map((c) => finished(c));
    await until("the first batches", async () => (await state(id)).generated >= 10_000, 30_000);
    for (const c of children) c.kill("SIGKILL"); // the busy ones are gone already; the worker dies mid-run
    const results = await Promise.all(done);
    expect(results.filter((r) => r.signal === "SIGKILL").length, results.map(explain).join("\n")).to.be.at.least(1);
    const mid = await state(id);
    expect(mid.rows).to.equal(mid.generated);
    const again = await finished(run(id));
    expect(again.code, explain(again)).to.equal(EXIT.OK);
    await expectComplete(id, N);
    figures.killsSurvived += 1;
  });

  /** Terminates every backend of the test database but our own: the connections of the worker die. */
  const terminateBackends = (c: { query: (sql: string, v: unknown[]) => Promise<{ rowCount: number | null }> }) =>
    c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [db.name]);

  it("When the worker's database connections are terminated mid-run, then it exits 6 naming the database, and a re-run finishes the request", async () => {
    const N = 150_000;
    const id = await newRequest(N);
    const child = run(id);
    const done = finished(child);
    await until("the first batches", async () => (await state(id)).generated >= 10_000, 30_000);
    await withPg(db.url, (c) => terminateBackends(c));
    const r = await done;
    expect(r.code, explain(r)).to.equal(EXIT.UNAVAILABLE);
    expect(r.stdout + r.stderr, explain(r)).to.match(/database|connection/i);
    expect(r.stdout + r.stderr).to.match(/resumable/);
    const mid = await state(id);
    expect(mid.status, explain(r)).to.not.equal("Failed");
    expect(mid.generated).to.be.below(N);
    expect(mid.rows).to.equal(mid.generated);
    const again = await finished(run(id));
    expect(again.code, explain(again)).to.equal(EXIT.OK);
    await expectComplete(id, N);
  });

  it("When the database refuses every connection while a worker runs, then it exits 6 (not Failed), and once it is back a re-run finishes", async () => {
    const N = 150_000;
    const id = await newRequest(N);
    const child = run(id);
    const done = finished(child);
    await until("the first batches", async () => (await state(id)).generated >= 10_000, 30_000);
    const admin = process.env.TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
    try {
      await withPg(admin, async (c) => {
        await c.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`);
        await terminateBackends(c);
      });
      const r = await Promise.race([
        done,
        new Promise<CliResult>((_, reject) => setTimeout(() => reject(new Error("the worker did not give up within 30 s")), 30_000)),
      ]);
      expect(r.code, explain(r)).to.equal(EXIT.UNAVAILABLE);
      expect(r.stdout + r.stderr, explain(r)).to.match(/database|connection/i);
    } finally {
      await withPg(admin, (c) => c.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`));
    }
    const mid = await state(id);
    expect(mid.status).to.not.equal("Failed");
    expect(mid.rows).to.equal(mid.generated);
    const again = await finished(run(id));
    expect(again.code, explain(again)).to.equal(EXIT.OK);
    await expectComplete(id, N);
  });

  // PostgreSQL refuses a connection to a database with ALLOW_CONNECTIONS false with 55000 ("not
  // currently accepting connections"); the store maps it to UNAVAILABLE (packages/db/src/errors.ts).
  it("When a worker starts while the database refuses connections (SQLSTATE 55000), then it exits 6 (unavailable, resumable)", async () => {
    const id = await newRequest(1000);
    const admin = process.env.TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
    try {
      await withPg(admin, (c) => c.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`));
      const refused = await finished(run(id));
      expect(refused.code, explain(refused)).to.equal(EXIT.UNAVAILABLE);
      expect(refused.stdout + refused.stderr).to.match(/database/i);
    } finally {
      await withPg(admin, (c) => c.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`));
    }
    expect((await state(id)).status).to.equal("Requested");
    const rerun = await finished(run(id));
    expect(rerun.code, explain(rerun)).to.equal(EXIT.OK);
    await expectComplete(id, 1000);
  });

  it("When the database server cannot be reached at all, then the worker exits 6 with a message naming the database", async () => {
    const r = await finished(
      startCli(["run", "--request-id", "whatever"], { env: { COUPONS_DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" } }),
    );
    expect(r.code, explain(r)).to.equal(EXIT.UNAVAILABLE);
    expect(r.stdout + r.stderr).to.match(/database/i);
  });
});
