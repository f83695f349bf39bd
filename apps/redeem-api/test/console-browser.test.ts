// The operator console at /console, driven in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) against the real API on the embedded engine with its in-process generation
// worker: a key without the admin scope gets a refusal page; an admin signs in, sees a campaign made
// through the API, pauses it by keyboard (a redemption is then refused), watches a generation
// request reach Generated, opens the campaign, and reads the fraud report after a burst of bad
// guesses. Each page: a screenshot in tmp/screenshots/ (gitignored), axe-core with no serious or
// critical violation, nothing loaded from another host, no console error (see the support file).
// Waits are on selectors and responses only.
import { expect } from "chai";
import { useConsoleBrowser } from "./console-browser-support.ts";
import { KEYS, addCoupons, unique } from "./helpers.ts";

const DAY = 86_400_000;

describe("the operator console in a browser", function () {
  this.timeout(120_000);
  const t = useConsoleBrowser();
  const campaignId = unique("CONSOLE");
  const code = unique("CONSOLE-CODE");

  it("When /console and its assets are asked for, then the page is no-cache, assets immutable, and the CSP allows only this server", async () => {
    const index = await fetch(`${t.origin}/console`);
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
      const r = await fetch(`${t.origin}${asset}`);
      expect(r.status, asset).to.equal(200);
      expect(r.headers.get("cache-control"), asset).to.equal("public, max-age=31536000, immutable");
    }
    expect((await fetch(`${t.origin}/console/assets/missing-AAAAAAAA.js`)).status).to.equal(404);
    // /docs keeps its own policy next to the console's
    const docs = await fetch(`${t.origin}/docs`);
    expect(docs.headers.get("content-security-policy")).to.contain("img-src 'self' data:");
  });

  it("When a key without the admin scope signs in, then a page says the API refused it for lacking the admin scope", async () => {
    await t.signIn(KEYS.reader);
    await t.page.getByRole("heading", { name: "This key cannot use the console" }).waitFor();
    expect(await t.page.getByRole("alert").textContent()).to.contain("needs scope admin");
    await t.checkPage("refused");
    await t.page.getByRole("button", { name: "Sign in with another key" }).click();
    await t.page.getByLabel("Admin API key").waitFor();
  });

  it("When an admin signs in, then the campaign made through the API is listed; pausing it by keyboard makes a redemption refused", async () => {
    const created = await t.api.post("/v1/campaigns", {
      campaignId,
      name: "Console spring sale",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + 30 * DAY).toISOString(),
      discountPercentage: 15,
      maxTotalRedemptions: 1000,
    });
    expect(created.status, created.text).to.equal(201);
    await addCoupons(t.store, campaignId, [code, `${code}-2`]);
    expect((await t.api.post("/v1/redemptions", { code: `${code}-2`, userId: "u-console" }, KEYS.shop)).status).to.equal(200);

    await t.signIn(KEYS.admin);
    const row = t.page.locator(`tr[data-campaign="${campaignId}"]`);
    await row.waitFor();
    expect(await row.textContent())
      .to.contain("Console spring sale")
      .and.contain("active")
      .and.contain("1 / 1,000");
    await t.checkPage("campaigns");

    // by keyboard: Enter on the row's button, the dialog opens on Cancel, Tab to the confirming button
    await row.getByRole("button", { name: /Pause/ }).focus();
    await t.page.keyboard.press("Enter");
    const dialog = t.page.getByRole("dialog");
    await dialog.waitFor();
    expect(await t.page.evaluate("document.activeElement.textContent")).to.equal("Cancel");
    await t.page.keyboard.press("Tab");
    expect(await t.page.evaluate("document.activeElement.textContent")).to.equal("Pause campaign");
    expect(await t.page.evaluate("getComputedStyle(document.activeElement).outlineStyle"), "focus is visible").to.equal("solid");
    await t.page.keyboard.press("Enter");
    await row.locator(".badge.paused").waitFor();
    await dialog.waitFor({ state: "detached" });
    const refused = await t.api.post("/v1/redemptions", { code, userId: "u-console" }, KEYS.shop);
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal("CAMPAIGN_INACTIVE");

    await t.page.setViewportSize({ width: 390, height: 844 });
    const overflow = await t.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow, "no sideways scrolling of the page at phone width").to.equal(0);
    await t.checkPage("campaigns-phone");
    await t.page.setViewportSize({ width: 1280, height: 900 });
  });

  it("When a generation request is created on the Generation page, then it reaches Generated; an infeasible one shows the API's message", async () => {
    await t.page.goto(`${t.origin}/console#/generation`);
    await t.page.locator("section[data-ready]").waitFor();
    await t.page.getByLabel("Campaign").fill(campaignId);
    await t.page.getByLabel("Number of codes").fill("3000");
    await t.page.getByLabel("Prefix (optional)").fill("CONS-");
    const answered = t.page.waitForResponse((r) => r.url().endsWith("/v1/generation-requests") && r.request().method() === "POST");
    await t.page.getByRole("button", { name: "Request codes" }).click();
    const response = await answered;
    expect(response.status()).to.equal(201);
    const { requestId } = (await response.json()) as { requestId: string };
    await t.page.locator(`[data-request="${requestId}"][data-status="Generated"]`).waitFor({ timeout: 60_000 });
    await t.checkPage("generation");

    const infeasible = { campaignId, requestedAmount: 1_000_000, prefix: "TINY-", codeLength: 4 };
    const expected = await t.api.post("/v1/generation-requests", infeasible);
    expect(expected.status).to.equal(400);
    expect(expected.body.detail).to.match(/infeasible/);
    await t.page.getByLabel("Number of codes").fill(String(infeasible.requestedAmount));
    await t.page.getByLabel("Prefix (optional)").fill(infeasible.prefix);
    await t.page.getByLabel("Random characters (default 12)").fill(String(infeasible.codeLength));
    await t.page.getByRole("button", { name: "Request codes" }).click();
    const shown = t.page.locator("[data-problem]");
    await shown.waitFor();
    expect(await shown.textContent()).to.equal(expected.body.detail);
  });

  it("When a campaign's page is opened, then its counts, its requests and the data-ready mark show; expiring a request's codes counts them", async () => {
    await t.page.goto(`${t.origin}/console#/campaigns/${encodeURIComponent(campaignId)}`);
    await t.page.locator("section[data-ready]").waitFor();
    expect(await t.page.locator('[data-count="total"]').textContent()).to.equal("3,002");
    expect(await t.page.locator('[data-count="redeemed"]').textContent()).to.equal("1");
    const hasSeries = (await t.api.get(`/v1/campaigns/${campaignId}/stats?interval=hour`)).body.series !== undefined;
    if (hasSeries) await t.page.locator(".chart canvas").waitFor();
    else await t.page.getByText("does not answer a time series").waitFor();
    await t.checkPage("campaign");

    const listed = await t.api.get(`/v1/generation-requests?campaignId=${campaignId}&status=Generated`);
    const consoleMade = listed.body.requests.find((r: { prefix: string }) => r.prefix === "CONS-");
    await t.page.getByRole("button", { name: `Expire its codes of request ${consoleMade.requestId}` }).click();
    await t.page.getByRole("dialog").getByRole("button", { name: "Expire codes" }).click();
    await t.page.getByText(`3,000 coupon(s) of request ${consoleMade.requestId} expired now.`).waitFor();
    await t.page.locator('[data-count="expired"]').getByText("3,000").waitFor();
  });

  it("When a burst of bad guesses happened, then the Fraud page by user lists the guesser with their refusals", async () => {
    const guesser = unique("guesser");
    for (let i = 0; i < 8; i++) {
      const r = await t.api.post("/v1/redemptions", { code: unique("NOPE"), userId: guesser }, KEYS.shop);
      expect(r.status).to.equal(404);
    }
    await t.page.goto(`${t.origin}/console#/fraud`);
    await t.page.locator("section[data-ready]").waitFor();
    await t.page.getByLabel("By", { exact: true }).selectOption("user");
    const row = t.page.locator(`tr[data-subject="${guesser}"]`);
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 3)).to.deep.equal([guesser, "8", "8"]);
    expect(cells.join(" ")).to.contain("COUPON_NOT_FOUND 8");
    await t.checkPage("fraud");
  });
});
