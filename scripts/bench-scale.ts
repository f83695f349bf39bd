// Benchmark (not a test): what growth costs on PostgreSQL. In a database of its own, measures the
// generation rate on an empty Coupons table, then fills the table to each size (server-side
// INSERT ... SELECT of random 16-character codes over 20 campaigns, 1M rows per transaction) and
// measures at each size: lookup latency (getCouponDetails), redeem latency (redeemCoupon of distinct
// unredeemed coupons) and the generation rate (the median of three 200k-code requests worked by the
// generator's own pipeline, `generate` of apps/generator, with its default batch size, concurrency
// and code source), all through the CouponStore.
//   node --conditions=source scripts/bench-scale.ts [--sizes 1000000,20000000] [--ops 4000]
//        [--clients 2] [--generate 200000] [--url postgres://postgres@127.0.0.1:5432/postgres] [--keep]
// With --layouts N it measures instead whether PostgreSQL should partition Coupons: the current
// single table against Coupons hash-partitioned by CampaignId (16 partitions) with a separate
// CouponCodes table keeping codes unique across partitions (PostgreSQL has no global unique index),
// each prefilled with N rows: bulk-insert rate of 200k codes (drawn by the generator's code source, in
// batches of its default size) and lookup/redeem latency by code.
// The database is dropped at the end unless --keep. Bounded: the fill is the sizes given; each
// latency phase is --ops calls.
import { createHash, randomBytes, randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { type CouponStore, openStore } from "@coupons/db";
import { migratePostgres } from "../packages/db/src/engines/postgres.ts";
import { codeSource, drawDistinct } from "../apps/generator/src/codes.ts";
import { DEFAULT_BATCH_SIZE, generate } from "../apps/generator/src/pipeline.ts";
import { withDatabase } from "../packages/db/test/urls.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000000,20000000" },
    ops: { type: "string", default: "4000" },
    clients: { type: "string", default: "2" },
    generate: { type: "string", default: "200000" },
    url: { type: "string", default: process.env.TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres" },
    keep: { type: "boolean", default: false },
    layouts: { type: "string" },
  },
});
const sizes = values.sizes.split(",").map((s) => Number(s.trim()));
const OPS = Number(values.ops);
const CLIENTS = Number(values.clients);
const GENERATE = Number(values.generate);
const CAMPAIGNS = 20;
const FILL_CHUNK = 1_000_000;

const t0 = Date.now();
const log = (s: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s] ${s}\n`);

if (values.layouts) {
  await compareLayouts(Number(values.layouts));
  process.exit(0);
}

const dbName = `coupons_scale_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: values.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = withDatabase(values.url, dbName);
log(`database ${dbName}`);

type Row = { size: number; lookupP50?: number; lookupP99?: number; redeemP50?: number; redeemP99?: number; genRate: number };
const results: Row[] = [];

