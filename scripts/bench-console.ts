// Benchmark (not a test): how long the operator console's campaign page takes to show its data, in
// headless Chromium (Debian's /usr/bin/chromium or CHROMIUM_PATH), from navigation start until the
// page marks itself data-ready (the campaign, its counts and time series, its generation requests
// all answered and rendered).
//   against a running API:  node --conditions=source scripts/bench-console.ts --url http://127.0.0.1:8080 --key <admin key> --campaign <id>
//   its own API:            node --conditions=source scripts/bench-console.ts --database <embedded:memory | postgres://...> [--campaign <id>]
// With --database and no --campaign it makes a small campaign (1,000 codes, some redemptions and bad
// guesses) and deletes it after. --runs N (default 5): the first run has an empty browser cache,
// the others reuse the cached hashed assets. Prints each run, each API call's time, and the median
// against the 1-second target.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const TARGET_MS = 1000;
/** The console's sessionStorage entry for the key (apps/console/src/api.ts). */
const KEY_ITEM = "coupons.console.apiKey";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    key: { type: "string" },
    campaign: { type: "string" },
    database: { type: "string" },
    runs: { type: "string", default: "5" },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs must be a whole number from 1 to 100 (got ${values.runs})`);
if (!values.database && !(values.url && values.key && values.campaign)) {
  process.stderr.write("bench-console: give --url, --key and --campaign of a running API, or --database to start one here\n");
  process.exit(2);
}

type Own = { url: string; key: string; campaignId: string; stop(): Promise<void> };

/** An API in this process on the given database, with a fresh admin key; a small campaign unless one is named. */
async function startOwn(database: string, campaign: string | undefined): Promise<Own> {
  const { openStore } = await import("@coupons/db");
  const { loadConfig } = await import("../apps/redeem-api/src/config.ts");
  const { hashKey } = await import("../apps/redeem-api/src/auth.ts");
  const { startServer, stopServer } = await import("../apps/redeem-api/src/server.ts");
  const key = randomBytes(24).toString("hex");
  const config = loadConfig({
    COUPONS_API_PORT: "0",
    COUPONS_API_HOST: "127.0.0.1",
    COUPONS_LOG_LEVEL: "silent",
    COUPONS_API_KEYS: JSON.stringify([{ id: "bench", sha256: hashKey(key), scopes: ["admin", "read", "redeem"] }]),
  });
  const store = await openStore(database, { migrate: true });
  const running = await startServer({ store, config });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers: { "x-api-key": key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  let campaignId = campaign;
  let made = false;
  if (!campaignId) {
    campaignId = `BENCH-CONSOLE-${randomBytes(4).toString("hex").toUpperCase()}`;
    made = true;
    const day = 86_400_000;
    const created = await call("POST", "/v1/campaigns", {
      campaignId,
      name: "Console benchmark",
      startDate: new Date(Date.now() - day).toISOString(),
      endDate: new Date(Date.now() + 30 * day).toISOString(),
      discountPercentage: 10,
    });
    if (created.status !== 201) throw new Error(`creating the campaign: ${JSON.stringify(created.body)}`);
    const codes = Array.from({ length: 1000 }, (_, i) => `${campaignId}-${i}`);
    const request = await store.createGenerationRequest({ campaignId, requestedAmount: codes.length, expirationDate: null });
    const claim = await store.claimGenerationRequest(request.requestId, "bench-console");
    await store.bulkInsertCoupons(request.requestId, codes);
    await store.updateGenerationRequest(request.requestId, "Generated");
    await claim.release();
    for (const code of codes.slice(0, 100)) await call("POST", "/v1/redemptions", { code, userId: `u-${code}` });
    for (let i = 0; i < 50; i++) await call("POST", "/v1/redemptions", { code: `${campaignId}-X${i}`, userId: "guesser" });
  }
  return {
    url: running.url,
    key,
    campaignId,
    async stop() {
      if (made) await call("DELETE", `/v1/campaigns/${encodeURIComponent(campaignId)}?force=true`);
      await stopServer(running);
    },
  };
}

const target: Own = values.database
  ? await startOwn(values.database, values.campaign)
  : { url: (values.url ?? "").replace(/\/$/, ""), key: values.key ?? "", campaignId: values.campaign ?? "", stop: async () => {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // the key is in the tab before the page runs; the page's own clock notes when data-ready appears
  await context.addInitScript(
    `sessionStorage.setItem(${JSON.stringify(KEY_ITEM)}, ${JSON.stringify(target.key)});
     new MutationObserver((_, o) => {
       if (document.querySelector("section[data-ready]")) { window.__readyAt = performance.now(); o.disconnect(); }
     }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready"] });`,
  );
  const page = await context.newPage();
  const url = `${target.url}/console#/campaigns/${encodeURIComponent(target.campaignId)}`;
  console.log(`campaign page of ${target.campaignId} at ${target.url}, ${runs} run(s)`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    // a new document each run (a reload also when only the hash would differ)
    if (i === 0) await page.goto(url);
    else await page.reload();
    await page.locator("section[data-ready]").waitFor({ timeout: 120_000 });
    const { readyAt, calls, failed } = (await page.evaluate(`({
      readyAt: window.__readyAt,
      calls: performance.getEntriesByType("resource").filter((e) => e.name.includes("/v1/"))
        .map((e) => new URL(e.name).pathname.split("/").slice(-1)[0] + " " + Math.round(e.duration) + " ms"),
      failed: document.querySelector("[role=alert]")?.textContent ?? null,
    })`)) as { readyAt: number; calls: string[]; failed: string | null };
    if (failed) throw new Error(`the page shows an error: ${failed}`);
    times.push(readyAt);
    console.log(`run ${i + 1}${i === 0 ? " (cold cache)" : ""}: data-ready after ${readyAt.toFixed(0)} ms; API calls: ${calls.join(", ")}`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  console.log(
    `median time to data-ready: ${median.toFixed(0)} ms over ${runs} run(s); ${(median / TARGET_MS).toFixed(2)} of the ${TARGET_MS} ms target`,
  );
} finally {
  await browser.close();
  await target.stop();
}
