// The served OpenAPI document: valid OpenAPI 3.1 (checked by ApiClient.connect), every operation
// described for consumers with a tag and an example, every example true (answers pass the checker,
// request bodies are accepted by the server's own parsing), and the checker refuses answers that
// break the document, so the HTTP suites' "checked against the document" can fail.
import SwaggerParser from "@apidevtools/swagger-parser";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, testConfig } from "./helpers.ts";

type Media = { example?: unknown };
type Op = {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media>; headers?: Record<string, { required?: boolean }> }>;
};

describe("the OpenAPI document", () => {
  let store: CouponStore;
  let running: RunningServer;
  let api: ApiClient;
  const ops: { method: string; path: string; op: Op }[] = [];

  before(async () => {
    store = await openStore("embedded:memory");
    running = await startServer({ store, config: testConfig() });
    api = await ApiClient.connect(running.url);
    const paths = (api.checker.document as unknown as { paths: Record<string, Record<string, Op>> }).paths;
    for (const [path, item] of Object.entries(paths)) for (const [method, op] of Object.entries(item)) ops.push({ method, path, op });
  });
  after(async () => {
    if (running) await stopServer(running);
  });

  it("When it is served, then it is valid OpenAPI 3.1 with every operation the API answers", async () => {
    expect(api.checker.document).to.have.property("openapi", "3.1.0");
    await SwaggerParser.validate(structuredClone(api.checker.document) as never);
    expect(ops.map((o) => o.op.operationId)).to.include.members(["redeemCoupon", "createGenerationRequest", "getDocs", "metrics"]);
    expect(new Set(ops.map((o) => o.op.operationId)).size, "operation ids are unique").to.equal(ops.length);
  });

  it("When an operation is read, then it has a tag, a consumer summary without stored-procedure names, a description and examples", () => {
    for (const { op } of ops) {
      expect(op.tags, op.operationId).to.have.length(1);
      expect(op.summary, op.operationId)
        .to.be.a("string")
        .and.not.match(/\b(sp|vw)_[A-Z]/);
      expect(op.description, op.operationId).to.be.a("string").with.length.above(10);
      const success = Object.entries(op.responses).find(([status]) => Number(status) < 300);
      expect(success, `${op.operationId} documents a success`).to.not.equal(undefined);
      const media = Object.values(success?.[1].content ?? {});
      expect(media.length, op.operationId).to.equal(1);
      expect(media[0]?.example, `${op.operationId}: answer example`).to.not.equal(undefined);
      if (op.requestBody)
        expect(op.requestBody.content["application/json"]?.example, `${op.operationId}: body example`).to.not.equal(undefined);
    }
  });

  it("When a pattern of the document is used by a reader without Unicode mode (Swagger UI), then it means what the server checks", () => {
    const patterns: string[] = [];
    JSON.stringify(api.checker.document, (key, value) => {
      if (key === "pattern" && typeof value === "string") patterns.push(value);
      return value;
    });
    expect(patterns.length).to.be.above(0);
    for (const p of patterns) {
      expect(p, "Unicode property escapes need Unicode mode").to.not.contain("\\p{");
      expect(() => new RegExp(p), p).to.not.throw();
    }
    const code = ops.find((o) => o.op.operationId === "getCouponDetails")?.op as unknown as {
      parameters: { schema: { pattern: string } }[];
    };
    const printable = new RegExp(code.parameters[0]?.schema.pattern ?? "^$");
    expect(printable.test("SPRING-7KQ2MX9A Ünï"), "letters, digits, space, accents").to.equal(true);
    expect(printable.test("A\u0001B") || printable.test("A\u0085B"), "control characters").to.equal(false);
  });

  it("When each answer example is checked as a real answer would be, then it matches its own schema and headers", () => {
    for (const { method, path, op } of ops) {
      const [status, response] = Object.entries(op.responses).find(([s]) => Number(s) < 300) ?? [];
      const [contentType, media] = Object.entries(response?.content ?? {})[0] ?? [];
      const headers = new Headers({ "content-type": contentType ?? "" });
      for (const [name, h] of Object.entries(response?.headers ?? {})) if (h.required) headers.set(name, "/v1/example");
      api.checker.check(method.toUpperCase(), path, { status: Number(status), headers, body: media?.example });
    }
  });

  it("When each request body example is sent, then the server's own parsing accepts it", async () => {
    // in this order: the campaign first, then what needs it
    const order = [
      "createCampaign",
      "updateCampaign",
      "createGenerationRequest",
      "assignCoupon",
      "redeemCoupon",
      "reverseRedemption",
      "validateCoupon",
    ];
    const withBody = ops.filter((o) => o.op.requestBody);
    expect(withBody.map((o) => o.op.operationId)).to.have.members(order);
    for (const id of order) {
      const { method, path, op } = withBody.find((o) => o.op.operationId === id) ?? ops[0]!;
      const body = op.requestBody?.content["application/json"]?.example;
      const concrete = path.replace("{code}", "SPRING-7KQ2MX9A").replace("{campaignId}", "SPRING-2030").replace("{redemptionId}", "1");
      const r = await api.call(method.toUpperCase(), concrete, { key: KEYS.admin, body });
      expect(r.status, `${id}: ${r.text}`).to.not.equal(400);
      expect(r.status, `${id}: ${r.text}`).to.be.below(500);
    }
  });

  describe("the checker the HTTP suites rely on", () => {
    const json = new Headers({ "content-type": "application/json; charset=utf-8" });
    const problem = new Headers({ "content-type": "application/problem+json" });
    const campaign = () =>
      structuredClone(
        (ops.find((o) => o.op.operationId === "getCampaign")?.op.responses["200"]?.content?.["application/json"]?.example ?? {}) as Record<
          string,
          unknown
        >,
      );
    const refuses = (fn: () => void, why: RegExp) => expect(fn).to.throw(why);

    it("When an answer body lacks a field, has a wrong type or an extra field, then the check fails", () => {
      api.checker.check("GET", "/v1/campaigns/X", { status: 200, headers: json, body: campaign() });
      const missing = campaign();
      delete missing.name;
      refuses(() => api.checker.check("GET", "/v1/campaigns/X", { status: 200, headers: json, body: missing }), /does not match/);
      refuses(
        () => api.checker.check("GET", "/v1/campaigns/X", { status: 200, headers: json, body: { ...campaign(), isActive: "yes" } }),
        /does not match/,
      );
      refuses(
        () => api.checker.check("GET", "/v1/campaigns/X", { status: 200, headers: json, body: { ...campaign(), secret: 1 } }),
        /does not match/,
      );
    });

    it("When the status or the content type is not documented, then the check fails", () => {
      refuses(() => api.checker.check("GET", "/v1/campaigns/X", { status: 418, headers: problem, body: {} }), /not documented/);
      refuses(
        () => api.checker.check("GET", "/v1/campaigns/X", { status: 200, headers: new Headers({ "content-type": "text/html" }), body: "" }),
        /content type text\/html is not documented/,
      );
    });

    it("When a required header is missing or malformed, then the check fails", () => {
      const created = ops.find((o) => o.op.operationId === "createCampaign")?.op.responses["201"]?.content?.["application/json"]?.example;
      refuses(() => api.checker.check("POST", "/v1/campaigns", { status: 201, headers: json, body: created }), /header Location/);
      const throttled = {
        type: "urn:coupons:problem:too-many-failed-attempts",
        title: "Too many failed attempts",
        status: 429,
        code: "TOO_MANY_FAILED_ATTEMPTS",
      };
      refuses(() => api.checker.check("POST", "/v1/redemptions", { status: 429, headers: problem, body: throttled }), /Retry-After/);
      const late = new Headers({ "content-type": "application/problem+json", "retry-after": "soon" });
      refuses(() => api.checker.check("POST", "/v1/redemptions", { status: 429, headers: late, body: throttled }), /Retry-After/);
    });
  });
});
