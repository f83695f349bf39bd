// The stats series' hourly rollup (database/postgres/R__0600_statistics.sql) on PostgreSQL: history
// rows spread over ten days (written straight into the table, as days of redemptions would have),
// rolled up by the store's counter sync; every window, aligned or not, hourly or daily, counts
// exactly what a direct aggregation of the history and its archive counts, and the rollup only ever
// holds closed hours.
import { expect } from "chai";
import pg from "pg";
import { type CouponStore, type StatsSeries, openStore } from "../src/index.ts";
import { makeCampaign } from "./conformance.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "./support.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What the series must say, from the history and the archive directly. */
async function truth(c: pg.Client, campaignId: string, interval: "hour" | "day", since: Date, until: Date) {
  const { rows } = await c.query<{ b: Date; success: boolean; reason: string | null; n: number }>(
    `SELECT date_trunc($2, a.AttemptedAt, 'UTC') AS b, a.Success, a.FailureReason AS reason, count(*)::int AS n
     FROM (SELECT AttemptedAt, Success, FailureReason FROM RedemptionHistory WHERE CampaignId = $1
           UNION ALL SELECT AttemptedAt, Success, FailureReason FROM RedemptionHistoryArchive WHERE CampaignId = $1) a
     WHERE a.AttemptedAt >= $3 AND a.AttemptedAt < $4 GROUP BY 1, 2, 3`,
    [campaignId, interval, since, until],
  );
  const out = new Map<string, { redemptions: number; refusals: Record<string, number> }>();
  for (const r of rows) {
    const key = r.b.toISOString();
    const p = out.get(key) ?? { redemptions: 0, refusals: {} };
    if (r.success) p.redemptions += r.n;
    else p.refusals[r.reason as string] = (p.refusals[r.reason as string] ?? 0) + r.n;
    out.set(key, p);
  }
  return out;
}

function nonEmpty(s: StatsSeries | null) {
  const out = new Map<string, { redemptions: number; refusals: Record<string, number> }>();
  for (const p of s?.points ?? []) {
    if (p.redemptions > 0 || Object.keys(p.refusals).length > 0) {
      out.set(p.start.toISOString(), { redemptions: p.redemptions, refusals: p.refusals as Record<string, number> });
    }
  }
  return out;
}

describePostgres("postgres engine: the stats series' hourly rollup", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let store: CouponStore;
  let c: pg.Client;
  before(async () => {
    db = await createPostgresDatabase();
    store = await openStore(db.url, { poolSize: 4 });
    c = new pg.Client({ connectionString: db.url });
    await c.connect();
  });
  after(async () => {
    await c?.end();
    await store?.close();
    await db?.drop();
  });

  it("counts every window exactly as the history does, with closed hours read from the rollup", async () => {
    const campaignId = await makeCampaign(store);
    const other = await makeCampaign(store);
    const now = Date.now();
    const start = new Date(Math.floor((now - 10 * DAY) / HOUR) * HOUR);
    // the database as if migrated ten days ago: the rollup starts there
    await c.query("UPDATE CampaignStatsRollup SET RolledUpFrom = $1, RolledUpTo = $1", [start]);
    // 5,000 attempts over the ten days up to now: every 7th refused (three reasons), some of another campaign
    await c.query(
      `INSERT INTO RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason)
       SELECT 'R' || i, 'u' || i, CASE WHEN i % 11 = 0 THEN $2 ELSE $1 END,
              $3::timestamptz + (i::float8 / 5000) * ($4::timestamptz - $3::timestamptz),
              i % 7 <> 0, CASE WHEN i % 7 = 0 THEN (ARRAY['ALREADY_REDEEMED', 'COUPON_NOT_FOUND', 'USER_LIMIT_REACHED'])[1 + i % 3] END
       FROM generate_series(0, 4999) i`,
      [campaignId, other, start, new Date(now - 1000)],
    );
    // and two of them archived, as an archive run would have moved them
    await c.query(
      `WITH moved AS (DELETE FROM RedemptionHistory WHERE RedemptionId IN
         (SELECT RedemptionId FROM RedemptionHistory WHERE CampaignId = $1 ORDER BY AttemptedAt LIMIT 2) RETURNING *)
       INSERT INTO RedemptionHistoryArchive SELECT * FROM moved`,
      [campaignId],
    );
    await store.syncCampaignCounters();
    const state = (await c.query<{ to: Date }>("SELECT RolledUpTo AS to FROM CampaignStatsRollup")).rows[0];
    const closed = Math.floor((now - 5 * 60_000) / HOUR) * HOUR;
    expect(state?.to.getTime(), "closed hours only").to.be.at.most(closed);
    expect(state?.to.getTime(), "the closed hours are rolled up").to.be.at.least(closed - HOUR);
    const rolled = (
      await c.query<{ n: number }>("SELECT sum(Attempts)::int AS n FROM CampaignStatsHourly WHERE CampaignId = $1", [campaignId])
    ).rows[0];
    expect(rolled?.n, "most attempts now come from the rollup").to.be.greaterThan(4000);

    const windows: ["hour" | "day", Date, Date][] = [
      ["day", new Date(now - 30 * DAY), new Date(now)],
      ["hour", new Date(now - 48 * HOUR), new Date(now)],
      ["hour", new Date(start.getTime() + 17 * 60_000), new Date(start.getTime() + 30 * HOUR + 5 * 60_000)],
      ["day", new Date(start.getTime() - DAY), new Date(start.getTime() + 3 * DAY + 7 * HOUR + 1234)],
      ["hour", new Date(now - 3 * HOUR - 61_000), new Date(now + HOUR)],
    ];
    for (const [interval, since, until] of windows) {
      const got = nonEmpty(await store.getCampaignStatsSeries(campaignId, { interval, since, until }));
      expect(got, `${interval} ${since.toISOString()} .. ${until.toISOString()}`).to.deep.equal(
        await truth(c, campaignId, interval, since, until),
      );
    }
    // a second sync adds nothing twice
    const before = (await c.query<{ n: number }>("SELECT sum(Attempts)::int AS n FROM CampaignStatsHourly")).rows[0]?.n;
    await store.syncCampaignCounters();
    expect((await c.query<{ n: number }>("SELECT sum(Attempts)::int AS n FROM CampaignStatsHourly")).rows[0]?.n).to.equal(before);
  });
});
