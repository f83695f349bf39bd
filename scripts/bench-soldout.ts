// A flash sale that sells out, through the real API on PostgreSQL, loopback only, bounded in time
// and count (issue 12, "Sold out is cheap" and "No 500 for load"):
//
//   node --conditions=source scripts/bench-soldout.ts [--burst 500] [--cap 50] [--rounds 5]
//   (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test: a server we may create a
//    database on; the script makes its own and drops it)
//
// The API (apps/redeem-api/src/main.ts) runs in a child process at its default settings (pool 10,
// so admission lets 2 calls of a campaign in flight); BENCH_POOL_SIZE sets its pool, and
// COUPONS_ADMISSION_* in this environment are passed to it. BENCH_API_PROF=<dir>: the API writes a
// CPU profile there. The bursts come from a worker thread (bench-burst-worker.ts); every request,
// OTHER's too, goes through the lean keep-alive client of bench-load.ts, not fetch (which cost this
// 2-core machine, shared by the benchmark, the API and PostgreSQL, as much CPU per request as the API).
//   0. warm-up: a burst on a campaign of its own (WARM) beside OTHER's stream, so the pool's
//      connections are open and their procedures compiled before anything is timed.
//   1. "alone": redemptions of another campaign (OTHER, no cap), 2 in flight, for their p99 alone.
//   2. burst 1: `burst` redemptions of distinct coupons by distinct users of SOLD (cap `cap`), all
//      sent at once, while OTHER keeps redeeming (its p99 "during").
//   3. `rounds` rounds of: a burst on the sold-out SOLD (distinct fresh coupons), and a burst of
//      the same size on one coupon redeemed already (ALREADY_REDEEMED: the cheapest refusal there
//      is, the ceiling measured in the same run), in alternating order; OTHER keeps redeeming
//      throughout (its p99 during the already-redeemed bursts is printed apart: the same load of
//      the cheapest refusal, what any 500-request burst costs a neighbour).
// Prints successes (must be exactly `cap`, by HTTP and by the database), 5xx (must be 0), the
// refusal rates (median of the rounds; target sold out >= 0.8x already redeemed) and OTHER's p99
// during the bursts vs alone (target <= 2x), each with PASS/FAIL. Exit 1 when a correctness target
// (successes, 5xx) fails. Also printed: CPU per burst request of the API, PostgreSQL (all its processes)
// and this benchmark over the sold-out rounds, and OTHER's p50/p90/p99/max in each phase.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { seedCampaign } from "../apps/redeem-api/test/helpers.ts";
import { startApi } from "./bench-api-process.ts";
import { RawConnection, cpuSeconds, postRequest } from "./bench-load.ts";

const { values: args } = parseArgs({
  options: {
    burst: { type: "string", default: "500" },
    cap: { type: "string", default: "50" },
    rounds: { type: "string", default: "5" },
  },
});
const BURST = Number(args.burst);
const CAP = Number(args.cap);
const ROUNDS = Number(args.rounds);
if (![BURST, CAP, ROUNDS].every((n) => Number.isInteger(n) && n > 0) || BURST > 5_000 || ROUNDS > 10 || CAP > BURST) {
  console.error("bench-soldout: --burst (1-5000), --cap (1-burst) and --rounds (1-10) must be whole numbers");
  process.exit(2);
}
const POOL_SIZE = process.env.BENCH_POOL_SIZE ? Number(process.env.BENCH_POOL_SIZE) : null;
const OTHER_IN_FLIGHT = 2;
const ALONE_COUNT = 2_000;
const DEADLINE_MS = 5 * 60_000;
const KEY = `bench-${randomBytes(12).toString("hex")}`;

type Outcome = { status: number; ms: number; code: string | null };

