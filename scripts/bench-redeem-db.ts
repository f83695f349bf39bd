// Benchmark (not a test): redemptions through the store alone, no HTTP, on PostgreSQL.
// Compares one hot campaign against the same load spread over many campaigns, for the counter-slot
// design and for a naive design that also bumps the campaign's own counter row per redemption.
//   npm run bench:redeem-db -- [--seconds 10] [--clients 32]
// Uses TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) to create and drop its
// own database. Bounded: each scenario runs for --seconds and at most the coupons it created.
import { parseArgs } from "node:util";
import pg from "pg";
import { type CouponStore, openStore } from "@coupons/db";
import { seedCampaign } from "../apps/redeem-api/test/helpers.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, clients: { type: "string", default: "32" } } });
const seconds = Number(values.seconds);
const clients = Number(values.clients);
process.env.TEST_POSTGRES_URL ||= "postgres://postgres@127.0.0.1:5432/test";
const { createPostgresDatabase } = await import("../packages/db/test/support.ts");
const PER_SCENARIO = 200_000; // more than 32 clients redeem in 10 s here

async function seed(store: CouponStore, campaigns: number, prefix: string): Promise<string[]> {
  const per = Math.ceil(PER_SCENARIO / campaigns);
  let all: string[] = [];
  for (let c = 0; c < campaigns; c++) {
    const campaignId = `${prefix}-${c}`;
    const codes = Array.from({ length: per }, (_, k) => `${prefix}${c}Z${k}`.toUpperCase());
    await seedCampaign(store, { campaignId, codes });
    all = all.concat(codes);
  }
  // interleave so that consecutive redemptions hit different campaigns
  return campaigns === 1
    ? all
    : all
        .map((c, i) => ({ c, k: (i % per) * campaigns + Math.floor(i / per) }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.c);
}

type Scenario = {
  label: string;
  redeem: (code: string, user: string) => Promise<boolean>;
  codes: string[];
  next: number;
  ok: number;
  ms: number;
  lat: number[];
};
const scenario = (label: string, redeem: Scenario["redeem"], codes: string[]): Scenario => ({
  label,
  redeem,
  codes,
  next: 0,
  ok: 0,
  ms: 0,
  lat: [],
});

/** One slice of load: `clients` loops for `ms`, bounded by the scenario's coupons. */
async function slice(s: Scenario, ms: number) {
  const start = performance.now();
  const deadline = Date.now() + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      while (Date.now() < deadline && s.next < s.codes.length) {
        const code = s.codes[s.next++] as string;
        const t = performance.now();
        if (await s.redeem(code, `user-${w}-${s.next}`)) s.ok++;
        s.lat.push(performance.now() - t);
      }
    }),
  );
  s.ms += performance.now() - start;
}

/** Runs the scenarios in alternating slices, so a change in the machine's load hits them alike. */
async function compare(scenarios: [Scenario, Scenario], rounds = 4): Promise<[number, number]> {
  for (let r = 0; r < rounds; r++) for (const s of scenarios) await slice(s, (seconds * 1000) / rounds);
  const rates = scenarios.map((s) => {
    s.lat.sort((a, b) => a - b);
    const rate = s.ok / (s.ms / 1000);
    const p = (q: number) => (s.lat[Math.floor(s.lat.length * q)] ?? 0).toFixed(1);
    console.log(`${s.label.padEnd(38)} ${rate.toFixed(0).padStart(6)} redemptions/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms  (${s.ok} ok)`);
    return rate;
  });
  return [rates[0] ?? 0, rates[1] ?? 0];
}

const db = await createPostgresDatabase();
const store = await openStore(db.url, { poolSize: clients });
const raw = new pg.Pool({ connectionString: db.url, max: clients });
// the drop at the end ends any connection still open; a pool without a listener would crash on it
raw.on("error", () => {});
try {
  if (process.env.BENCH_SQL) await raw.query(process.env.BENCH_SQL); // for experiments on the schema
  await raw.query(`CREATE FUNCTION sp_RedeemCoupon_naive(p_code text, p_user text) RETURNS jsonb LANGUAGE plpgsql AS $$
    DECLARE r jsonb; BEGIN
      r := sp_RedeemCoupon(p_code, p_user, NULL, NULL, NULL, NULL, false);
      IF (r->>'ok')::boolean THEN UPDATE Campaigns SET CurrentRedemptions = CurrentRedemptions + 1 WHERE CampaignId = r->>'campaignId'; END IF;
      RETURN r; END $$`);
  console.log(
    `PostgreSQL store benchmark: ${clients} clients, ${seconds} s per scenario (machine: ${(await import("node:os")).cpus().length} cores)`,
  );
  const viaStore = async (c: string, u: string) => (await store.redeemCoupon({ code: c, userId: u })).ok;
  const naive = async (c: string, u: string) => (await raw.query("SELECT sp_RedeemCoupon_naive($1,$2) AS r", [c, u])).rows[0].r.ok === true;
  const [slotsOne, slotsMany] = await compare([
    scenario("slots: one hot campaign", viaStore, await seed(store, 1, "HOTA")),
    scenario("slots: spread over 200 campaigns", viaStore, await seed(store, 200, "MANYA")),
  ]);
  const [naiveOne, naiveMany] = await compare([
    scenario("naive counter row: one hot campaign", naive, await seed(store, 1, "HOTB")),
    scenario("naive counter row: 200 campaigns", naive, await seed(store, 200, "MANYB")),
  ]);
  console.log(`hot/many ratio: slots ${(slotsOne / slotsMany).toFixed(2)}x (target >= 0.8x), naive ${(naiveOne / naiveMany).toFixed(2)}x`);
} finally {
  await raw.end();
  await store.close();
  await db.drop();
}
