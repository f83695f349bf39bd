// Generation benchmark (a script, not a test): runs the real CLI (`coupons generate`) as a child
// process on a fresh database per run and times the whole process (wall time: Node start-up, the
// migration, the claim and the pipeline; the pipeline's own elapsedMs is shown beside it), and
// measures in the same run, on an identical fresh schema, for each size:
//   - the engine's raw bulk-insert ceiling: COPY of pre-generated codes (pg-copy-streams for
//     PostgreSQL; PGlite's COPY FROM '/dev/blob' for embedded);
//   - the per-code baseline many shops use: look each code up, insert it alone, timed on a table
//     already holding half the size's codes (the average table the CLI writes into over its run).
//
//   node --conditions=source scripts/bench-generate.ts [--engines embedded,postgres] [--sizes 1000000,10000000]
//        [--baseline 20000] [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--batch-size n] [--concurrency n]
//        [--ceiling-runs 1]
//
// Targets (issue 4): CLI >= 0.9x the ceiling; >= 100k codes/s on PostgreSQL; peak RSS <= 250 MB at 10M.
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { migrate, openStore } from "../packages/db/src/index.ts";
import { codeSource, drawDistinct } from "../apps/generator/src/codes.ts";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "apps/generator/src/main.ts");
const PREFIX = "B-";
const LENGTH = 12;

const { values: args } = parseArgs({
  options: {
    engines: { type: "string", default: "embedded,postgres" },
    sizes: { type: "string", default: "1000000,10000000" },
    baseline: { type: "string", default: "20000" },
    "pg-url": { type: "string", default: process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
    "batch-size": { type: "string" },
    concurrency: { type: "string" },
    "ceiling-runs": { type: "string", default: "1" },
  },
  strict: true,
});
const engines = args.engines.split(",").map((s) => s.trim()) as ("embedded" | "postgres")[];
const sizes = args.sizes.split(",").map(Number);
const baselineSize = Number(args.baseline);
const ceilingRuns = Number(args["ceiling-runs"]);

type Db = { url: string; drop(): Promise<void> };

async function freshDatabase(engine: "embedded" | "postgres"): Promise<Db> {
  if (engine === "embedded") {
    const dir = mkdtempSync(join(tmpdir(), "coupons-bench-"));
    return { url: `embedded:${join(dir, "db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `coupons_bench_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: args["pg-url"] });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(args["pg-url"]);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: args["pg-url"] });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Migrated schema, one campaign and one request (the rows the coupons reference). */
async function prepare(url: string): Promise<{ requestId: string }> {
  await migrate(url);
  const store = await openStore(url);
  try {
    await store.createCampaign({
      campaignId: "bench",
      name: "Benchmark",
      startDate: new Date(Date.now() - 86_400_000),
      endDate: new Date(Date.now() + 86_400_000 * 365),
      discountPercentage: 5,
    });
    const r = await store.createGenerationRequest({ campaignId: "bench", requestedAmount: 1, prefix: PREFIX, codeLength: LENGTH });
    return { requestId: r.requestId };
  } finally {
    await store.close();
  }
}

/** Runs the CLI; returns its exit code, stdout lines, wall time and peak RSS (VmHWM, polled). */
async function cli(url: string, argv: string[]): Promise<{ code: number; lines: string[]; wallMs: number; peakRssMb: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", MAIN, ...argv], {
    env: { ...process.env, COUPONS_DATABASE_URL: url, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {}
  }, 50);
  const code: number = await new Promise((res) => child.on("exit", (c) => res(c ?? 1)));
  clearInterval(poll);
  return { code, lines: stdout.split("\n").filter(Boolean), wallMs: performance.now() - t0, peakRssMb: peakKb / 1024 };
}

