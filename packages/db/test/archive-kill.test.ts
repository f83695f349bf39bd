// The archive under SIGKILL: a real child process archives history rows of a PostgreSQL database to
// the archive table and a gzip JSON-lines file, and is killed at random moments (after a random
// number of progress lines plus a random delay: inside a file write, a state write, a move or
// between them), then run again; after every kill each row is in exactly one table, and at the end
// the file holds every archived row exactly once.
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import pg from "pg";
import { readArchiveFile } from "./operations.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "./support.ts";

const CHILD = fileURLToPath(new URL("./fixtures/archive-child.ts", import.meta.url));
const OLD_ROWS = 3000;
const NEW_ROWS = 100;
const BEFORE = "2025-01-01T00:00:00Z";

describePostgres("archive of RedemptionHistory under SIGKILL (postgres)", function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let client: pg.Client;
  let dir: string;
  before(async () => {
    db = await createPostgresDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    dir = mkdtempSync(join(tmpdir(), "coupons-archive-kill-"));
    // back-dated rows to archive (one per minute of 2024) and recent ones that must stay
    await client.query(
      `INSERT INTO RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason, IpAddress, UserAgent)
       SELECT 'K' || g, 'u' || (g % 17), NULL, timestamptz '2024-03-01' + g * interval '1 minute', false,
              'COUPON_NOT_FOUND', '10.1.0.' || (g % 200), repeat('agent ', 20)
       FROM generate_series(1, $1) g`,
      [OLD_ROWS],
    );
    await client.query(
      `INSERT INTO RedemptionHistory (CouponCode, UserId, AttemptedAt, Success, FailureReason)
       SELECT 'N' || g, 'u', now(), false, 'COUPON_NOT_FOUND' FROM generate_series(1, $1) g`,
      [NEW_ROWS],
    );
  });
  after(async () => {
    await client?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every id in exactly one of the two tables, nothing lost, nothing new. */
  async function expectEachRowOnce(): Promise<{ live: number; archived: number }> {
    const r = await client.query(`
      SELECT (SELECT count(*) FROM RedemptionHistory)::int AS live,
             (SELECT count(*) FROM RedemptionHistoryArchive)::int AS archived,
             (SELECT count(*) FROM RedemptionHistory h JOIN RedemptionHistoryArchive a USING (RedemptionId))::int AS both_,
             (SELECT count(DISTINCT RedemptionId) FROM vw_RedemptionHistoryAll)::int AS distinct_`);
    const { live, archived, both_, distinct_ } = r.rows[0];
    expect(both_, "rows in both tables").to.equal(0);
    expect(live + archived, "rows lost or added").to.equal(OLD_ROWS + NEW_ROWS);
    expect(distinct_).to.equal(OLD_ROWS + NEW_ROWS);
    return { live, archived };
  }

  function start(file: string): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", CHILD], {
      env: {
        ...process.env,
        COUPONS_DATABASE_URL: db.url,
        ARCHIVE_BEFORE: BEFORE,
        ARCHIVE_BATCH: "97",
        ARCHIVE_FILE: file,
        ARCHIVE_PAUSE_MS: "30",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => lines.push(...d.split("\n").filter((l) => l !== "")));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => {
        if (code !== null && code !== 0) process.stderr.write(stderr);
        resolve(code);
      }),
    );
    return { child, lines, exited };
  }

  it("keeps every row in exactly one place after kills at random moments and re-runs", async () => {
    const file = join(dir, "history.jsonl.gz");
    let kills = 0;
    for (let round = 0; round < 8; round++) {
      const run = start(file);
      // odd rounds: right after a batch reached the file (the window between file and delete);
      // even rounds: after any progress line plus a random delay (anywhere else)
      const phase = round % 2 === 1 ? "written" : "";
      const after = randomInt(1, 8);
      const deadline = Date.now() + 20_000;
      while (run.lines.filter((l) => l.startsWith(phase)).length < after && run.child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setImmediate(r));
      }
      if (!phase) await new Promise((r) => setTimeout(r, randomInt(0, 40)));
      if (run.child.exitCode === null) {
        run.child.kill("SIGKILL");
        kills++;
      }
      await run.exited;
      await expectEachRowOnce();
    }
    expect(kills, "the archive finished before it could be killed; make it slower").to.be.at.least(6);
    const last = start(file);
    expect(await last.exited, "the final run completes").to.equal(0);
    expect(last.lines.at(-1)).to.match(/^done /);
    const { live, archived } = await expectEachRowOnce();
    expect(live, "only the recent rows stay").to.equal(NEW_ROWS);
    expect(archived).to.equal(OLD_ROWS);
    const rows = readArchiveFile(file);
    const ids = rows.map((r) => r.redemptionId);
    expect(new Set(ids).size, "a row written twice to the file").to.equal(ids.length);
    const archivedIds = (await client.query("SELECT RedemptionId::text AS id FROM RedemptionHistoryArchive ORDER BY 1")).rows.map(
      (r) => r.id as string,
    );
    expect([...ids].sort()).to.deep.equal(archivedIds);
  });
});
