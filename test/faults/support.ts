// Shared by the fault suite: the figures it reports at the end, the real API on a fresh PostgreSQL
// database, and direct reads of the tables (the check must not trust the code under test).
import { type CouponStore, openStore } from "@coupons/db";
import pg from "pg";
import type { RunningServer } from "../../apps/redeem-api/src/server.ts";
import type { ApiClient } from "../../apps/redeem-api/test/helpers.ts";
import { type TestDatabase, createPostgresDatabase } from "../../packages/db/test/support.ts";

/** What the suite counts; printed once, at the very end of the run. */
export const figures = {
  racesRun: 0,
  doubleRedemptions: 0,
  limitOverruns: 0,
  killsSurvived: 0,
  fuzzedRequests: 0,
  serverErrors: 0,
  /** Bursts of simultaneous refused attempts against the throttle (throttle.test.ts). */
  throttle: [] as { subject: string; attempts: number; reached: number; allowance: number }[],
};

let printed = false;
// A root-level hook (registered once: this module is evaluated once per run).
after(function printFigures() {
  if (printed) return;
  printed = true;
  console.log(
    [
      "",
      "  Fault suite figures",
      `    races run:            ${figures.racesRun}`,
      `    double redemptions:   ${figures.doubleRedemptions}`,
      `    limit overruns:       ${figures.limitOverruns}`,
      `    kills survived:       ${figures.killsSurvived}`,
      `    fuzzed requests sent: ${figures.fuzzedRequests}`,
      `    5xx responses:        ${figures.serverErrors}`,
      ...figures.throttle.map(
        (t) =>
          `    throttle (${t.subject}): ${t.attempts} simultaneous refused attempts, ${t.reached} reached the store (allowance ${t.allowance})`,
      ),
      "",
    ].join("\n"),
  );
});

// children: the generator's test helpers keep the one registry (every child is SIGKILLed and waited
// for after its test, also on failure or timeout); `track` registers one started some other way
export { track } from "../../apps/generator/test/helpers.ts";

// ---------------------------------------------------------------------------------------------
// the database, read directly

export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const TABLES = [
  "Campaigns",
  "CampaignCounterSlots",
  "Coupons",
  "RedemptionHistory",
  "GenerationRequests",
  "UserRedemptions",
  "IdempotencyKeys",
];

export type Snapshot = Record<string, { rows: number; digest: string }>;

/** Row count and a digest of the whole content of every table (small test databases only). */
export async function snapshot(url: string): Promise<Snapshot> {
  return withPg(url, async (c) => {
    const out: Snapshot = {};
    for (const t of TABLES) {
      const r = await c.query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS d FROM ${t} t`);
      out[t] = { rows: r.rows[0].n, digest: r.rows[0].d };
    }
    return out;
  });
}

/** The tables whose content differs between two snapshots, with their row counts. */
export function changedTables(a: Snapshot, b: Snapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of Object.keys(a)) {
    if (a[t]?.digest !== b[t]?.digest) out[t] = `${a[t]?.rows} -> ${b[t]?.rows} rows`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the API on a fresh PostgreSQL database, on an ephemeral loopback port

export type ApiHarness = { db: TestDatabase; store: CouponStore; running: RunningServer; api: ApiClient; close(): Promise<void> };

export async function startApi(env: Record<string, string> = {}, opts: { poolSize?: number } = {}): Promise<ApiHarness> {
  // loaded here, not at the top: the generator's fault suites use this module without the API
  const { startServer, stopServer } = await import("../../apps/redeem-api/src/server.ts");
  const { ApiClient, testConfig } = await import("../../apps/redeem-api/test/helpers.ts");
  const db = await createPostgresDatabase();
  let store: CouponStore | undefined;
  try {
    store = await openStore(db.url, { poolSize: opts.poolSize ?? 16 });
    const running = await startServer({ store, config: testConfig(env) });
    const api = await ApiClient.connect(running.url);
    const s = store;
    return {
      db,
      store: s,
      running,
      api,
      async close() {
        await stopServer(running, { closeStore: false });
        await s.close();
        await db.drop();
      },
    };
  } catch (err) {
    await store?.close().catch(() => {});
    await db.drop().catch(() => {});
    throw err;
  }
}
