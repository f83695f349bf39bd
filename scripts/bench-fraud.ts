// Benchmark (not a test): the fraud report on millions of history rows, on PostgreSQL.
//   node --conditions=source scripts/bench-fraud.ts [--rows 3000000]
// Creates and drops its own database (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test);
// fills RedemptionHistory with SQL (90 days, 10% refused, 20k IPs, 200k users, 200 campaigns), then
// times the report for each dimension over a day, a week and the whole window.
import { parseArgs } from "node:util";
import pg from "pg";
import { openStore } from "@coupons/db";

const { values } = parseArgs({ options: { rows: { type: "string", default: "3000000" } } });
const rows = Number(values.rows);
process.env.TEST_POSTGRES_URL ||= "postgres://postgres@127.0.0.1:5432/test";
const { createPostgresDatabase } = await import("../packages/db/test/support.ts");

const db = await createPostgresDatabase();
const c = new pg.Client({ connectionString: db.url });
await c.connect();
try {
  const t0 = performance.now();
  await c.query(
    `INSERT INTO RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason, IpAddress, UserAgent)
     SELECT 'C' || g, 'user-' || (g % 200000), 'camp-' || (g % 200), now() - (g % 7776000) * interval '1 second',
            g % 10 <> 0,
            CASE WHEN g % 10 = 0 THEN (ARRAY['COUPON_NOT_FOUND','ALREADY_REDEEMED','COUPON_EXPIRED','USER_LIMIT_REACHED'])[1 + g % 4] END,
            '10.' || (g % 20000 / 256) || '.' || (g % 256) || '.1', 'bench'
     FROM generate_series(1, $1) g`,
    [rows],
  );
  await c.query("VACUUM ANALYZE RedemptionHistory");
  console.log(`filled ${rows.toLocaleString("en-US")} history rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const store = await openStore(db.url);
  try {
    const now = Date.now();
    for (const [label, days] of [
      ["1 day", 1],
      ["7 days", 7],
      ["90 days", 90],
    ] as const) {
      for (const by of ["ip", "user", "campaign"] as const) {
        const times: number[] = [];
        let top = 0;
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          const report = await store.fraudReport({ since: new Date(now - days * 86_400_000), until: new Date(now), by, top: 20 });
          times.push(performance.now() - t);
          top = report.length;
        }
        times.sort((a, b) => a - b);
        console.log(`fraud report by ${by.padEnd(8)} over ${label.padEnd(7)}: median ${times[1]?.toFixed(0)} ms (top ${top})`);
      }
    }
  } finally {
    await store.close();
  }
} finally {
  await c.end();
  await db.drop();
}
