// OpenTelemetry end to end, on PostgreSQL: the redeem API and the generator run as processes that
// export OTLP/HTTP (JSON) to a receiver made here. A redemption sent with a W3C traceparent gives one
// trace from the API's server span down to its database (pg) and Redis calls; a generation request
// created through the API stores the traceparent of that request, and the worker (`coupons run`, a
// process of its own) continues that trace: its run span under the stored span, its batches under
// the run with their counts, their inserts under the batches. Each process flushes on its way out,
// so everything is read after the processes ended, without waiting on a clock.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { type CouponStore, openStore, telemetryTarget } from "@coupons/db";
import { expect } from "chai";
import { buildContainerGroup } from "../apps/generator/src/aci.ts";
import { containerDatabaseEnv } from "../apps/generator/src/commands/launch.ts";
import { cli } from "../apps/generator/test/helpers.ts";
import { KEYS, seedCampaign, startApiProcess, testEnv, unique } from "../apps/redeem-api/test/helpers.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../packages/db/test/support.ts";
import { type OtlpReceiver, type ReceivedSpan, ancestors, startOtlpReceiver } from "./helpers/otlp-receiver.ts";
import { ROOT } from "./helpers/image.ts";

const SERVER = 2; // SpanKind.SERVER in OTLP
const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

describe("telemetry target: where a process exports, from its environment", () => {
  it("When the connection string, an OTLP endpoint, both or neither are set, then Azure Monitor wins, OTLP is next, and nothing is exported otherwise", () => {
    const cs = "InstrumentationKey=00000000-0000-0000-0000-000000000000";
    expect(telemetryTarget({ APPLICATIONINSIGHTS_CONNECTION_STRING: cs, OTEL_EXPORTER_OTLP_ENDPOINT: "http://x" })).to.deep.equal({
      kind: "azure-monitor",
      connectionString: cs,
    });
    expect(telemetryTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: " http://x:4318 " })).to.deep.equal({ kind: "otlp", endpoint: "http://x:4318" });
    expect(telemetryTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "true" }).kind).to.equal("none");
    expect(telemetryTarget({ APPLICATIONINSIGHTS_CONNECTION_STRING: "  " }).kind).to.equal("none");
  });
});

describe("telemetry settings of a generator launched in ACI (`coupons launch`)", () => {
  it("When the launching environment has a connection string and an OTLP endpoint, then the container gets both, the connection string as a secure value", () => {
    const cs = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x/";
    const env = containerDatabaseEnv({
      COUPONS_DATABASE_URL: "postgres://db.internal/coupons",
      APPLICATIONINSIGHTS_CONNECTION_STRING: cs,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      UNRELATED: "x",
    });
    const { containerGroup } = buildContainerGroup({
      subscriptionId: "00000000-1111-2222-3333-444444444444",
      resourceGroup: "rg",
      location: "westeurope",
      image: "acr.azurecr.io/coupons-generator:1",
      identityResourceId:
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gen",
      requestId: "r1",
      env,
    });
    const vars = containerGroup.containers[0]?.environmentVariables ?? [];
    expect(vars.find((v) => v.name === "APPLICATIONINSIGHTS_CONNECTION_STRING")).to.deep.equal({
      name: "APPLICATIONINSIGHTS_CONNECTION_STRING",
      secureValue: cs,
    });
    expect(vars.find((v) => v.name === "OTEL_EXPORTER_OTLP_ENDPOINT")).to.deep.equal({
      name: "OTEL_EXPORTER_OTLP_ENDPOINT",
      value: "http://collector:4318",
    });
    expect(vars.map((v) => v.name)).to.not.include("UNRELATED");
  });
});