let store: CouponStore | undefined;
const fill = new pg.Client({ connectionString: url });
try {
  await migratePostgres(url);
  store = await openStore(url, { poolSize: CLIENTS + 2, applicationName: "bench-scale" });
  await fill.connect();
  const DAY = 86_400_000;
  for (let c = 0; c < CAMPAIGNS; c++) {
    await store.createCampaign({
      campaignId: `fill-${c}`,
      name: `fill ${c}`,
      startDate: new Date(Date.now() - DAY),
      endDate: new Date(Date.now() + 365 * DAY),
      discountPercentage: 10,
    });
  }
  await store.createCampaign({
    campaignId: "gen",
    name: "generation",
    startDate: new Date(Date.now() - DAY),
    endDate: new Date(Date.now() + 365 * DAY),
    discountPercentage: 10,
  });

  await generation(store, "warm-up", 20_000); // JIT and connections, not measured
  results.push({ size: 0, genRate: await generationRate(store, "empty") });
  let filled = 0;
  for (const size of sizes) {
    while (filled < size) {
      const n = Math.min(FILL_CHUNK, size - filled);
      // g is unique, so md5(g || salt) is too (16 hex characters collide with negligible odds;
      // ON CONFLICT keeps the fill going if they ever do)
      await fill.query(
        `INSERT INTO Coupons (CouponCode, CampaignId, GenerationBatchId)
         SELECT upper(substr(md5(g::text || 'salt'), 1, 16)), 'fill-' || (g % ${CAMPAIGNS}), 'fill'
         FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT DO NOTHING`,
        [filled + 1, filled + n],
      );
      filled += n;
      if (filled % 5_000_000 === 0 || filled === size) log(`filled ${filled.toLocaleString("en-US")}`);
    }
    await fill.query("VACUUM ANALYZE Coupons");
    const total = Number((await fill.query("SELECT count(*) AS n FROM Coupons")).rows[0].n);
    log(`size ${size.toLocaleString("en-US")} (Coupons has ${total.toLocaleString("en-US")} rows)`);
    const lookup = await latency(store, "lookup", async (s, code) => {
      const d = await s.getCouponDetails(code);
      if (!d) throw new Error(`lookup of ${code} found nothing`);
    });
    const redeem = await latency(store, "redeem", async (s, code, i) => {
      const r = await s.redeemCoupon({ code, userId: `u${i}`, ipAddress: "10.0.0.1" });
      if (!r.ok) throw new Error(`redeem of ${code} refused: ${r.reason}`);
    });
    results.push({
      size,
      lookupP50: lookup.p50,
      lookupP99: lookup.p99,
      redeemP50: redeem.p50,
      redeemP99: redeem.p99,
      genRate: await generationRate(store, `at ${size}`),
    });
  }
} finally {
  await store?.close();
  await fill.end().catch(() => {});
  if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  else log(`kept database ${dbName}`);
  await admin.end();
}

const base = results[0]?.genRate ?? 1;
const first = results[1];
const fmt = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(2));
const lines = [
  "| coupons in table | lookup p50 / p99 (ms) | redeem p50 / p99 (ms) | generation (codes/s) | vs empty |",
  "|---:|---|---|---:|---:|",
  ...results.map(
    (r) =>
      `| ${r.size.toLocaleString("en-US")} | ${fmt(r.lookupP50)} / ${fmt(r.lookupP99)} | ${fmt(r.redeemP50)} / ${fmt(r.redeemP99)} | ${Math.round(r.genRate).toLocaleString("en-US")} | ${(r.genRate / base).toFixed(2)}x |`,
  ),
];
const last = results[results.length - 1];
if (first && last && last !== first) {
  lines.push(
    "",
    `largest vs smallest size: lookup p99 ${((last.lookupP99 ?? 0) / (first.lookupP99 ?? 1)).toFixed(2)}x, redeem p99 ${((last.redeemP99 ?? 0) / (first.redeemP99 ?? 1)).toFixed(2)}x (target <= 1.5x); generation ${(last.genRate / base).toFixed(2)}x the empty-table rate (target >= 0.8x)`,
  );
}
process.stdout.write(`${lines.join("\n")}\n`);
log(`done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);

/** Random existing, unredeemed filler codes: ids are dense from 1 (identity), so sample ids. */
async function sampleCodes(n: number): Promise<string[]> {
  const max = Number((await fill.query("SELECT max(CouponId) AS m FROM Coupons WHERE GenerationBatchId = 'fill'")).rows[0].m);
  const ids = new Set<number>();
  while (ids.size < n * 1.2) ids.add(randomInt(1, max + 1));
  const rows = (await fill.query("SELECT CouponCode FROM Coupons WHERE CouponId = ANY($1::bigint[]) AND NOT IsRedeemed", [[...ids]]))
    .rows as { couponcode: string }[];
  const codes = rows.map((r) => r.couponcode);
  for (let i = codes.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [codes[i], codes[j]] = [codes[j] as string, codes[i] as string];
  }
  return codes.slice(0, n);
}

async function latency(
  s: CouponStore,
  label: string,
  call: (s: CouponStore, code: string, i: number) => Promise<void>,
): Promise<{ p50: number; p99: number }> {
  const warm = Math.min(1000, OPS);
  const codes = await sampleCodes(OPS + warm);
  let next = 0;
  const times: number[] = [];
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= codes.length) return;
      const start = process.hrtime.bigint();
      await call(s, codes[i] as string, i);
      if (i >= warm) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
  log(`${label}: ${times.length} calls, p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms`);
  return { p50: q(0.5), p99: q(0.99) };
}

/** The median of three generation runs. */
async function generationRate(s: CouponStore, label: string): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) rates.push(await generation(s, `${label} #${i + 1}`));
  return rates.sort((a, b) => a - b)[1] as number;
}

