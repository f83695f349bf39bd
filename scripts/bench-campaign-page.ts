// The console's campaign page on a big campaign, through the real API on PostgreSQL, loopback only:
//
//   node --conditions=source scripts/bench-campaign-page.ts [--coupons 10000000] [--redeemed 3000000]
//        [--history 3000000] [--days 30] [--repeat 5] [--browser [--runs 5]] [--keep | --database <url>]
//   (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test: a server we may create a
//    database on; the script makes its own and drops it)
//
// Seeds one campaign with --coupons coupons (--redeemed of them redeemed, counted in its slots) and
// --history attempts spread evenly over the last --days days (90% redemptions, the rest refusals of
// four reasons), with generate_series INSERTs, then VACUUM ANALYZE. Then, against the API
// (apps/redeem-api/src/main.ts in a child process), times the reads the console's campaign page
// makes: GET campaign, GET stats (the counts), GET stats?interval=hour, GET stats?interval=day and
// the campaign's generation requests; each --repeat times, reporting the first (cold) and the median.
// Prints each timing and the page's total (sum of the medians; the console makes them in parallel,
// so this is an upper bound) against a 1 s target. --browser then opens the console's page of that
// campaign in headless Chromium (scripts/bench-console.ts against the same API, --runs loads; builds
// the console first if apps/console/dist is missing) and prints its time to data-ready: first load
// and median, against the same target. Exit code 1 when a figure misses the target. Bounded: a
// deadline of 30 minutes. --keep leaves the database (its URL is printed) for EXPLAIN or a rerun;
// --database <url> reuses such a database (no seeding; it is not dropped); drop it yourself.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { startApi } from "./bench-api-process.ts";

