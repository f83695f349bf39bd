// Benchmark: how long a generation request waits before a worker starts it, on PostgreSQL, with the
// worker woken by NOTIFY (default) and with polling only (`coupons worker --no-push`, as on SQL Server).
//   npx node --conditions=source scripts/bench-pickup.ts [--requests 15] [--gap-ms 2000] [--pg-url URL]
// For each mode: a fresh database, one real `coupons --json worker` child process, then requests
// created one at a time through the store, each after a random pause of 0 to --gap-ms once the one
// before is Generated (so requests arrive at random moments of the worker's poll cycle). The wait is
// from just before the create call to the time stamped on the worker's `worker.claimed` log line.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { openStore } from "@coupons/db";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "15" },
    "gap-ms": { type: "string", default: "2000" },
    "pg-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
  },
});
const N = Number(values.requests);
const GAP_MS = Number(values["gap-ms"]);
process.env.TEST_POSTGRES_URL = values["pg-url"];
const { createPostgresDatabase } = await import("../packages/db/test/support.ts");
const MAIN = join(import.meta.dirname, "../apps/generator/src/main.ts");

type LogLine = { event?: string; requestId?: string; time?: string };

/** A `coupons --json worker` child and a way to wait for its log lines about one request. */
function startWorker(url: string, push: boolean) {
  const args = ["--conditions=source", "--disable-warning=ExperimentalWarning", MAIN, "--json", "worker"];
  const child: ChildProcess = spawn(process.execPath, push ? args : [...args, "--no-push"], {
    env: { ...process.env, COUPONS_DATABASE_URL: url, NODE_OPTIONS: undefined } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const waiting: { event: string; requestId?: string; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    if (!text.startsWith("{")) return;
    const line = JSON.parse(text) as LogLine;
    const i = waiting.findIndex((w) => w.event === line.event && (w.requestId === undefined || w.requestId === line.requestId));
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(line);
  });
  const exited = once(child, "exit");
  const next = (event: string, requestId?: string) =>
    Promise.race([
      new Promise<LogLine>((resolve) => waiting.push({ event, requestId, resolve })),
      exited.then(() => Promise.reject(new Error(`the worker exited before logging ${event}`))),
    ]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  process.once("exit", () => child.kill("SIGKILL"));
  return { next, stop };
}

async function measure(push: boolean): Promise<number[]> {
  const db = await createPostgresDatabase();
  const store = await openStore(db.url);
  const worker = startWorker(db.url, push);
  const waits: number[] = [];
  try {
    await store.createCampaign({
      campaignId: "pickup",
      name: "Pick-up",
      startDate: new Date(Date.now() - 86_400_000),
      endDate: new Date(Date.now() + 30 * 86_400_000),
      discountPercentage: 10,
    });
    await worker.next("worker.start");
    for (let i = 0; i < N; i++) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * GAP_MS));
      const requestId = `pickup-${i}`;
      // listened for before the create: a woken worker can log its claim before the create returns
      const claimed = worker.next("worker.claimed", requestId);
      const generated = worker.next("worker.generated", requestId);
      const t0 = Date.now();
      await store.createGenerationRequest({ campaignId: "pickup", requestedAmount: 100, requestId });
      waits.push(Date.parse((await claimed).time as string) - t0);
      await generated;
    }
  } finally {
    await worker.stop();
    await store.close();
    await db.drop();
  }
  return waits;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

console.log(`Pick-up wait (create -> worker.claimed), ${N} requests per mode, random pause 0-${GAP_MS} ms between them`);
console.log("| worker | requests | median ms | p95 ms | max ms |");
console.log("|---|---|---|---|---|");
for (const push of [true, false]) {
  const sorted = (await measure(push)).sort((a, b) => a - b);
  const mode = push ? "NOTIFY (default)" : "polling (--no-push)";
  console.log(`| ${mode} | ${sorted.length} | ${percentile(sorted, 50)} | ${percentile(sorted, 95)} | ${sorted.at(-1)} |`);
}
