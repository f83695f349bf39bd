// The redeem API's behaviour through real HTTP, as a function of the engine, so the same scenarios
// run on embedded and on PostgreSQL. Every response is checked against the OpenAPI document.
import type { CouponStore } from "@coupons/db";
import type { EngineUnderTest } from "../../../packages/db/test/support.ts";
import { expect } from "chai";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, addCoupons, seedCampaign, testConfig, unique } from "./helpers.ts";
import { fraudScenarios } from "./scenarios-fraud.ts";
import { lifecycleScenarios } from "./scenarios-lifecycle.ts";
import { generationScenarios } from "./scenarios-generation.ts";
import { redemptionScenarios } from "./scenarios-redemption.ts";
import { reversalScenarios } from "./scenarios-reversal.ts";
import { statisticsScenarios } from "./scenarios-statistics.ts";

const DAY = 86_400_000;

export function apiScenarios(engine: EngineUnderTest): void {
  let store: CouponStore;
  let cleanup: () => Promise<void>;
  let running: RunningServer;
  let api: ApiClient;

  before(async () => {
    ({ store, cleanup } = await engine.open());
    running = await startServer({ store, config: testConfig() });
    api = await ApiClient.connect(running.url);
  });
  after(async () => {
    if (running) await stopServer(running, { closeStore: false });
    if (cleanup) await cleanup();
  });

  const redeem = (code: string, userId: string, extra: Record<string, unknown> = {}, key: string = KEYS.shop, headers = {}) =>
    api.post("/v1/redemptions", { code, userId, ...extra }, key, headers);

  describe("health, readiness, documentation", () => {
    it("When /healthz and /readyz are called without a key, then both answer 200", async () => {
      expect((await api.get("/healthz", null)).body).to.deep.equal({ status: "ok" });
      const ready = await api.get("/readyz", null);
      expect(ready.status).to.equal(200);
      expect(ready.body).to.deep.equal({ status: "ready", engine: engine.name });
    });

    it("When the OpenAPI document and the documentation page are asked for without a key, then both answer 200", async () => {
      const r = await api.get("/openapi.json", null);
      expect(r.status).to.equal(200);
      expect(r.body.openapi).to.equal("3.1.0");
      const page = await api.get("/docs", null);
      expect(page.status).to.equal(200);
      expect(page.text).to.contain('<div id="swagger-ui">');
      expect(page.headers.get("content-security-policy")).to.match(/^default-src 'self';/);
    });

    it("When a response is sent, then it carries helmet's headers and a request id, echoing a given one", async () => {
      const r = await api.call("GET", "/healthz", { headers: { "x-request-id": "abc-123" } });
      expect(r.headers.get("x-request-id")).to.equal("abc-123");
      expect(r.headers.get("x-content-type-options")).to.equal("nosniff");
      const generated = await api.get("/healthz", null);
      expect(generated.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
      const bad = await api.call("GET", "/healthz", { headers: { "x-request-id": "bad id with spaces" } });
      expect(bad.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe("authentication and scopes", () => {
    const protectedCalls: [string, string][] = [
      ["POST", "/v1/redemptions"],
      ["POST", "/v1/redemptions/1/reversal"],
      ["GET", "/v1/users/u/redemptions"],
      ["POST", "/v1/validations"],
      ["GET", "/v1/coupons/ANY"],
      ["PUT", "/v1/coupons/ANY/assignment"],
      ["DELETE", "/v1/coupons/ANY/assignment"],
      ["GET", "/v1/campaigns"],
      ["POST", "/v1/campaigns"],
      ["GET", "/v1/campaigns/x"],
      ["GET", "/v1/campaigns/x/stats"],
      ["POST", "/v1/generation-requests"],
      ["GET", "/v1/generation-requests/x"],
      ["GET", "/metrics"],
    ];

    it("When any endpoint but health and documentation is called without a key, then it answers 401 UNAUTHENTICATED", async () => {
      for (const [method, path] of protectedCalls) {
        const r = await api.call(method, path, { body: method === "GET" || method === "DELETE" ? undefined : {} });
        expect(r.status, `${method} ${path}`).to.equal(401);
        expect(r.body.code).to.equal("UNAUTHENTICATED");
        expect(r.headers.get("www-authenticate")).to.match(/ApiKey/);
      }
    });

    it("When a key that is not configured is sent, then it answers 401", async () => {
      const r = await api.get("/v1/campaigns", "not-a-real-key");
      expect(r.status).to.equal(401);
      expect(r.body.code).to.equal("UNAUTHENTICATED");
    });

    it("When a key lacks the endpoint's scope, then it answers 403 FORBIDDEN naming the scope", async () => {
      const cases: [string, string, string, string][] = [
        ["POST", "/v1/redemptions", KEYS.reader, "redeem"],
        ["POST", "/v1/campaigns", KEYS.shop, "admin"],
        ["GET", "/v1/campaigns", KEYS.shop, "read"],
        ["PUT", "/v1/coupons/ANY/assignment", KEYS.other, "admin"],
        ["GET", "/v1/generation-requests/x", KEYS.reader, "admin"],
        ["GET", "/metrics", KEYS.shop, "read"],
      ];
      for (const [method, path, key, scope] of cases) {
        const r = await api.call(method, path, { key, body: method === "GET" ? undefined : {} });
        expect(r.status, `${method} ${path}`).to.equal(403);
        expect(r.body.code).to.equal("FORBIDDEN");
        expect(r.body.detail).to.contain(scope);
      }
    });
  });

  describe("campaigns", () => {
    const body = (campaignId: string, extra: Record<string, unknown> = {}) => ({
      campaignId,
      name: "Spring sale",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + DAY).toISOString(),
      discountPercentage: 15,
      maxRedemptionsPerUser: 2,
      ...extra,
    });

    it("When an admin creates a campaign, then it answers 201 with the campaign, its Location, and it is listed as active", async () => {
      const id = unique("spring");
      const r = await api.post("/v1/campaigns", body(id));
      expect(r.status).to.equal(201);
      expect(r.headers.get("location")).to.equal(`/v1/campaigns/${id}`);
      expect(r.body).to.include({
        campaignId: id,
        discountPercentage: 15,
        currentRedemptions: 0,
        isActive: true,
        createdBy: "apikey:admin",
      });
      const got = await api.get(`/v1/campaigns/${id}`, KEYS.reader);
      expect(got.status).to.equal(200);
      expect(got.body.campaignId).to.equal(id);
      const list = await api.get("/v1/campaigns", KEYS.reader);
      expect(list.status).to.equal(200);
      expect(list.body.campaigns.map((c: { campaignId: string }) => c.campaignId)).to.include(id);
    });

    it("When a campaign is inactive, then it is not listed as active", async () => {
      const id = unique("off");
      expect((await api.post("/v1/campaigns", body(id, { isActive: false }))).status).to.equal(201);
      const list = await api.get("/v1/campaigns?state=active", KEYS.reader);
      expect(list.body.campaigns.map((c: { campaignId: string }) => c.campaignId)).to.not.include(id);
    });

    it("When a campaign id is used twice, then the second answers 409 CONFLICT", async () => {
      const id = unique("dup");
      await api.post("/v1/campaigns", body(id));
      const r = await api.post("/v1/campaigns", body(id));
      expect(r.status).to.equal(409);
      expect(r.body.code).to.equal("CONFLICT");
    });

    it("When a campaign body is invalid, then it answers 400 naming each field", async () => {
      const r = await api.post("/v1/campaigns", body(unique("bad"), { discountAmount: 5, endDate: "yesterday" }));
      expect(r.status).to.equal(400);
      expect(r.body.code).to.equal("VALIDATION_FAILED");
      expect(r.body.errors.map((e: { field: string }) => e.field)).to.include("endDate");
      const both = await api.post("/v1/campaigns", body(unique("bad"), { discountAmount: 5 }));
      expect(both.status).to.equal(400);
      expect(both.body.errors[0].field).to.equal("discountPercentage");
      const extra = await api.post("/v1/campaigns", body(unique("bad"), { colour: "red" }));
      expect(extra.status).to.equal(400);
    });

    it("When stats are asked for, then they count coupons; an unknown campaign answers 404", async () => {
      const codes = [unique("st1"), unique("st2"), unique("st3")];
      const campaignId = await seedCampaign(store, { codes });
      expect((await redeem(codes[0]!, "stats-user")).status).to.equal(200);
      const r = await api.get(`/v1/campaigns/${campaignId}/stats`, KEYS.reader);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ campaignId, totalCoupons: 3, redeemedCoupons: 1, availableCoupons: 2, expiredCoupons: 0 });
      const missing = await api.get("/v1/campaigns/NO-SUCH-CAMPAIGN/stats", KEYS.reader);
      expect(missing.status).to.equal(404);
      expect(missing.body.code).to.equal("NOT_FOUND");
      expect((await api.get("/v1/campaigns/NO-SUCH-CAMPAIGN", KEYS.reader)).status).to.equal(404);
    });
  });

  const context = {
    get api() {
      return api;
    },
    get store() {
      return store;
    },
    redeem,
  };
  generationScenarios(context);
  redemptionScenarios(context);
  lifecycleScenarios(context);
  fraudScenarios(context);
  reversalScenarios(context);
  statisticsScenarios(context);

  describe("coupon details and assignment", () => {
    it("When details are asked for, then the computed status follows the coupon's life", async () => {
      const [a, b, c] = [unique("d-av"), unique("d-ex"), unique("d-in")];
      const campaignId = await seedCampaign(store, { codes: [a] });
      await addCoupons(store, campaignId, [b], new Date(Date.now() - 1000));
      await seedCampaign(store, { codes: [c], isActive: false });
      const av = await api.get(`/v1/coupons/${a.toLowerCase()}`, KEYS.reader);
      expect(av.status).to.equal(200);
      expect(av.body).to.include({ couponCode: a, campaignId, status: "available", isRedeemed: false, assignedTo: null });
      expect(av.body.campaign.campaignId).to.equal(campaignId);
      await api.put(`/v1/coupons/${a}/assignment`, { userId: "wes" });
      expect((await api.get(`/v1/coupons/${a}`, KEYS.reader)).body.status).to.equal("assigned");
      await redeem(a, "wes");
      const red = await api.get(`/v1/coupons/${a}`, KEYS.reader);
      expect(red.body).to.include({ status: "redeemed", redeemedBy: "wes", isRedeemed: true });
      expect((await api.get(`/v1/coupons/${b}`, KEYS.reader)).body.status).to.equal("expired");
      expect((await api.get(`/v1/coupons/${c}`, KEYS.reader)).body.status).to.equal("campaign_inactive");
      const missing = await api.get(`/v1/coupons/${unique("none")}`, KEYS.reader);
      expect(missing.status).to.equal(404);
      expect(missing.body.code).to.equal("COUPON_NOT_FOUND");
    });

    it("When a coupon is assigned, reassigned, unassigned, then the state changes are checked", async () => {
      const code = unique("asg");
      await seedCampaign(store, { codes: [code] });
      const put = await api.put(`/v1/coupons/${code}/assignment`, { userId: "xena" });
      expect(put.status).to.equal(200);
      expect(put.body.assignedTo).to.equal("xena");
      const steal = await api.put(`/v1/coupons/${code}/assignment`, { userId: "yuri" });
      expect(steal.status).to.equal(409);
      expect(steal.body.code).to.equal("CONFLICT");
      const del = await api.delete(`/v1/coupons/${code}/assignment`);
      expect(del.status).to.equal(200);
      expect(del.body.assignedTo).to.equal(null);
      await redeem(code, "zack");
      const late = await api.put(`/v1/coupons/${code}/assignment`, { userId: "xena" });
      expect(late.status).to.equal(409);
      expect((await api.delete(`/v1/coupons/${unique("none")}/assignment`)).status).to.equal(404);
      const noUser = await api.put(`/v1/coupons/${code}/assignment`, {});
      expect(noUser.status).to.equal(400);
      expect(noUser.body.errors[0].field).to.equal("userId");
    });
  });

  describe("HTTP errors", () => {
    it("When a route does not exist, then 404 ROUTE_NOT_FOUND as problem+json", async () => {
      const r = await api.get("/v1/nothing-here");
      expect(r.status).to.equal(404);
      expect(r.body.code).to.equal("ROUTE_NOT_FOUND");
    });

    it("When a method is wrong, then 405 with Allow", async () => {
      const r = await api.get("/v1/redemptions", KEYS.shop);
      expect(r.status).to.equal(405);
      expect(r.headers.get("allow")).to.equal("POST");
      const d = await api.delete("/v1/campaigns");
      expect(d.status).to.equal(405);
      expect(d.headers.get("allow")).to.equal("GET, HEAD, POST");
    });

    it("When the body is too large, then 413; malformed JSON 400; a non-JSON body 415", async () => {
      const big = await api.call("POST", "/v1/redemptions", {
        key: KEYS.shop,
        raw: JSON.stringify({ code: "x".repeat(40_000), userId: "u" }),
      });
      expect(big.status).to.equal(413);
      expect(big.body.code).to.equal("PAYLOAD_TOO_LARGE");
      const bad = await api.call("POST", "/v1/redemptions", { key: KEYS.shop, raw: '{"code": "X", ' });
      expect(bad.status).to.equal(400);
      expect(bad.body.code).to.equal("MALFORMED_JSON");
      const text = await api.call("POST", "/v1/redemptions", { key: KEYS.shop, raw: "code=X", contentType: "text/plain" });
      expect(text.status).to.equal(415);
      const arr = await api.call("POST", "/v1/redemptions", { key: KEYS.shop, raw: "[1,2]" });
      expect(arr.status).to.equal(400);
    });
  });

  describe("metrics", () => {
    it("When redemptions happened, then /metrics counts them by outcome and has the latency histogram", async () => {
      const r = await api.get("/metrics", KEYS.reader);
      expect(r.status).to.equal(200);
      expect(r.text).to.match(/coupons_redemptions_total\{outcome="redeemed"\} [1-9]/);
      expect(r.text).to.match(/coupons_redemptions_total\{outcome="COUPON_NOT_FOUND"\} [1-9]/);
      expect(r.text).to.match(
        /coupons_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/redemptions",status="200"\}/,
      );
    });
  });

  describe("the OpenAPI document", () => {
    it("When the suite has run, then every documented operation was answered and checked at least once with success", () => {
      for (const op of api.checker.operationIds()) {
        const statuses = [...(api.checker.seen.get(op) ?? [])];
        expect(
          statuses.some((s) => s < 300),
          `${op} had no checked success (saw ${statuses.join(",") || "nothing"})`,
        ).to.equal(true);
      }
    });
  });
}
