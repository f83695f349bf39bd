// The operator console at /console, driven in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) against the real API on the embedded engine with its in-process generation
// worker: a key without the admin scope gets a refusal page; an admin signs in, sees a campaign made
// through the API, pauses it (a redemption is then refused), watches a generation request reach
// Generated, and reads the fraud report after a burst of bad guesses. Each page: a screenshot in
// tmp/screenshots/ at the repository root (gitignored), axe-core with no serious or critical
// violation, nothing loaded from another host, no console error (a CSP refusal is one).
// Waits are on selectors and responses only.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type CouponStore, StoreError, openStore } from "@coupons/db";
import { expect } from "chai";
import express from "express";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { createLogger } from "../src/app.ts";
import { type EmbeddedWorker, startEmbeddedWorker } from "../src/embedded-worker.ts";
import { problemHandler } from "../src/problems.ts";
import { consoleDir, mountConsole } from "../src/routes/console.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, addCoupons, overrideStore, testConfig, unique } from "./helpers.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOTS = join(ROOT, "tmp/screenshots");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const DAY = 86_400_000;

describe("the operator console in a browser", function () {
  this.timeout(120_000);
  let store: CouponStore | undefined;
  let running: RunningServer | undefined;
  let worker: EmbeddedWorker | null = null;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let api: ApiClient;
  let origin: string;
  const elsewhere: string[] = [];
  const errors: string[] = [];
  const campaignId = unique("CONSOLE");
  const code = unique("CONSOLE-CODE");

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`Chromium is not installed at ${CHROMIUM}`);
      this.skip();
    }
    // the test command builds the console; a run of this file alone builds it when it is missing
    if (!existsSync(join(consoleDir() ?? "", "index.html"))) {
      execFileSync(process.execPath, [join(ROOT, "apps/console/build.ts")], { stdio: "ignore" });
    }
    store = await openStore("embedded:memory");
    running = await startServer({ store, config: testConfig() });
    worker = await startEmbeddedWorker(store, true, createLogger({ logLevel: "silent" }));
    origin = running.url;
    api = await ApiClient.connect(origin);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    page.on("console", (m) => {
      if (m.type() === "error" && !/the server responded with a status of (400|403|404|422)/.test(m.text())) errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  // runs also when a test timed out: the browser, the worker and the server never outlive the file
  after(async () => {
    await browser?.close();
    await worker?.stop();
    if (running) await stopServer(running);
    else await store?.close();
  });
  afterEach(() => {
    expect(elsewhere, "requests to other hosts").to.deep.equal([]);
    expect(errors, "console errors (a CSP refusal is one)").to.deep.equal([]);
  });

  /** A screenshot of the page as it is, and axe-core's serious and critical violations (none expected). */
  async function checkPage(name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
    if (!(await page.evaluate("typeof window.axe"))?.toString().includes("object")) await page.evaluate(AXE);
    const violations = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => v.id + ": " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`)) as string[];
    expect(violations, `axe on ${name}`).to.deep.equal([]);
  }

  async function signIn(key: string): Promise<void> {
    await page.goto(`${origin}/console#/campaigns`);
    await page.getByLabel("Admin API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  it("When /console and its assets are asked for, then the page is no-cache, assets immutable, and the CSP allows only this server", async () => {
    const index = await fetch(`${origin}/console`);
    expect(index.status).to.equal(200);
    expect(index.headers.get("cache-control")).to.equal("no-cache");
    const csp = index.headers.get("content-security-policy") ?? "";
    expect(csp).to.match(/^default-src 'self';/);
    expect(csp).to.not.match(/unsafe-inline|unsafe-eval|https?:/);
    const html = await index.text();
    const assets = [...html.matchAll(/\/console\/assets\/[A-Za-z0-9_-]+-[A-Z0-9]{8}\.(?:js|css)/g)].map((m) => m[0]);
    expect(assets, "one script and one style sheet, named by hash").to.have.length(2);
    expect(html, "no inline script").to.not.match(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
    for (const asset of assets) {
      const r = await fetch(`${origin}${asset}`);
      expect(r.status, asset).to.equal(200);
      expect(r.headers.get("cache-control"), asset).to.equal("public, max-age=31536000, immutable");
    }
    expect((await fetch(`${origin}/console/assets/missing-AAAAAAAA.js`)).status).to.equal(404);
    // /docs keeps its own policy next to the console's
    const docs = await fetch(`${origin}/docs`);
    expect(docs.headers.get("content-security-policy")).to.contain("img-src 'self' data:");
  });

  it("When the console has not been built, then /console answers 503 saying to run npm run build", async () => {
    const empty = mkdtempSync(join(tmpdir(), "console-unbuilt-"));
    const app = express();
    mountConsole(app, empty);
    app.use(problemHandler);
    const server = app.listen(0, "127.0.0.1");
    try {
      await new Promise((ok) => server.once("listening", ok));
      const { port } = server.address() as { port: number };
      const r = await fetch(`http://127.0.0.1:${port}/console`);
      expect(r.status).to.equal(503);
      expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
      const body = (await r.json()) as { code: string; detail: string };
      expect(body.code).to.equal("CONSOLE_NOT_BUILT");
      expect(body.detail).to.contain("npm run build");
    } finally {
      server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("When a key without the admin scope signs in, then a page says the API refused it for lacking the admin scope", async () => {
    await signIn(KEYS.reader);
    await page.getByRole("heading", { name: "This key cannot use the console" }).waitFor();
    expect(await page.getByRole("alert").textContent()).to.contain("needs scope admin");
    await checkPage("refused");
    await page.getByRole("button", { name: "Sign in with another key" }).click();
    await page.getByLabel("Admin API key").waitFor();
  });

  it("When an admin signs in, then the campaign made through the API is listed; pausing it makes a redemption refused", async () => {
    const created = await api.post("/v1/campaigns", {
      campaignId,
      name: "Console spring sale",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + 30 * DAY).toISOString(),
      discountPercentage: 15,
      maxTotalRedemptions: 1000,
    });
    expect(created.status, created.text).to.equal(201);
    await addCoupons(store as CouponStore, campaignId, [code, `${code}-2`]);
    expect((await api.post("/v1/redemptions", { code: `${code}-2`, userId: "u-console" }, KEYS.shop)).status).to.equal(200);

    await signIn(KEYS.admin);
    const row = page.locator(`tr[data-campaign="${campaignId}"]`);
    await row.waitFor();
    expect(await row.textContent())
      .to.contain("Console spring sale")
      .and.contain("active")
      .and.contain("1 / 1,000");
    await checkPage("campaigns");

    await row.getByRole("button", { name: /Pause/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Pause campaign" }).click();
    await row.locator(".badge.paused").waitFor();
    await dialog.waitFor({ state: "detached" });
    const refused = await api.post("/v1/redemptions", { code, userId: "u-console" }, KEYS.shop);
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal("CAMPAIGN_INACTIVE");

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow, "no sideways scrolling of the page at phone width").to.equal(0);
    await checkPage("campaigns-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("When a generation request is created on the Generation page, then it reaches Generated; an infeasible one shows the API's message", async () => {
    await page.goto(`${origin}/console#/generation`);
    await page.locator("section[data-ready]").waitFor();
    await page.getByLabel("Campaign").fill(campaignId);
    await page.getByLabel("Number of codes").fill("3000");
    await page.getByLabel("Prefix (optional)").fill("CONS-");
    const answered = page.waitForResponse((r) => r.url().endsWith("/v1/generation-requests") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Request codes" }).click();
    const response = await answered;
    expect(response.status()).to.equal(201);
    const { requestId } = (await response.json()) as { requestId: string };
    await page.locator(`[data-request="${requestId}"][data-status="Generated"]`).waitFor({ timeout: 60_000 });
    await checkPage("generation");

    const infeasible = { campaignId, requestedAmount: 100_000, prefix: "TINY-", codeLength: 2 };
    const expected = await api.post("/v1/generation-requests", infeasible);
    expect(expected.status).to.equal(400);
    await page.getByLabel("Number of codes").fill(String(infeasible.requestedAmount));
    await page.getByLabel("Prefix (optional)").fill(infeasible.prefix);
    await page.getByLabel("Random characters (default 12)").fill(String(infeasible.codeLength));
    await page.getByRole("button", { name: "Request codes" }).click();
    const shown = page.locator("[data-problem]");
    await shown.waitFor();
    expect(await shown.textContent()).to.equal(expected.body.detail);
  });

  it("When a campaign's page is opened, then its counts, its requests and the data-ready mark show; expiring a request's codes counts them", async () => {
    await page.goto(`${origin}/console#/campaigns/${encodeURIComponent(campaignId)}`);
    await page.locator("section[data-ready]").waitFor();
    expect(await page.locator('[data-count="total"]').textContent()).to.equal("3,002");
    expect(await page.locator('[data-count="redeemed"]').textContent()).to.equal("1");
    const hasSeries = (await api.get(`/v1/campaigns/${campaignId}/stats?interval=hour`)).body.series !== undefined;
    if (hasSeries) await page.locator(".chart canvas").waitFor();
    else await page.getByText("does not answer a time series").waitFor();
    await checkPage("campaign");

    const listed = await api.get(`/v1/generation-requests?campaignId=${campaignId}&status=Generated`);
    const consoleMade = listed.body.requests.find((r: { prefix: string }) => r.prefix === "CONS-");
    await page.getByRole("button", { name: `Expire its codes of request ${consoleMade.requestId}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Expire codes" }).click();
    await page.getByText(`3,000 coupon(s) of request ${consoleMade.requestId} expired now.`).waitFor();
    await page.locator('[data-count="expired"]').getByText("3,000").waitFor();
  });

  it("When a burst of bad guesses happened, then the Fraud page by user lists the guesser with their refusals", async () => {
    const guesser = unique("guesser");
    for (let i = 0; i < 8; i++) {
      const r = await api.post("/v1/redemptions", { code: unique("NOPE"), userId: guesser }, KEYS.shop);
      expect(r.status).to.equal(404);
    }
    await page.goto(`${origin}/console#/fraud`);
    await page.locator("section[data-ready]").waitFor();
    await page.getByLabel("By", { exact: true }).selectOption("user");
    const row = page.locator(`tr[data-subject="${guesser}"]`);
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 3)).to.deep.equal([guesser, "8", "8"]);
    expect(cells.join(" ")).to.contain("COUPON_NOT_FOUND 8");
    await checkPage("fraud");
  });

  it("When the stats answer carries a series (the shape ?interval= adds), then the chart draws it and its table lists the buckets", async () => {
    // the series endpoint comes from another branch: the real answer is completed with a known series
    const hour = Date.UTC(2030, 2, 1, 9);
    const points = [0, 1, 2].map((i) => ({
      start: new Date(hour + i * 3_600_000).toISOString(),
      redemptions: [1200, 0, 3][i] ?? 0,
      refusals: { COUPON_NOT_FOUND: [0, 0, 7][i] ?? 0, CAMPAIGN_INACTIVE: 0 },
      reversals: [0, 0, 1][i] ?? 0,
    }));
    const series = { interval: "hour", since: points[0]?.start, until: new Date(hour + 3 * 3_600_000).toISOString(), points };
    await page.route("**/v1/campaigns/*/stats?*", async (route) => {
      const real = await route.fetch();
      const body = (await real.json()) as Record<string, unknown>;
      await route.fulfill({ response: real, json: { ...body, series: body.series ?? series } });
    });
    try {
      await page.goto(`${origin}/console#/campaigns/${encodeURIComponent(campaignId)}`);
      await page.reload();
      await page.locator("section[data-ready]").waitFor();
      await page.locator(".chart canvas").waitFor();
      expect(await page.locator(".u-legend").textContent())
        .to.contain("Redemptions")
        .and.contain("Refused COUPON_NOT_FOUND");
      await page.getByText("The numbers (2 non-empty buckets)").click();
      const rows = await page.locator("details tbody tr").allTextContents();
      expect(rows).to.have.length(2);
      expect(rows[0]).to.contain("1,200");
      await checkPage("campaign-series");
    } finally {
      await page.unroute("**/v1/campaigns/*/stats?*");
    }
  });

  it("When the database is unavailable, then the Campaigns page says so with the API's 503 and offers a retry", async () => {
    const down = overrideStore(store as CouponStore, {
      listCampaigns: () => Promise.reject(new StoreError("UNAVAILABLE", "the database cannot be reached")),
    });
    const other = await startServer({ store: down, config: testConfig() });
    try {
      const otherPage = await (context as BrowserContext).newPage();
      await otherPage.goto(`${other.url}/console#/campaigns`);
      await otherPage.getByLabel("Admin API key").fill(KEYS.admin);
      await otherPage.getByRole("button", { name: "Sign in" }).click();
      const alert = otherPage.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent())
        .to.contain("The database is unavailable")
        .and.contain("The API answered 503");
      await alert.getByRole("button", { name: "Retry" }).waitFor();
      await otherPage.screenshot({ path: join(SCREENSHOTS, "console-database-down.png"), fullPage: true });
      await otherPage.close();
    } finally {
      await stopServer(other, { closeStore: false });
    }
  });
});