describePostgres("OpenTelemetry to a loopback OTLP receiver: the API and the generator on PostgreSQL", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let receiver: OtlpReceiver;
  let code: string;
  let requestId: string;
  let stored: string | null = null;
  let created: Record<string, unknown>;
  const redemption = { traceId: randomBytes(16).toString("hex"), parent: randomBytes(8).toString("hex") };
  const creation = { traceId: randomBytes(16).toString("hex"), parent: randomBytes(8).toString("hex") };
  const lookup = { traceId: randomBytes(16).toString("hex"), parent: randomBytes(8).toString("hex") };

  before(async () => {
    db = await createPostgresDatabase();
    receiver = await startOtlpReceiver();
    let campaignId = "";
    code = unique("OTEL");
    const seed: CouponStore = await openStore(db.url);
    try {
      campaignId = await seedCampaign(seed, { codes: [code] });
    } finally {
      await seed.close();
    }
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: "60000" };
    const api = await startApiProcess(
      ["--conditions=source", join(ROOT, "apps/redeem-api/src/main.ts")],
      testEnv({
        ...otel,
        COUPONS_DATABASE_URL: db.url,
        COUPONS_REDIS_URL: process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379",
        COUPONS_LOG_LEVEL: "info",
      }),
    );
    try {
      const base = `http://127.0.0.1:${api.port}`;
      const post = (path: string, key: string, tp: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": key, traceparent: tp },
          body: JSON.stringify(body),
        });
      const redeemed = await post("/v1/redemptions", KEYS.shop, traceparent(redemption.traceId, redemption.parent), { code, userId: "u1" });
      expect(redeemed.status, await redeemed.clone().text()).to.equal(200);
      const looked = await fetch(`${base}/v1/coupons/${code.toLowerCase()}?api_key=${KEYS.reader}`, {
        headers: { "x-api-key": KEYS.reader, traceparent: traceparent(lookup.traceId, lookup.parent) },
      });
      expect(looked.status).to.equal(200);
      const made = await post("/v1/generation-requests", KEYS.admin, traceparent(creation.traceId, creation.parent), {
        campaignId,
        requestedAmount: 12_000,
      });
      created = (await made.json()) as Record<string, unknown>;
      expect(made.status, JSON.stringify(created)).to.equal(201);
      requestId = String(created.requestId);
    } finally {
      const exited = once(api.child, "exit");
      api.child.kill("SIGTERM"); // it flushes its spans and metrics before it exits
      expect((await exited)[0], api.errors()).to.equal(0);
    }
    const store = await openStore(db.url);
    try {
      stored = (await store.getGenerationRequest(requestId))?.traceparent ?? null;
    } finally {
      await store.close();
    }
    const run = await cli(["run", "--request-id", requestId, "--batch-size", "5000"], {
      env: { ...otel, COUPONS_DATABASE_URL: db.url },
    });
    expect(run.code, run.stderr).to.equal(0);
  });
  after(async () => {
    await receiver?.close();
    await db?.drop();
  });

  const inTrace = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const serverSpan = (spans: ReceivedSpan[], parent: string) => {
    const found = spans.filter((s) => s.kind === SERVER && s.parentSpanId === parent);
    expect(found, JSON.stringify(spans, null, 1)).to.have.length(1);
    return found[0] as ReceivedSpan;
  };

  it("When a redemption arrives with a traceparent, then its server span continues it (route, status, key id) and its pg and Redis calls are its descendants", () => {
    const spans = inTrace(redemption.traceId);
    const server = serverSpan(spans, redemption.parent);
    expect(server.service).to.equal("coupons-redeem-api");
    expect(server.attributes).to.include({ "http.route": "/v1/redemptions", "coupons.key_id": "shop" });
    expect(server.attributes["http.response.status_code"] ?? server.attributes["http.status_code"]).to.equal(200);
    const under = (s: ReceivedSpan) => ancestors(spans, s).includes(server.spanId);
    const pg = spans.filter((s) => s.attributes["db.system"] === "postgresql" || s.attributes["db.system.name"] === "postgresql");
    expect(pg.length, "pg spans in the trace").to.be.greaterThan(0);
    expect(pg.every(under), "every pg span descends from the server span").to.equal(true);
    const redis = spans.filter((s) => s.attributes["db.system.name"] === "redis");
    expect(redis.length, "Redis (throttle) spans in the trace").to.be.greaterThan(0);
    expect(redis.every(under)).to.equal(true);
    // the coupon code (a bearer secret) is in no span of the trace: not in a URL, not in SQL text
    expect(JSON.stringify(spans)).to.not.contain(code);
  });

  it("When a coupon is looked up with a query string, then its server span has the route and a masked path, never the code or the query", () => {
    const spans = inTrace(lookup.traceId);
    const server = serverSpan(spans, lookup.parent);
    expect(server.attributes).to.include({ "http.route": "/v1/coupons/:code", "coupons.key_id": "reader" });
    expect(server.attributes["url.path"]).to.equal(`/v1/coupons/${code.toLowerCase().slice(0, 4)}…`);
    const text = JSON.stringify(spans).toLowerCase();
    expect(text).to.not.contain(code.toLowerCase());
    expect(text).to.not.contain("api_key").and.not.contain(KEYS.reader);
  });

  it("When a generation request is created with a traceparent, then it stores the API's span and the worker's run and batches continue that trace with their counts", () => {
    expect(created).to.not.have.property("traceparent");
    const spans = inTrace(creation.traceId);
    const server = serverSpan(spans, creation.parent);
    expect(server.attributes).to.include({ "http.route": "/v1/generation-requests", "coupons.key_id": "admin" });
    // the stored traceparent names a span of the API in this trace, under its server span
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(stored ?? "");
    expect(m?.[1], `stored: ${stored}`).to.equal(creation.traceId);
    const apiSpan = spans.find((s) => s.spanId === m?.[2]);
    expect(apiSpan?.service).to.equal("coupons-redeem-api");
    expect([apiSpan?.spanId, ...ancestors(spans, apiSpan as ReceivedSpan)]).to.include(server.spanId);

    const runs = spans.filter((s) => s.name === "generation.run");
    expect(runs).to.have.length(1);
    const run = runs[0] as ReceivedSpan;
    expect(run).to.include({ service: "coupons-generator", parentSpanId: m?.[2] });
    expect(run.attributes).to.include({
      "coupons.request_id": requestId,
      "coupons.outcome": "generated",
      "coupons.codes.inserted": 12_000,
    });
    const batches = spans.filter((s) => s.name === "generation.batch");
    expect(batches.map((b) => b.parentSpanId)).to.deep.equal(batches.map(() => run.spanId));
    expect(batches.map((b) => b.attributes["coupons.batch.size"]).sort()).to.deep.equal([2000, 5000, 5000]);
    expect(batches.reduce((n, b) => n + Number(b.attributes["coupons.codes.inserted"]), 0)).to.equal(12_000);
    for (const b of batches) expect(b.attributes["coupons.codes.existing"]).to.equal(0);
    // each batch's inserts are pg spans under it
    const workerPg = spans.filter(
      (s) => s.service === "coupons-generator" && String(s.attributes["db.system"] ?? s.attributes["db.system.name"]) === "postgresql",
    );
    for (const b of batches)
      expect(
        workerPg.some((p) => p.parentSpanId === b.spanId),
        `pg under batch ${b.spanId}`,
      ).to.equal(true);
  });

  it("When the API stops, then its redemption counter has reached the receiver as coupons.redemptions by outcome", () => {
    const points = receiver.points.filter((p) => p.service === "coupons-redeem-api" && p.metric === "coupons.redemptions");
    expect(points.find((p) => p.attributes.outcome === "redeemed")?.value).to.equal(1);
  });
});