const { values: args } = parseArgs({
  options: {
    coupons: { type: "string", default: "10000000" },
    redeemed: { type: "string", default: "3000000" },
    history: { type: "string", default: "3000000" },
    days: { type: "string", default: "30" },
    repeat: { type: "string", default: "5" },
    keep: { type: "boolean", default: false },
    database: { type: "string" },
    browser: { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
  },
});
const COUPONS = Number(args.coupons);
const REDEEMED = Number(args.redeemed);
const HISTORY = Number(args.history);
const DAYS = Number(args.days);
const REPEAT = Number(args.repeat);
const RUNS = Number(args.runs);
const TARGET_MS = 1000;
const ok = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;
if (
  !ok(COUPONS, 100_000_000) ||
  !ok(REDEEMED, COUPONS) ||
  !ok(HISTORY, 100_000_000) ||
  !ok(DAYS, 365) ||
  DAYS < 1 ||
  !ok(REPEAT, 50) ||
  REPEAT < 1 ||
  !ok(RUNS, 50) ||
  RUNS < 1
) {
  console.error(
    "bench-campaign-page: --coupons, --redeemed (<= coupons), --history, --days (1-365), --repeat and --runs (1-50) must be whole numbers",
  );
  process.exit(2);
}
if (args.keep && args.database) {
  console.error("bench-campaign-page: --keep is for a database this script seeds; a --database given is never dropped");
  process.exit(2);
}
const DEADLINE_MS = 30 * 60_000;
const CHUNK = 1_000_000;
const CAMPAIGN = "BIG";
const KEY = `bench-${randomBytes(12).toString("hex")}`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  process.env.TEST_POSTGRES_URL ||= "postgres://postgres@127.0.0.1:5432/test";
  const { createPostgresDatabase } = await import("../packages/db/test/support.ts");
  const { openStore } = await import("@coupons/db");

  // a database of our own to seed, or one seeded earlier (--keep) to read again
  const db = args.database ? undefined : await createPostgresDatabase();
  const dbUrl = args.database ?? db?.url ?? "";
  let seedSeconds: number | undefined;
  let sizes = { coupons: COUPONS, history: HISTORY };
  let api: ChildProcess | undefined;
  const deadline = setTimeout(() => {
    console.error("bench-campaign-page: deadline passed; stopping");
    api?.kill("SIGKILL");
    (db ? db.drop() : Promise.resolve()).finally(() => process.exit(3));
  }, DEADLINE_MS);
  try {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    if (db) seedSeconds = await seed(db.url, db.name, c);
    else {
      const { rows } = await c.query<{ n: number; h: number }>(
        `SELECT (SELECT count(*) FROM Coupons WHERE CampaignId = $1)::int AS n,
                (SELECT count(*) FROM RedemptionHistory WHERE CampaignId = $1)::int AS h`,
        [CAMPAIGN],
      );
      sizes = { coupons: rows[0]?.n ?? 0, history: rows[0]?.h ?? 0 };
      console.log(
        `bench-campaign-page: reusing ${args.database} (campaign ${CAMPAIGN}: ${sizes.coupons} coupons, ${sizes.history} history rows); no seeding`,
      );
      if (!rows[0]?.n) throw new Error(`--database: no coupons of campaign ${CAMPAIGN} there; seed one with --keep first`);
    }

    // what the API's counter sync timer does (31 days per call): here until the closed hours are in
    const rollupStore = await openStore(dbUrl, { poolSize: 1 });
    try {
      const t = performance.now();
      let calls = 0;
      for (;;) {
        await rollupStore.syncCampaignCounters();
        calls++;
        const { rows } = await c.query<{ behind: boolean }>(
          "SELECT RolledUpTo < date_trunc('hour', now() - interval '5 minutes', 'UTC') AS behind FROM CampaignStatsRollup",
        );
        if (!rows[0]?.behind || calls >= 20) break;
      }
      console.log(`  counter sync and stats rollup of the history: ${calls} calls, ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } finally {
      await rollupStore.close();
    }
    await c.query("VACUUM ANALYZE CampaignStatsHourly");
    await c.end();

    const { base } = await startApi({
      databaseUrl: dbUrl,
      key: KEY,
      scopes: ["read", "admin"],
      onSpawn: (child) => {
        api = child;
      },
    });

    const reads: [string, string][] = [
      ["GET campaign", `/v1/campaigns/${CAMPAIGN}`],
      ["GET stats (counts)", `/v1/campaigns/${CAMPAIGN}/stats`],
      ["GET stats?interval=hour", `/v1/campaigns/${CAMPAIGN}/stats?interval=hour`],
      ["GET stats?interval=day", `/v1/campaigns/${CAMPAIGN}/stats?interval=day`],
      ["GET generation requests", `/v1/generation-requests?campaignId=${CAMPAIGN}`],
    ];
    const rows: { what: string; first: number; median: number; note: string }[] = [];
    for (const [what, path] of reads) {
      const times: number[] = [];
      let note = "";
      for (let i = 0; i < REPEAT; i++) {
        const t = performance.now();
        const res = await fetch(`${base}${path}`, { headers: { "x-api-key": KEY } });
        const body = (await res.json()) as Record<string, unknown>;
        times.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        if (i === 0) note = describe(body);
      }
      const sorted = [...times].sort((a, b) => a - b);
      rows.push({ what, first: times[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, note });
    }
    console.log(`\nbench-campaign-page: PostgreSQL ${new URL(dbUrl).host}, loopback, ${REPEAT} runs each\n`);
    console.log(`${"read".padEnd(26)} ${"first ms".padStart(9)} ${"median ms".padStart(10)}   answer`);
    for (const r of rows)
      console.log(`${r.what.padEnd(26)} ${r.first.toFixed(1).padStart(9)} ${r.median.toFixed(1).padStart(10)}   ${r.note}`);
    const total = rows.reduce((n, r) => n + r.median, 0);
    const totalFirst = rows.reduce((n, r) => n + r.first, 0);
    const browser = args.browser ? await browserRuns(base) : undefined;

    const verdict = (ms: number) => (ms <= TARGET_MS ? "PASS" : "FAIL");
    console.log(`\nbench-campaign-page: ${sizes.coupons} coupons, ${sizes.history} history rows; target ${TARGET_MS} ms`);
    console.log(seedSeconds === undefined ? `      seeding: none (reused ${args.database})` : `      seeding: ${seedSeconds.toFixed(1)} s`);
    console.log(
      `${verdict(total)}  the page's API reads in sequence (medians): ${total.toFixed(0)} ms (first runs: ${totalFirst.toFixed(0)} ms)`,
    );
    if (browser)
      console.log(
        `${verdict(browser.median)}  the page in Chromium, navigation to data-ready: median ${browser.median} ms over ${RUNS} load(s), first load ${browser.first} ms`,
      );
    if (total > TARGET_MS || (browser && browser.median > TARGET_MS)) process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    if (api && api.exitCode === null) {
      api.kill("SIGTERM");
      await new Promise((r) => api?.once("exit", r));
    }
    if (args.keep && db) console.log(`kept the database: ${db.url} (again: --database ${db.url})`);
    else await db?.drop();
  }
}

/** scripts/bench-console.ts against the API at base: its lines, then the first load's and the median time to data-ready. */
async function browserRuns(base: string): Promise<{ first: number; median: number }> {
  if (!existsSync(join(root, "apps/console/dist/index.html"))) {
    console.log("\nbuilding the console (apps/console/dist is missing)");
    execFileSync(process.execPath, [join(root, "apps/console/build.ts")], { cwd: root, stdio: "ignore" });
  }
  console.log(`\nbench-console: the console's campaign page in headless Chromium, ${RUNS} load(s)`);
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      join(root, "scripts/bench-console.ts"),
      "--url",
      base,
      "--key",
      KEY,
      "--campaign",
      CAMPAIGN,
      "--runs",
      String(RUNS),
    ],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: process.env },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d;
    process.stdout.write(d);
  });
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  const first = /^run 1 \(cold cache\): data-ready after (\d+) ms/m.exec(out)?.[1];
  const median = /^median time to data-ready: (\d+) ms/m.exec(out)?.[1];
  if (code !== 0 || first === undefined || median === undefined) throw new Error(`scripts/bench-console.ts failed (exit code ${code})`);
  return { first: Number(first), median: Number(median) };
}

