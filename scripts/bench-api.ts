// Load benchmark of the redeem API on PostgreSQL, on loopback only, bounded in time and count.
//
//   TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npm exec -- node --conditions=source scripts/bench-api.ts
//
// Creates its own database (dropped at the end), seeds coupons through the store, then runs, with
// autocannon in this process against servers in child processes (the real entry point
// apps/redeem-api/src/main.ts at log level info, and a bare express app for the ceiling):
//   empty      POST to an empty express endpoint (the ceiling)
//   one        redemptions of distinct coupons of one campaign (with a total cap)
//   many       redemptions of distinct coupons spread over 200 campaigns
//   storm      every request redeems the same coupon: exactly 1 success
//   db-only    the same redemptions called on the store directly (no HTTP), for the database's share,
//              32 calls in flight on a store with the API's pool size (BENCH_POOL_SIZE, default 16)
// 32 connections, 10 s each (BENCH_DURATION_S), each run also capped by the number of coupons seeded for it.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import express from "express";
import { freePort } from "../packages/db/test/urls.ts";
import { seedCampaign } from "../apps/redeem-api/test/helpers.ts";
import { startApi } from "./bench-api-process.ts";

const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
/** One pool size for the API's store and the db-only row's store, so the two rows compare. */
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 16);
const CODES_PER_RUN = 80_000;
const MANY_CAMPAIGNS = 200;
const DEADLINE_MS = 6 * 60_000;
const KEY = `bench-${randomBytes(12).toString("hex")}`;

if (process.argv[2] === "--empty-server") {
  // the ceiling: express, a JSON body parser and an empty answer, nothing else
  const app = express();
  app.post("/empty", express.json(), (_req, res) => {
    res.json({});
  });
  app.listen(Number(process.argv[3]), "127.0.0.1");
} else {
  await main();
}

type Row = { scenario: string; rps: number; p50: number; p99: number; ok: number; other: number; note: string };

async function load(url: string, name: string, amount: number, body: (i: number) => object, headers: Record<string, string> = {}) {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    maxOverallRequests: amount,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": KEY, ...headers },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body(i++)) }),
      },
    ],
  });
  return {
    scenario: name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    other: result.non2xx + result.errors + result.timeouts,
    note: "",
  } satisfies Row;
}

