// Shared set-up of the console's browser tests: the real API on the embedded engine (with its
// in-process generation worker), Debian's Chromium through playwright-core, one page that may load
// nothing from another host and must log no console error (a CSP refusal is one), a screenshot and
// an axe-core check per page, and sign-in. Every hook cleans up, also after a failure or timeout.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { createLogger } from "../src/app.ts";
import { type EmbeddedWorker, startEmbeddedWorker } from "../src/embedded-worker.ts";
import { consoleDir } from "../src/routes/console.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, testConfig } from "./helpers.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Where the screenshots go: tmp/screenshots/console-*.png at the repository root (gitignored). */
export const SCREENSHOTS = join(ROOT, "tmp/screenshots");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** The console's sessionStorage entry for the key (apps/console/src/api.ts). */
const KEY_ITEM = "coupons.console.apiKey";

export type ConsoleSession = {
  store: CouponStore;
  running: RunningServer;
  origin: string;
  api: ApiClient;
  context: BrowserContext;
  page: Page;
  /** A full-page screenshot, then axe-core: no serious or critical violation. */
  checkPage(name: string): Promise<void>;
  /** Through the sign-in form. */
  signIn(key: string): Promise<void>;
  /** Stops the API's generation worker (a test that inserts codes itself). */
  stopWorker(): Promise<void>;
};

/** Registers the hooks of the current describe; the session's fields are there from its first test. */
export function useConsoleBrowser(options: { presetKey?: string } = {}): ConsoleSession {
  const s = {} as ConsoleSession;
  let browser: Browser | undefined;
  let worker: EmbeddedWorker | null = null;
  const elsewhere: string[] = [];
  const errors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`Chromium is not installed at ${CHROMIUM}`);
      this.skip();
    }
    // the test command builds the console; a run of this file alone builds it when it is missing
    if (!existsSync(join(consoleDir() ?? "", "index.html"))) {
      execFileSync(process.execPath, [join(ROOT, "apps/console/build.ts")], { stdio: "ignore" });
    }
    s.store = await openStore("embedded:memory");
    s.running = await startServer({ store: s.store, config: testConfig() });
    worker = await startEmbeddedWorker(s.store, true, createLogger({ logLevel: "silent" }));
    s.origin = s.running.url;
    s.api = await ApiClient.connect(s.origin);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
    s.context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    if (options.presetKey) await s.context.addInitScript(`sessionStorage.setItem("${KEY_ITEM}", ${JSON.stringify(options.presetKey)})`);
    s.page = await s.context.newPage();
    await s.page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${s.origin}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    // refusals the tests cause on purpose are logged by Chromium as failed loads; anything else counts
    s.page.on("console", (m) => {
      if (m.type() === "error" && !/the server responded with a status of (400|403|404|422)/.test(m.text())) errors.push(m.text());
    });
    s.page.on("pageerror", (e) => errors.push(String(e)));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  // runs also when a test timed out: the browser, the worker and the server never outlive the file
  after(async () => {
    await browser?.close();
    await worker?.stop();
    if (s.running) await stopServer(s.running);
    else await s.store?.close();
  });
  afterEach(() => {
    expect(elsewhere, "requests to other hosts").to.deep.equal([]);
    expect(errors, "console errors (a CSP refusal is one)").to.deep.equal([]);
  });

  s.checkPage = async (name) => {
    await s.page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
    if ((await s.page.evaluate("typeof window.axe")) !== "object") await s.page.evaluate(AXE);
    const violations = (await s.page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => v.id + ": " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`)) as string[];
    expect(violations, `axe on ${name}`).to.deep.equal([]);
  };
  s.signIn = async (key) => {
    await s.page.goto(`${s.origin}/console#/campaigns`);
    await s.page.getByLabel("Admin API key").fill(key);
    await s.page.getByRole("button", { name: "Sign in" }).click();
  };
  s.stopWorker = async () => {
    await worker?.stop();
    worker = null;
  };
  return s;
}