async function main(): Promise<void> {
  process.env.TEST_POSTGRES_URL ||= "postgres://postgres@127.0.0.1:5432/test";
  const { createPostgresDatabase } = await import("../packages/db/test/support.ts");
  const { openStore } = await import("@coupons/db");

  const db = await createPostgresDatabase();
  const store = await openStore(db.url, { poolSize: 4 });
  let api: ChildProcess | undefined;
  const deadline = setTimeout(() => {
    console.error("bench-soldout: deadline passed; stopping");
    api?.kill("SIGKILL");
    store
      .close()
      .catch(() => {})
      .then(() => db.drop())
      .finally(() => process.exit(3));
  }, DEADLINE_MS);
  try {
    // a prefix per campaign, as generated codes have: the API's admission tells campaigns apart by it
    const seed = async (campaignId: string, count: number, cap: number | null): Promise<string[]> => {
      const codes = Array.from({ length: count }, (_, i) => `${campaignId}-${i}`);
      await seedCampaign(store, { campaignId, codes, prefix: `${campaignId}-`, maxTotalRedemptions: cap });
      return codes;
    };
    const sold = await seed("SOLD", BURST * (1 + ROUNDS), CAP);
    const other = await seed("OTHER", 50_000, null);
    const [redeemedCode] = await seed("GONE", 1, null);
    const warm = await seed("WARM", BURST, null);
    await store.redeemCoupon({ code: redeemedCode as string, userId: "first" });

    const { port } = await startApi({
      databaseUrl: db.url,
      key: KEY,
      scopes: ["redeem", "read"],
      nodeArgs: process.env.BENCH_API_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_API_PROF}`] : [],
      onSpawn: (child) => {
        api = child;
      },
      env: {
        ...(POOL_SIZE === null ? {} : { COUPONS_DB_POOL_SIZE: String(POOL_SIZE) }),
        // every request is a distinct user at a distinct address; the throttle is not what is measured
        COUPONS_THROTTLE_USER_FAILURES: "1000000",
        COUPONS_THROTTLE_IP_FAILURES: "1000000",
        // the admission settings under test, when given (COUPONS_ADMISSION_PER_CAMPAIGN=0: admission off)
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("COUPONS_ADMISSION_")) as [string, string][]),
      },
    });

    let n = 0;
    /** The i-th request's body: a distinct user at a distinct address. */
    const bodyOf = (code: string) => {
      const i = n++;
      return { code, userId: `u${i}`, ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
    };
    // The burst is sent from a thread of its own (bench-burst-worker.ts), as a flash sale's crowd comes
    // from other clients than the neighbour measured.
    const burstWorker = new Worker(new URL("./bench-burst-worker.ts", import.meta.url));
    burstWorker.unref();
    const burst = async (codes: string[]): Promise<{ outcomes: Outcome[]; seconds: number }> => {
      const done = once(burstWorker, "message") as Promise<[{ outcomes: Outcome[]; seconds: number }]>;
      burstWorker.postMessage({ port, key: KEY, requests: codes.map(bodyOf) });
      return (await done)[0];
    };
    // OTHER's client: one keep-alive connection per request in flight, the same lean client
    const otherConnections = await Promise.all(Array.from({ length: OTHER_IN_FLIGHT }, () => RawConnection.open(port)));
    const redeem = async (slot: number, code: string): Promise<Outcome> => {
      if (!otherConnections[slot]?.usable) otherConnections[slot] = await RawConnection.open(port);
      return (otherConnections[slot] as RawConnection).send(postRequest("/v1/redemptions", KEY, bodyOf(code)));
    };
    let nextOther = 0;
    /** OTHER redemptions, OTHER_IN_FLIGHT at a time, until `stop` resolves (or `count` are done). */
    const otherStream = async (stop: Promise<unknown> | null, count: number): Promise<Outcome[]> => {
      let stopped = false;
      void stop?.then(() => {
        stopped = true;
      });
      const out: Outcome[] = [];
      await Promise.all(
        Array.from({ length: OTHER_IN_FLIGHT }, async (_, slot) => {
          while (!stopped && out.length < count && nextOther < other.length) out.push(await redeem(slot, other[nextOther++] as string));
        }),
      );
      return out;
    };

    // warm up what the measurement uses: the pool's connections and their compiled procedures (a
    // burst on a campaign of its own beside OTHER's stream takes as many connections as the bursts
    // will), the burst sender's connections, the JIT
    const warming = burst(warm);
    await otherStream(warming, 1_000_000);
    await warming;
    await otherStream(null, 300);
    const alone = await otherStream(null, ALONE_COUNT);

    const all: Outcome[] = [];
    const onSold: Outcome[] = [];
    const during: Outcome[] = [];
    const first = burst(sold.slice(0, BURST));
    during.push(...(await otherStream(first, 1_000_000)));
    const b1 = await first;
    all.push(...b1.outcomes);
    onSold.push(...b1.outcomes);
    const soldRates: number[] = [];
    const goneRates: number[] = [];
    const duringGone: Outcome[] = [];
    // CPU of the API, of PostgreSQL (all its processes) and of this benchmark over the sold-out rounds
    const cpu = { api: 0, pg: 0, bench: 0 };
    const metered = async <T>(fn: () => Promise<T>): Promise<T> => {
      const a = cpuSeconds(api?.pid as number);
      const p = cpuSeconds("postgres");
      const b = process.cpuUsage();
      const out = await fn();
      cpu.api += cpuSeconds(api?.pid as number) - a;
      cpu.pg += cpuSeconds("postgres") - p;
      const u = process.cpuUsage(b);
      cpu.bench += (u.user + u.system) / 1e6;
      return out;
    };
    const soldOutRound = async (r: number) => {
      const soldOut = burst(sold.slice(r * BURST, (r + 1) * BURST));
      during.push(...(await otherStream(soldOut, 1_000_000)));
      const s = await soldOut;
      all.push(...s.outcomes);
      onSold.push(...s.outcomes);
      soldRates.push(s.outcomes.filter((o) => o.code === "CAMPAIGN_LIMIT_REACHED").length / s.seconds);
    };
    const redeemedRound = async () => {
      const redeemed = burst(Array.from({ length: BURST }, () => redeemedCode as string));
      duringGone.push(...(await otherStream(redeemed, 1_000_000)));
      const g = await redeemed;
      all.push(...g.outcomes);
      goneRates.push(g.outcomes.filter((o) => o.code === "ALREADY_REDEEMED").length / g.seconds);
    };
    // alternate which goes first, so neither always meets a warmer or colder machine
    for (let r = 1; r <= ROUNDS; r++) {
      if (r % 2 === 1) {
        await metered(() => soldOutRound(r));
        await redeemedRound();
      } else {
        await redeemedRound();
        await metered(() => soldOutRound(r));
      }
    }

    const everything = [...all, ...alone, ...during, ...duringGone];
    const soldSuccesses = onSold.filter((o) => o.status === 200).length;
    const fiveXX = everything.filter((o) => o.status >= 500);
    const throttled = everything.filter((o) => o.status === 429).length;
    const campaign = await store.getCampaign("SOLD");
    const stats = await store.getRedemptionStats("SOLD");
    const otherFailures = [...alone, ...during, ...duringGone].filter((o) => o.status !== 200).length;
    const quantile = (xs: Outcome[], q: number) => {
      const s = xs.map((o) => o.ms).sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? Number.NaN;
    };
    const p99 = (xs: Outcome[]) => quantile(xs, 0.99);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const soldRate = median(soldRates);
    const goneRate = median(goneRates);
    const p99Alone = p99(alone);
    const p99During = p99(during);
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");

    console.log(
      `\nbench-soldout: PostgreSQL ${new URL(process.env.TEST_POSTGRES_URL).host}, API pool ${POOL_SIZE ?? "10 (its default)"}, admission ${process.env.COUPONS_ADMISSION_PER_CAMPAIGN ?? "default"} per campaign, loopback; burst ${BURST} at once, cap ${CAP}, ${ROUNDS} rounds`,
    );
    console.log(
      `  burst 1 on SOLD: ${b1.outcomes.filter((o) => o.status === 200).length} redeemed, ${count(b1.outcomes)} in ${f(b1.seconds * 1000)} ms`,
    );
    console.log(`  sold-out refusals/s by round:        ${soldRates.map((x) => x.toFixed(0)).join(", ")}`);
    console.log(`  already-redeemed refusals/s by round: ${goneRates.map((x) => x.toFixed(0)).join(", ")}`);
    console.log(
      `  OTHER: p99 alone ${f(p99Alone)} ms (${alone.length} requests), during the sold-out bursts ${f(p99During)} ms (${during.length} requests), ${otherFailures} not redeemed`,
    );
    console.log(
      `  OTHER p99 during the already-redeemed bursts (the same load of the cheapest refusal): ${f(p99(duringGone))} ms (${duringGone.length} requests)`,
    );
    const perRequest = (x: number) => ((x * 1e6) / (ROUNDS * BURST)).toFixed(0);
    console.log(
      `  CPU per request of the sold-out bursts (OTHER's meanwhile included): API ${perRequest(cpu.api)} us, PostgreSQL ${perRequest(cpu.pg)} us, this benchmark ${perRequest(cpu.bench)} us`,
    );
    const spread = (xs: Outcome[]) => [0.5, 0.9, 0.99, 1].map((q) => f(quantile(xs, q))).join(" / ");
    console.log(
      `  OTHER p50 / p90 / p99 / max ms: alone ${spread(alone)}; sold-out bursts ${spread(during)}; already-redeemed bursts ${spread(duringGone)}`,
    );
    console.log(
      `  429 (throttle): ${throttled}; database: SOLD slot sum ${campaign?.currentRedemptions}, redeemed coupons ${stats?.redeemedCoupons}`,
    );
    const checks: [string, string, boolean, boolean][] = [
      [
        `successes on SOLD exactly ${CAP}`,
        `${soldSuccesses} (http), ${campaign?.currentRedemptions} (slot sum), ${stats?.redeemedCoupons} (redeemed coupons)`,
        soldSuccesses === CAP && campaign?.currentRedemptions === CAP && stats?.redeemedCoupons === CAP,
        true,
      ],
      [
        `5xx answers: 0`,
        `${fiveXX.length}${fiveXX[0] ? ` (first: ${fiveXX[0].status} ${fiveXX[0].code})` : ""}`,
        fiveXX.length === 0,
        true,
      ],
      [
        `sold-out refusal rate >= 0.8x already-redeemed refusal rate`,
        `${soldRate.toFixed(0)}/s vs ${goneRate.toFixed(0)}/s = ${(soldRate / goneRate).toFixed(2)}x`,
        soldRate >= 0.8 * goneRate,
        false,
      ],
      [
        `OTHER p99 during the sold-out bursts <= 2x alone`,
        `${f(p99During)} ms vs ${f(p99Alone)} ms = ${(p99During / p99Alone).toFixed(2)}x`,
        p99During <= 2 * p99Alone,
        false,
      ],
    ];
    console.log("");
    for (const [what, got, pass] of checks) console.log(`${pass ? "PASS" : "FAIL"}  ${what}: ${got}`);
    if (checks.some(([, , pass, must]) => must && !pass)) process.exitCode = 1;
    for (const c of otherConnections) c.close();
    await burstWorker.terminate();
  } finally {
    clearTimeout(deadline);
    if (api && api.exitCode === null) {
      api.kill("SIGTERM");
      await new Promise((r) => api?.once("exit", r));
    }
    await store.close();
    await db.drop();
  }
}

function count(outcomes: Outcome[]): string {
  const by = new Map<string, number>();
  for (const o of outcomes) {
    const k = `${o.status}${o.code ? ` ${o.code}` : ""}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by].map(([k, v]) => `${v}x ${k}`).join(", ");
}

await main();