async function main(): Promise<void> {
  const pgUrl = /^postgres(ql)?:/.test(process.env.COUPONS_DATABASE_URL ?? "")
    ? process.env.COUPONS_DATABASE_URL
    : process.env.TEST_POSTGRES_URL;
  if (!pgUrl) {
    console.error("bench-api: set TEST_POSTGRES_URL (or COUPONS_DATABASE_URL) to a PostgreSQL server we may create a database on");
    process.exit(2);
  }
  process.env.TEST_POSTGRES_URL = pgUrl;
  const { createPostgresDatabase } = await import("../packages/db/test/support.ts");
  const { openStore } = await import("@coupons/db");

  const children: ChildProcess[] = [];
  const db = await createPostgresDatabase();
  const store = await openStore(db.url, { poolSize: POOL_SIZE });
  const deadline = setTimeout(() => {
    console.error("bench-api: deadline passed; stopping");
    for (const c of children) c.kill("SIGKILL");
    store
      .close()
      .catch(() => {})
      .then(() => db.drop())
      .finally(() => process.exit(3));
  }, DEADLINE_MS);
  const rows: Row[] = [];
  try {
    console.log(`bench-api: seeding ${CODES_PER_RUN * 3 + 5_000} coupons in ${db.name} ...`);
    const seed = async (campaignIds: string[], perCampaign: number, prefix: string, cap: number | null): Promise<string[]> => {
      const codes: string[] = [];
      for (const campaignId of campaignIds) {
        const mine = Array.from({ length: perCampaign }, (_, i) => `${prefix}${campaignId}-${i}`.toUpperCase());
        await seedCampaign(store, { campaignId, codes: mine, maxTotalRedemptions: cap });
        codes.push(...mine);
      }
      return codes;
    };
    const warm = await seed(["WARM"], 5_000, "W", null);
    // a cap far above what the run can reach: the slot budgets are in play, the cap never refuses
    const one = await seed(["HOT"], CODES_PER_RUN, "H", 10_000_000);
    const manyIds = Array.from({ length: MANY_CAMPAIGNS }, (_, i) => `C${i}`);
    const manyByCampaign = await seed(manyIds, CODES_PER_RUN / MANY_CAMPAIGNS, "M", 10_000_000);
    // interleave so that consecutive requests hit different campaigns
    const many = Array.from({ length: manyByCampaign.length }, (_, i) => {
      const per = CODES_PER_RUN / MANY_CAMPAIGNS;
      return manyByCampaign[(i % MANY_CAMPAIGNS) * per + Math.floor(i / MANY_CAMPAIGNS)]!;
    });
    const dbOnly = await seed(["DBONLY"], CODES_PER_RUN, "D", 10_000_000);
    await seed(["STORM"], 1, "S", null);
    const stormCode = "SSTORM-0";

    // the ceiling
    const emptyPort = await freePort();
    const empty = spawn(process.execPath, ["--conditions=source", fileURLToPath(import.meta.url), "--empty-server", String(emptyPort)], {
      stdio: "ignore",
    });
    children.push(empty);
    const emptyUrl = `http://127.0.0.1:${emptyPort}/empty`;
    await new Promise((r) => setTimeout(r, 500));
    await load(emptyUrl, "warm-up", 20_000, () => ({ code: "X", userId: "u" }));
    const emptyRow = await load(emptyUrl, "empty express endpoint", 10_000_000, (i) => ({ code: `E${i}`, userId: `u${i}` }));
    rows.push(emptyRow);
    empty.kill("SIGTERM");

    // the API, as the container runs it
    const { port: apiPort, child: api } = await startApi({
      databaseUrl: db.url,
      key: KEY,
      scopes: ["redeem", "read"],
      logLevel: "info",
      env: { COUPONS_DB_POOL_SIZE: String(POOL_SIZE) },
      onSpawn: (child) => children.push(child),
    });
    const apiUrl = `http://127.0.0.1:${apiPort}/v1/redemptions`;
    await load(apiUrl, "warm-up", warm.length, (i) => ({ code: warm[i % warm.length], userId: `w${i}` }));

    const oneRow = await load(apiUrl, "redeem, one campaign", one.length, (i) => ({
      code: one[i % one.length],
      userId: `o${i}`,
      ipAddress: "192.0.2.1",
    }));
    rows.push(oneRow);
    const manyRow = await load(apiUrl, `redeem, ${MANY_CAMPAIGNS} campaigns`, many.length, (i) => ({
      code: many[i % many.length],
      userId: `m${i}`,
      ipAddress: "192.0.2.2",
    }));
    rows.push(manyRow);
    // distinct users and addresses: each storm request is one user's single refusal, not a guessing attack
    const stormRow = await load(apiUrl, "same-coupon storm", 1_000_000, (i) => ({
      code: stormCode,
      userId: `s${i}`,
      ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    }));
    rows.push(stormRow);
    api.kill("SIGTERM");
    await new Promise((r) => api.once("exit", r));

    // the database alone: the same calls, as many in flight as autocannon's connections, no HTTP
    let next = 0;
    const lat: number[] = [];
    const started = performance.now();
    const stopAt = started + DURATION_S * 1000;
    let dbOk = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < stopAt && next < dbOnly.length) {
          const code = dbOnly[next++]!;
          const t = performance.now();
          const r = await store.redeemCoupon({ code, userId: `d${next}`, ipAddress: "192.0.2.3", userAgent: "bench" });
          lat.push(performance.now() - t);
          if (r.ok) dbOk++;
        }
      }),
    );
    const secs = (performance.now() - started) / 1000;
    lat.sort((a, b) => a - b);
    const q = (p: number) => Math.round((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0) * 10) / 10;
    rows.push({
      scenario: `db only (store, pool ${POOL_SIZE})`,
      rps: Math.round(lat.length / secs),
      p50: q(0.5),
      p99: q(0.99),
      ok: dbOk,
      other: lat.length - dbOk,
      note: "",
    });

    // successes, counted by the database
    const redeemed = async (ids: string[]) => {
      let n = 0;
      for (const id of ids) n += (await store.getRedemptionStats(id))?.redeemedCoupons ?? 0;
      return n;
    };
    oneRow.note = `db: ${await redeemed(["HOT"])} redeemed`;
    manyRow.note = `db: ${await redeemed(manyIds)} redeemed`;
    const stormDb = await redeemed(["STORM"]);
    stormRow.note = `db: ${stormDb} redeemed; must be exactly 1`;

    console.log(
      `\nbench-api: ${CONNECTIONS} connections, ${DURATION_S} s per run, pool ${POOL_SIZE} (API and db-only), loopback; API in a child process, autocannon here; PostgreSQL ${new URL(pgUrl).host}\n`,
    );
    console.log("scenario                       req/s    p50 ms  p99 ms   2xx      other   note");
    for (const r of rows) {
      console.log(
        `${r.scenario.padEnd(28)} ${String(Math.round(r.rps)).padStart(7)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(7)} ${String(r.ok).padStart(8)} ${String(r.other).padStart(8)}   ${r.note}`,
      );
    }
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "n/a");
    const worst = Math.min(oneRow.rps, manyRow.rps);
    const checks = [
      [`redemptions/s >= 0.5x empty endpoint`, `${ratio(worst, emptyRow.rps)}x`, worst >= 0.5 * emptyRow.rps],
      [`p99 <= 25 ms`, `${Math.max(oneRow.p99, manyRow.p99)} ms`, Math.max(oneRow.p99, manyRow.p99) <= 25],
      [`one campaign >= 0.8x many campaigns`, `${ratio(oneRow.rps, manyRow.rps)}x`, oneRow.rps >= 0.8 * manyRow.rps],
      [`storm: exactly 1 success`, `${stormRow.ok} (http), ${stormDb} (db)`, stormRow.ok === 1 && stormDb === 1],
    ] as const;
    console.log("");
    for (const [what, got, pass] of checks) console.log(`${pass ? "PASS" : "MISS"}  ${what}: ${got}`);
    if (!checks[3][2]) process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await store.close();
    await db.drop();
  }
}