async function runCli(engine: "embedded" | "postgres", n: number) {
  const db = await freshDatabase(engine);
  try {
    await prepare(db.url);
    const extra = [
      ...(args["batch-size"] ? ["--batch-size", args["batch-size"]] : []),
      ...(args.concurrency ? ["--concurrency", args.concurrency] : []),
    ];
    const r = await cli(db.url, [
      "--json",
      "generate",
      "--campaign",
      "bench",
      "--amount",
      String(n),
      "--prefix",
      PREFIX,
      "--length",
      String(LENGTH),
      ...extra,
    ]);
    if (r.code !== 0) throw new Error(`coupons generate exited ${r.code}:\n${r.lines.join("\n")}`);
    const end = r.lines.map((l) => JSON.parse(l)).find((j) => j.event === "generation.end");
    // the rate the docs quote: codes over the whole process's wall time
    return {
      rate: (n * 1000) / r.wallMs,
      pipelineRate: (end.insertedThisRun * 1000) / end.elapsedMs,
      wallMs: r.wallMs,
      peakRssMb: r.peakRssMb,
    };
  } finally {
    await db.drop();
  }
}

/** Pre-generated codes as COPY CSV rows (CouponCode, CampaignId, ExpiresAt, GenerationBatchId), written to a file. */
async function codesFile(n: number, requestId: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "coupons-bench-codes-")), "codes.csv");
  const out = createWriteStream(file);
  const next = codeSource(PREFIX, LENGTH);
  for (let done = 0; done < n; ) {
    const k = Math.min(50_000, n - done);
    const chunk = `${drawDistinct(next, k)
      .map((c) => `${c},bench,,${requestId}`)
      .join("\n")}\n`;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
    done += k;
  }
  await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
  return file;
}

const COPY_SQL = "COPY Coupons (CouponCode, CampaignId, ExpiresAt, GenerationBatchId) FROM STDIN WITH (FORMAT csv)";

/** COPYs the files into Coupons (PostgreSQL: one connection per file, at once); returns the time taken. */
async function copyInto(engine: "embedded" | "postgres", url: string, files: string[]): Promise<number> {
  if (engine === "postgres") {
    const clients = await Promise.all(
      files.map(async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        return c;
      }),
    );
    try {
      const t0 = performance.now();
      await Promise.all(files.map((f, i) => pipeline(createReadStream(f), (clients[i] as pg.Client).query(copyFrom(COPY_SQL)))));
      return performance.now() - t0;
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }
  const lite = await PGlite.create({ dataDir: url.slice("embedded:".length) });
  try {
    let ms = 0;
    for (const file of files) {
      // PGlite reads the whole blob; chunks of 1M rows keep the bench process's memory sane.
      const text = readFileSync(file, "utf8").trimEnd().split("\n");
      const t0 = performance.now();
      for (let i = 0; i < text.length; i += 1_000_000) {
        const blob = new Blob([`${text.slice(i, i + 1_000_000).join("\n")}\n`]);
        await lite.query(COPY_SQL.replace("STDIN", "'/dev/blob'"), [], { blob });
      }
      ms += performance.now() - t0;
    }
    return ms;
  } finally {
    await lite.close();
  }
}

async function ceiling(engine: "embedded" | "postgres", n: number): Promise<number> {
  let best = 0;
  for (let run = 0; run < ceilingRuns; run++) {
    const db = await freshDatabase(engine);
    let file = "";
    try {
      const { requestId } = await prepare(db.url);
      file = await codesFile(n, requestId);
      let ms: number;
      if (engine === "postgres") {
        // The CLI inserts over two connections, so the ceiling is the better of COPY over one
        // connection and COPY of two halves over two connections at once.
        ms = await copyInto(engine, db.url, [file]);
        console.error(`[postgres] COPY of ${n} codes over 1 connection: ${Math.round((n * 1000) / ms)} rows/s`);
        const db2 = await freshDatabase(engine);
        try {
          const rid = (await prepare(db2.url)).requestId;
          const halves = await Promise.all([codesFile(Math.ceil(n / 2), rid), codesFile(Math.floor(n / 2), rid)]);
          const took = await copyInto(engine, db2.url, halves);
          console.error(`[postgres] COPY of ${n} codes over 2 connections: ${Math.round((n * 1000) / took)} rows/s`);
          ms = Math.min(ms, took);
          for (const f of halves) rmSync(resolve(f, ".."), { recursive: true, force: true });
        } finally {
          await db2.drop();
        }
      } else {
        ms = await copyInto(engine, db.url, [file]);
      }
      best = Math.max(best, (n * 1000) / ms);
    } finally {
      if (file && existsSync(file)) rmSync(resolve(file, ".."), { recursive: true, force: true });
      await db.drop();
    }
  }
  return best;
}

