// The operator console's other states in headless Chromium (set-up in console-browser-support.ts):
// not built (503), a time series drawn, the database down (503), and a request's live progress
// with cancel and retry. Waits are on selectors and responses only.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreError } from "@coupons/db";
import { expect } from "chai";
import express from "express";
import { problemHandler } from "../src/problems.ts";
import { mountConsole } from "../src/routes/console.ts";
import { startServer, stopServer } from "../src/server.ts";
import { SCREENSHOTS, useConsoleBrowser } from "./console-browser-support.ts";
import { KEYS, overrideStore, testConfig, unique } from "./helpers.ts";

const DAY = 86_400_000;

describe("the operator console in a browser: other states", function () {
  this.timeout(120_000);
  const t = useConsoleBrowser({ presetKey: KEYS.admin });
  const campaignId = unique("SERIES");

  before(async () => {
    const created = await t.api.post("/v1/campaigns", {
      campaignId,
      name: "Series campaign",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + 30 * DAY).toISOString(),
      discountPercentage: 5,
    });
    expect(created.status, created.text).to.equal(201);
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

  it("When the stats answer carries a series (the shape ?interval= adds), then the chart draws it and its table lists the buckets", async () => {
    // the real answer carries a series (checked below); it is replaced with a known one, so the chart's
    // legend and the table's numbers can be checked exactly
    const hour = Date.UTC(2030, 2, 1, 9);
    const points = [0, 1, 2].map((i) => ({
      start: new Date(hour + i * 3_600_000).toISOString(),
      redemptions: [1200, 0, 3][i] ?? 0,
      refusals: { COUPON_NOT_FOUND: [0, 0, 7][i] ?? 0, CAMPAIGN_INACTIVE: 0 },
      reversals: [0, 0, 1][i] ?? 0,
    }));
    const series = { interval: "hour", since: points[0]?.start, until: new Date(hour + 3 * 3_600_000).toISOString(), points };
    let realSeries: unknown;
    await t.page.route("**/v1/campaigns/*/stats?*", async (route) => {
      const real = await route.fetch();
      const body = (await real.json()) as Record<string, unknown>;
      realSeries = body.series;
      await route.fulfill({ response: real, json: { ...body, series } });
    });
    try {
      await t.page.goto(`${t.origin}/console#/campaigns/${encodeURIComponent(campaignId)}`);
      await t.page.reload();
      await t.page.locator("section[data-ready]").waitFor();
      await t.page.locator(".chart canvas").waitFor();
      expect(realSeries, "the API's own answer to ?interval=").to.include.keys("interval", "since", "until", "points");
      expect(await t.page.locator(".u-legend").textContent())
        .to.contain("Redemptions")
        .and.contain("Refused COUPON_NOT_FOUND");
      await t.page.getByText("The numbers (2 non-empty buckets)").click();
      const rows = await t.page.locator("details tbody tr").allTextContents();
      expect(rows).to.have.length(2);
      expect(rows[0]).to.contain("1,200");
      await t.checkPage("campaign-series");
    } finally {
      await t.page.unroute("**/v1/campaigns/*/stats?*");
    }
  });

  it("When the database is unavailable, then the Campaigns page says so with the API's 503 and offers a retry", async () => {
    const down = overrideStore(t.store, {
      listCampaigns: () => Promise.reject(new StoreError("UNAVAILABLE", "the database cannot be reached")),
    });
    const other = await startServer({ store: down, config: testConfig() });
    try {
      const otherPage = await t.context.newPage();
      await otherPage.goto(`${other.url}/console#/campaigns`); // signed in: the key is preset in the tab
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

  it("When a request is generated, then its card shows percent, codes per second and ETA from the polls; cancel and retry work", async () => {
    await t.stopWorker(); // this test is the worker: it inserts codes when it chooses
    const live = unique("LIVE");
    await t.api.post("/v1/campaigns", {
      campaignId: live,
      name: "Live progress",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + DAY).toISOString(),
      discountAmount: 5,
    });
    const created = await t.api.post("/v1/generation-requests", { campaignId: live, requestedAmount: 4000, prefix: "LIVE-" });
    const { requestId } = created.body as { requestId: string };
    await t.page.goto(`${t.origin}/console#/generation`);
    const card = t.page.locator(`li[data-request="${requestId}"]`);
    await t.page.locator(`li[data-request="${requestId}"][data-status="Requested"]`).waitFor();
    const s = t.store;
    const claim = await s.claimGenerationRequest(requestId, "console-test");
    try {
      await s.bulkInsertCoupons(
        requestId,
        Array.from({ length: 1000 }, (_, i) => `LIVE-${live}-${i}`),
      );
      await card.getByText("25 % · 1,000 of 4,000 codes").waitFor();
      await card.getByText(/codes\/s · ETA \d/).waitFor();
      await t.checkPage("generation-live");
      await card.getByRole("button", { name: `Cancel request ${requestId}` }).click();
      await t.page.getByRole("dialog").getByRole("button", { name: "Cancel request" }).click();
      await t.page.locator(`tr[data-request="${requestId}"][data-status="Cancelled"]`).waitFor();
    } finally {
      await claim.release();
    }
    await t.page.getByRole("button", { name: `Retry request ${requestId}` }).click();
    await t.page.getByText(`Request ${requestId} submitted again; a worker will pick it up.`).waitFor();
    await t.page.locator(`li[data-request="${requestId}"][data-status="Requested"]`).waitFor();
    expect((await t.api.get(`/v1/generation-requests/${requestId}`)).body).to.include({ status: "Requested", generatedAmount: 1000 });
  });
});
