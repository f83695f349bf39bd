// Campaigns.CurrentRedemptions while the API runs (issue 14, "Counts that read true"): the API
// process (apps/redeem-api/src/main.ts, PostgreSQL) runs a storm of redemptions; once it has logged a
// counter sync that started after the storm's last answer (its own event, at most
// COUPONS_COUNTER_SYNC_SECONDS later, docs/database.md), the seed's column equals the slot sum for
// every campaign. The test never calls the sync procedure; it reads the tables with pg.
import { expect } from "chai";
import pg from "pg";
import { openStore } from "../../../packages/db/src/index.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { KEYS, seedCampaign, startApiProcess, testEnv, unique } from "./helpers.ts";

type Sync = { counterSync: { changed: number; startedAt: string } };

/** Resolves with the first "campaign counters synced" log line of a run started at or after `after`. */
function syncStartedAfter(proc: Awaited<ReturnType<typeof startApiProcess>>, after: number): Promise<Sync> {
  return new Promise((resolve, reject) => {
    const check = () => {
      // whole lines only: the last piece may be a line still being written
      for (const line of proc.output().split("\n").slice(0, -1)) {
        if (!line.includes('"msg":"campaign counters synced"')) continue;
        const entry = JSON.parse(line) as Sync;
        if (Date.parse(entry.counterSync.startedAt) >= after) {
          proc.child.stdout.off("data", check);
          proc.child.off("exit", exited);
          resolve(entry);
          return;
        }
      }
    };
    const exited = () => reject(new Error(`the API exited before a counter sync: ${proc.errors()}`));
    proc.child.stdout.on("data", check);
    proc.child.once("exit", exited);
    check();
  });
}

describePostgres("redeem API process on PostgreSQL: Campaigns.CurrentRedemptions follows the slot sums", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let proc: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  before(async () => {
    db = await createPostgresDatabase();
  });
  after(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill("SIGTERM");
      await new Promise((r) => proc?.child.once("exit", r));
    }
    await db?.drop();
  });

  it("When the API has run a storm of redemptions, then after its next counter sync the column equals the slot sum of every campaign", async () => {
    const store = await openStore(db.url, { poolSize: 2 });
    const campaigns: { id: string; codes: string[] }[] = [];
    try {
      for (const cap of [null, 40]) {
        const codes = Array.from({ length: 120 }, (_, i) => unique(`cs${i}`));
        campaigns.push({ id: await seedCampaign(store, { codes, maxTotalRedemptions: cap }), codes });
      }
    } finally {
      await store.close();
    }
    proc = await startApiProcess(
      ["--conditions=source", "--disable-warning=ExperimentalWarning", "apps/redeem-api/src/main.ts"],
      testEnv({
        COUPONS_DATABASE_URL: db.url,
        COUPONS_LOG_LEVEL: "debug",
        COUPONS_COUNTER_SYNC_SECONDS: "1",
        COUPONS_THROTTLE_USER_FAILURES: "1000000",
        COUPONS_THROTTLE_IP_FAILURES: "1000000",
      }),
    );
    const base = `http://127.0.0.1:${proc.port}`;
    const answers = await Promise.all(
      campaigns.flatMap(({ codes }) =>
        codes.map((code, i) =>
          fetch(`${base}/v1/redemptions`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": KEYS.shop },
            body: JSON.stringify({ code, userId: `storm-${i}` }),
          }).then((r) => r.status),
        ),
      ),
    );
    const stormEnded = Date.now();
    expect(answers.filter((s) => s === 200)).to.have.length(120 + 40);
    await syncStartedAfter(proc, stormEnded);

    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ campaignid: string; column: number; slots: number }>(
        `SELECT c.CampaignId, c.CurrentRedemptions AS column, sum(s.Redemptions)::int AS slots
         FROM Campaigns c JOIN CampaignCounterSlots s ON s.CampaignId = c.CampaignId
         WHERE c.CampaignId = ANY ($1) GROUP BY c.CampaignId, c.CurrentRedemptions ORDER BY c.CampaignId`,
        [campaigns.map((x) => x.id)],
      );
      expect(rows.map((r) => [r.campaignid, r.column])).to.deep.equal(
        rows.map((r) => [r.campaignid, r.slots]),
        "CurrentRedemptions vs the slot sum",
      );
      expect(rows.map((r) => r.slots).sort((a, b) => a - b)).to.deep.equal([40, 120]);
    } finally {
      await c.end();
    }
  });
});