/** One request of `amount` codes (14 random characters), worked by the generator's pipeline as
 *  `coupons run` works it; the rate is over the whole `generate` call (claim to release). */
async function generation(s: CouponStore, label: string, amount = GENERATE): Promise<number> {
  const req = await s.createGenerationRequest({ campaignId: "gen", requestedAmount: amount, codeLength: 14 });
  const start = performance.now();
  const result = await generate(s, req.requestId, { workerId: "bench-scale" });
  const rate = (result.inserted * 1000) / (performance.now() - start);
  if (result.outcome !== "generated") throw new Error(`generation ${label} ended ${result.outcome}`);
  log(`generation ${label}: ${Math.round(rate).toLocaleString("en-US")} codes/s (${result.collisions} collisions)`);
  return rate;
}

/** Single table vs partitioned + CouponCodes, on plain SQL (no store: the partitioned layout has no
 *  procedures), the same statements shape on both sides. */
async function compareLayouts(prefill: number): Promise<void> {
  const name = `coupons_layout_${randomBytes(4).toString("hex")}`;
  const a = new pg.Client({ connectionString: values.url });
  await a.connect();
  await a.query(`CREATE DATABASE ${name}`);
  const c = new pg.Client({ connectionString: withDatabase(values.url, name) });
  await c.connect();
  try {
    const cols = `CouponCode varchar(50) COLLATE "C" NOT NULL, CampaignId varchar(100) NOT NULL,
      IsRedeemed boolean NOT NULL DEFAULT false, RedeemedAt timestamptz, RedeemedBy varchar(100), ExpiresAt timestamptz,
      AssignedTo varchar(100), GenerationBatchId varchar(100), CreatedAt timestamptz NOT NULL DEFAULT now()`;
    await c.query(`
      CREATE TABLE single (CouponId bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, ${cols}, UNIQUE (CouponCode)) WITH (fillfactor = 90);
      CREATE INDEX ON single (CampaignId, CouponId);
      CREATE INDEX ON single (ExpiresAt, CouponId);
      CREATE INDEX ON single (GenerationBatchId, CouponId);
      CREATE TABLE codes (CouponCode varchar(50) COLLATE "C" PRIMARY KEY, CampaignId varchar(100) NOT NULL);
      CREATE TABLE parted (CouponId bigint GENERATED BY DEFAULT AS IDENTITY, ${cols}, PRIMARY KEY (CampaignId, CouponId),
        UNIQUE (CampaignId, CouponCode)) PARTITION BY HASH (CampaignId);
      CREATE INDEX ON parted (ExpiresAt, CouponId);
      CREATE INDEX ON parted (GenerationBatchId, CouponId);`);
    for (let i = 0; i < 16; i++) {
      await c.query(`CREATE TABLE parted_${i} PARTITION OF parted FOR VALUES WITH (MODULUS 16, REMAINDER ${i}) WITH (fillfactor = 90)`);
    }
    for (let done = 0; done < prefill; done += FILL_CHUNK) {
      const to = Math.min(prefill, done + FILL_CHUNK);
      const gen = `SELECT upper(substr(md5(g::text || 'salt'), 1, 16)) AS code, 'fill-' || (g % ${CAMPAIGNS}) AS camp FROM generate_series(${done + 1}, ${to}) g`;
      await c.query(`INSERT INTO single (CouponCode, CampaignId, GenerationBatchId) SELECT code, camp, 'fill' FROM (${gen}) x`);
      await c.query(`INSERT INTO codes SELECT code, camp FROM (${gen}) x`);
      await c.query(`INSERT INTO parted (CouponCode, CampaignId, GenerationBatchId) SELECT code, camp, 'fill' FROM (${gen}) x`);
    }
    await c.query("VACUUM ANALYZE");
    log(`layouts prefilled with ${n(prefill)} rows each`);
    const insert = {
      single: `INSERT INTO single (CouponCode, CampaignId, GenerationBatchId) SELECT x, 'gen', 'gen' FROM unnest($1::text[]) x
               ON CONFLICT (CouponCode) DO NOTHING`,
      partitioned: `WITH fresh AS (INSERT INTO codes SELECT x, 'gen' FROM unnest($1::text[]) x ON CONFLICT DO NOTHING RETURNING CouponCode)
                    INSERT INTO parted (CouponCode, CampaignId, GenerationBatchId) SELECT CouponCode, 'gen', 'gen' FROM fresh`,
    };
    const lookup = {
      single: "SELECT * FROM single WHERE CouponCode = $1",
      partitioned: `SELECT p.* FROM codes k JOIN parted p ON p.CampaignId = k.CampaignId AND p.CouponCode = k.CouponCode
                    WHERE k.CouponCode = $1`,
    };
    const redeem = {
      single: "UPDATE single SET IsRedeemed = true, RedeemedAt = now(), RedeemedBy = 'u' WHERE CouponCode = $1 AND NOT IsRedeemed",
      partitioned: `UPDATE parted p SET IsRedeemed = true, RedeemedAt = now(), RedeemedBy = 'u' FROM codes k
                    WHERE k.CouponCode = $1 AND p.CampaignId = k.CampaignId AND p.CouponCode = k.CouponCode AND NOT p.IsRedeemed`,
    };
    const rows: string[] = [];
    for (const layout of ["single", "partitioned"] as const) {
      const rates: number[] = [];
      for (let run = 0; run < 3; run++) {
        const next = codeSource(`L${run}${randomBytes(2).toString("hex").toUpperCase()}`, 14);
        const start = Date.now();
        for (let i = 0; i < GENERATE; i += DEFAULT_BATCH_SIZE) {
          await c.query(insert[layout], [drawDistinct(next, Math.min(DEFAULT_BATCH_SIZE, GENERATE - i))]);
        }
        rates.push(GENERATE / ((Date.now() - start) / 1000));
      }
      const rate = rates.sort((x, y) => x - y)[1] as number;
      const ids = Array.from({ length: OPS }, () => randomInt(1, prefill + 1));
      const codes = ids.map((g) => createHash("md5").update(`${g}salt`).digest("hex").slice(0, 16).toUpperCase());
      const time = async (text: string) => {
        const t: number[] = [];
        for (const code of codes) {
          const s0 = process.hrtime.bigint();
          await c.query(text, [code]);
          t.push(Number(process.hrtime.bigint() - s0) / 1e6);
        }
        t.sort((x, y) => x - y);
        return [t[Math.floor(t.length / 2)] as number, t[Math.floor(t.length * 0.99)] as number];
      };
      const [l50, l99] = await time(lookup[layout]);
      const [r50, r99] = await time(redeem[layout]);
      log(
        `${layout}: insert ${Math.round(rate)} codes/s, lookup p50/p99 ${l50?.toFixed(2)}/${l99?.toFixed(2)} ms, redeem ${r50?.toFixed(2)}/${r99?.toFixed(2)} ms`,
      );
      rows.push(
        `| ${layout} | ${n(Math.round(rate))} | ${l50?.toFixed(2)} / ${l99?.toFixed(2)} | ${r50?.toFixed(2)} / ${r99?.toFixed(2)} |`,
      );
    }
    process.stdout.write(
      `${["| layout (" + n(prefill) + " rows) | bulk insert (codes/s) | lookup p50 / p99 (ms) | redeem update p50 / p99 (ms) |", "|---|---:|---|---|", ...rows].join("\n")}\n`,
    );
  } finally {
    await c.end();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  }
}

function n(x: number): string {
  return x.toLocaleString("en-US");
}
