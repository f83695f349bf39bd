// Crashes of the generator on PostgreSQL, as production has them: SIGKILL at random moments and a
// restart each time, several workers started on one request at once, and the database going away
// under a running worker. In the end: exactly N distinct codes, Generated, GeneratedAmount = N.
import type { ChildProcess } from "node:child_process";
import { expect } from "chai";
import { type CliResult, createCampaign, finished, startCli, until, withStore } from "../../apps/generator/test/helpers.ts";
import { EXIT } from "../../apps/generator/src/errors.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../packages/db/test/support.ts";
import { figures, track, withPg } from "./support.ts";

const explain = (r: CliResult) => `exit ${r.code} signal ${r.signal}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;

type RequestState = { status: string; generated: number; requested: number; rows: number; distinct: number; failure: string | null };

describePostgres("faults: generator crashes on PostgreSQL", function () {
  this.timeout(120_000);
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
    track(
      startCli(["--json", "run", "--request-id", id, "--batch-size", "2000", ...extra], {
        env: { COUPONS_DATABASE_URL: db.url, ...env },
      }),
    );

  async function expectComplete(id: string, n: number) {
    const s = await state(id);
    expect(s, JSON.stringify(s)).to.include({ status: "Generated", generated: n, requested: n, rows: n, distinct: n });
  }

  it("When a worker is SIGKILLed at 12 random moments and restarted each time, then the request ends Generated with exactly N distinct codes", async () => {
    // More than 12 runs of at most ~1 s can make on a quiet machine (~110k codes/s here), so the
    // request cannot finish before the twelfth kill (300k did, once, on an idle machine).
    const N = 1_500_000;
    const id = await newRequest(N);
    const log: string[] = [];
    let kills = 0;
    const t0 = Date.now();
    while (kills < 12 && Date.now() - t0 < 45_000) {
      const child = run(id);
      const done = finished(child);
      // from "still starting" (no claim yet) to "deep in batches"
      const delay = 80 + Math.floor(Math.random() * 900);
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      const r = await done;
      clearTimeout(timer);
      const s = await state(id);
      log.push(`after ${delay} ms: ${r.signal ?? `exit ${r.code}`}, ${s.status} ${s.generated}/${N}, ${s.rows} rows`);
      // whatever the moment, the count and the rows agree: a batch is all in or all out
      expect(s.rows, log.join("\n")).to.equal(s.generated);
      expect(s.distinct, log.join("\n")).to.equal(s.rows);
      if (r.signal === "SIGKILL") kills++;
      else {
        expect(r.code, `${log.join("\n")}\n${explain(r)}`).to.equal(EXIT.OK);
        break; // it finished before the kill: nothing left to crash
      }
    }
    expect(kills, `the request must survive at least 10 kills\n${log.join("\n")}`).to.be.at.least(10);
    expect((await state(id)).generated, "the kills came mid-run").to.be.below(N);
    const last = await finished(run(id));
    expect(last.code, `${log.join("\n")}\n${explain(last)}`).to.equal(EXIT.OK);
    await expectComplete(id, N);
    figures.killsSurvived += kills;
  });

  for (const workers of [2, 3]) {
    it(`When ${workers} workers are started on one request at once, then it ends with exactly N codes, and the others say they are busy`, async () => {
      const N = 60_000;
      const id = await newRequest(N);
      const results = await Promise.all(Array.from({ length: workers }, () => finished(run(id))));
      const all = results.map(explain).join("\n---\n");
      for (const r of results) expect(r.code, all).to.be.oneOf([EXIT.OK, EXIT.BUSY]);
      expect(results.filter((r) => r.code === EXIT.OK).length, all).to.be.at.least(1);
      for (const r of results.filter((x) => x.code === EXIT.BUSY)) expect(r.stdout + r.stderr).to.contain("being worked by another worker");
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
      track(startCli(["run", "--request-id", "whatever"], { env: { COUPONS_DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" } })),
    );
    expect(r.code, explain(r)).to.equal(EXIT.UNAVAILABLE);
    expect(r.stdout + r.stderr).to.match(/database/i);
  });
});