/** Seeds the campaign into the fresh database at url; returns the seconds it took. */
async function seed(url: string, name: string, c: pg.Client): Promise<number> {
  const { openStore } = await import("@coupons/db");
  const store = await openStore(url, { poolSize: 2 });
  let requestId: string;
  try {
    await store.createCampaign({
      campaignId: CAMPAIGN,
      name: "A big campaign",
      startDate: new Date(Date.now() - (DAYS + 1) * 86_400_000),
      endDate: new Date(Date.now() + 365 * 86_400_000),
      discountPercentage: 10,
    });
    requestId = (await store.createGenerationRequest({ campaignId: CAMPAIGN, requestedAmount: Math.max(1, COUPONS) })).requestId;
  } finally {
    await store.close();
  }
  const t0 = performance.now();
  const step = async (what: string, sql: string, params: unknown[] = []) => {
    const t = performance.now();
    await c.query(sql, params);
    console.log(`  ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  console.log(
    `bench-campaign-page: seeding ${COUPONS} coupons (${REDEEMED} redeemed), ${HISTORY} history rows over ${DAYS} days in ${name}`,
  );
  for (let lo = 1; lo <= COUPONS; lo += CHUNK) {
    const hi = Math.min(COUPONS, lo + CHUNK - 1);
    await step(
      `coupons ${lo}-${hi}`,
      `INSERT INTO Coupons (CouponCode, CampaignId, IsRedeemed, RedeemedAt, RedeemedBy, GenerationBatchId)
         SELECT 'BIG' || i, $1, i <= $2, CASE WHEN i <= $2 THEN now() - (i % ($3 * 24)) * interval '1 hour' END,
                CASE WHEN i <= $2 THEN 'u' || i END, $4
         FROM generate_series($5::bigint, $6::bigint) i`,
      [CAMPAIGN, REDEEMED, DAYS, requestId, lo, hi],
    );
  }
  await step(
    "generation request and counter slots",
    `WITH r AS (UPDATE GenerationRequests SET GeneratedAmount = $2, RequestedAmount = greatest($2, 1), Status = 'Generated',
                  CompletedAt = now() WHERE RequestId = $3)
       UPDATE CampaignCounterSlots s SET Redemptions = k.n
       FROM (SELECT (CouponId % 16)::int AS slot, count(*)::int AS n FROM Coupons WHERE CampaignId = $1 AND IsRedeemed GROUP BY 1) k
       WHERE s.CampaignId = $1 AND s.Slot = k.slot`,
    [CAMPAIGN, COUPONS, requestId],
  );
  const reasons = ["ALREADY_REDEEMED", "COUPON_NOT_FOUND", "USER_LIMIT_REACHED", "COUPON_EXPIRED"];
  for (let lo = 1; lo <= HISTORY; lo += CHUNK) {
    const hi = Math.min(HISTORY, lo + CHUNK - 1);
    await step(
      `history ${lo}-${hi}`,
      `INSERT INTO RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason, IpAddress)
         SELECT 'BIG' || (i % greatest($2, 1)), 'u' || i, $1, now() - (i::float8 / $3) * ($4 * interval '1 day'),
                i % 10 <> 0, CASE WHEN i % 10 = 0 THEN ($5::text[])[1 + (i / 10) % 4] END, '192.0.2.1'
         FROM generate_series($6::bigint, $7::bigint) i`,
      [CAMPAIGN, COUPONS, HISTORY, DAYS, reasons, lo, hi],
    );
  }
  // as if the database had been migrated when the history began: the stats rollup starts there
  await step(
    "rollup start",
    "UPDATE CampaignStatsRollup SET RolledUpFrom = date_trunc('hour', $1::timestamptz, 'UTC'), RolledUpTo = date_trunc('hour', $1::timestamptz, 'UTC')",
    [new Date(Date.now() - (DAYS + 1) * 86_400_000)],
  );
  await step("VACUUM ANALYZE", "VACUUM ANALYZE");
  const seconds = (performance.now() - t0) / 1000;
  console.log(`  seeded in ${seconds.toFixed(0)} s`);
  return seconds;
}

function describe(body: Record<string, unknown>): string {
  if (Array.isArray((body.series as { points?: unknown[] } | undefined)?.points)) {
    const points = (body.series as { points: { redemptions: number }[] }).points;
    return `${points.length} buckets, ${points.reduce((n, p) => n + p.redemptions, 0)} redemptions`;
  }
  if ("totalCoupons" in body) return `total ${body.totalCoupons}, redeemed ${body.redeemedCoupons}, expired ${body.expiredCoupons}`;
  if ("currentRedemptions" in body) return `currentRedemptions ${body.currentRedemptions}`;
  if (Array.isArray(body.requests)) return `${body.requests.length} requests`;
  return Object.keys(body).join(",");
}

await main();
