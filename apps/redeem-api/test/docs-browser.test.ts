// The browsable documentation at /docs, loaded in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): the operations render from /openapi.json, everything the page loads
// comes from the API itself (no CDN), and its Content-Security-Policy refuses nothing the page needs.
// A screenshot goes to tmp/screenshots/ at the repository root (gitignored).
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { type Browser, chromium } from "playwright-core";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, testConfig } from "./helpers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOTS = join(resolve(dirname(fileURLToPath(import.meta.url)), "../../.."), "tmp/screenshots");

describe("the documentation page in a browser", function () {
  this.timeout(120_000);
  let store: CouponStore | undefined;
  let running: RunningServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`Chromium is not installed at ${CHROMIUM}`);
      this.skip();
    }
    store = await openStore("embedded:memory");
    running = await startServer({ store, config: testConfig() });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  // runs also when a test timed out: the browser and the server never outlive the file
  after(async () => {
    await browser?.close();
    if (running) await stopServer(running);
    else await store?.close();
  });

  it("When /docs is opened without a key, then every operation renders, all from this server, with no CSP refusal", async () => {
    if (!browser || !running) throw new Error("not started");
    const origin = running.url;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const elsewhere: string[] = [];
    // nothing but the API itself may be asked: anything else is recorded and never sent
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const refused: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") refused.push(m.text());
    });
    page.on("pageerror", (e) => refused.push(String(e)));

    const answer = await page.goto(`${origin}/docs`);
    expect(answer?.status()).to.equal(200);
    await page.getByText("Redeem a coupon for a user").first().waitFor({ state: "visible" });
    const { document } = (await ApiClient.connect(origin)).checker;
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(await page.locator(".opblock").count(), "one block per operation").to.equal(operations);
    const tags = (await page.locator(".opblock-tag").allInnerTexts()).map((t) => t.split("\n")[0]);
    expect(tags).to.include.members(["Redemptions", "Coupons", "Campaigns", "Generation requests", "Service"]);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "docs.png"), fullPage: true });
    expect(elsewhere, "requests to other hosts").to.deep.equal([]);
    expect(refused, "console errors (a CSP refusal is one)").to.deep.equal([]);
  });
});