/** The per-code approach: look the code up, insert it alone (autocommit), one connection; `n` codes
 *  timed on a table that already holds `prefill` codes. */
async function perCode(engine: "embedded" | "postgres", n: number, prefill: number): Promise<number> {
  const db = await freshDatabase(engine);
  try {
    const { requestId } = await prepare(db.url);
    if (prefill > 0) {
      const file = await codesFile(prefill, requestId);
      await copyInto(engine, db.url, [file]);
      rmSync(resolve(file, ".."), { recursive: true, force: true });
    }
    const next = codeSource(PREFIX, LENGTH);
    const lookup = "SELECT 1 FROM Coupons WHERE CouponCode = $1";
    const insert = "INSERT INTO Coupons (CouponCode, CampaignId, GenerationBatchId) VALUES ($1, 'bench', $2)";
    let query: (text: string, params: unknown[]) => Promise<number>;
    let close: () => Promise<void>;
    if (engine === "postgres") {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      query = async (t, p) => (await c.query(t, p)).rowCount ?? 0;
      close = () => c.end();
    } else {
      const lite = await PGlite.create({ dataDir: db.url.slice("embedded:".length) });
      query = async (t, p) => (await lite.query(t, p)).rows.length;
      close = () => lite.close();
    }
    const t0 = performance.now();
    for (let done = 0; done < n; ) {
      const code = next();
      if ((await query(lookup, [code])) > 0) continue;
      await query(insert, [code, requestId]);
      done++;
    }
    const ms = performance.now() - t0;
    await close();
    return (n * 1000) / ms;
  } finally {
    await db.drop();
  }
}

const k = (x: number) => `${Math.round(x).toLocaleString("en-US")}`;
const rows: string[][] = [];
for (const engine of engines) {
  for (const n of sizes) {
    const prefill = Math.floor(n / 2);
    const baseline = baselineSize > 0 ? await perCode(engine, baselineSize, prefill) : Number.NaN;
    console.error(`[${engine}] per-code baseline, ${k(baselineSize)} codes into a table of ${k(prefill)}: ${k(baseline)} codes/s`);
    const ceil = await ceiling(engine, n);
    console.error(`[${engine}] ceiling (COPY of ${k(n)} pre-generated codes): ${k(ceil)} rows/s`);
    const r = await runCli(engine, n);
    console.error(`[${engine}] coupons generate ${k(n)}: ${k(r.rate)} codes/s (wall), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    rows.push([
      engine,
      k(n),
      k(r.rate),
      (r.wallMs / 1000).toFixed(1),
      k(r.pipelineRate),
      r.peakRssMb.toFixed(0),
      k(ceil),
      (r.rate / ceil).toFixed(2),
      k(baseline),
      (r.rate / baseline).toFixed(1),
    ]);
  }
}
const head = [
  "engine",
  "codes",
  "CLI codes/s (wall)",
  "CLI wall s",
  "pipeline codes/s",
  "peak RSS MB",
  "COPY ceiling rows/s",
  "CLI/ceiling",
  "per-code codes/s",
  "CLI/per-code",
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i] ?? 0)).join(" | ")} |`;
console.log(line(head));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
