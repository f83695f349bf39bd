// The container's CMD, proven without Docker: the production stage of Dockerfile.api carried out in a
// temporary folder (its COPY lines, its `npm ci --omit=dev ...` production install of the workspace,
// the dist/ of the build stage's `npx tsc -b`), then its CMD (that folder's dist/main.js) with plain
// node (no --conditions=source) and the stage's ENV: /healthz answers, SIGTERM stops it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { track } from "../../generator/test/helpers.ts";
import { type ProductionStage, productionStage } from "../../../test/helpers/image.ts";
import { startOtlpReceiver } from "../../../test/helpers/otlp-receiver.ts";
import { selfSignedCert } from "../../../scripts/test/loopback-https.ts";
import { ApiClient, startApiProcess, testEnv } from "./helpers.ts";

describe("the compiled server (the image's CMD, from a production install)", function () {
  this.timeout(240_000);
  let stage: ProductionStage | undefined;
  let entry = "";

  before(async () => {
    stage = await productionStage("Dockerfile.api");
    const [command, script] = stage.command;
    expect(command).to.equal("node");
    entry = join(stage.dir, script as string);
    expect(existsSync(entry), `${entry}\n${stage.steps.join("\n")}`).to.equal(true);
  });
  after(() => stage?.remove());

  it("When the stage is laid out, then it holds express and dist/ but no dev dependency and no TypeScript source", () => {
    const has = (p: string) => existsSync(join((stage as ProductionStage).dir, p));
    expect(has("node_modules/express")).to.equal(true);
    expect(has("node_modules/@coupons/db/dist/index.js")).to.equal(true);
    expect(has("node_modules/@coupons/console/dist/index.html"), "the built console").to.equal(true);
    for (const dev of ["mocha", "typescript", "@biomejs/biome", "chai"]) expect(has(`node_modules/${dev}`), dev).to.equal(false);
    expect(has("apps/redeem-api/src"), "TypeScript sources in the image").to.equal(false);
    // the stage's prune: no source map or type declaration is left in its dependencies
    expect(has("node_modules/express/index.js")).to.equal(true);
    expect(has("node_modules/zod/package.json")).to.equal(true);
    expect(has("node_modules/zod/index.d.cts") || has("node_modules/zod/v4/index.d.ts"), "type declarations in the image").to.equal(false);
    expect(has("node_modules/@opentelemetry/api/build/src/index.js.map"), "source maps in the image").to.equal(false);
    // the generator's own dependencies are not in the API's image
    for (const g of ["@azure/arm-containerinstance", "@azure/storage-blob", "commander", "cli-progress"])
      expect(has(`node_modules/${g}`), g).to.equal(false);
  });

  it("When dist/main.js runs under plain node, then /healthz answers and SIGTERM stops it with exit code 0", async () => {
    // the stage's ENV first (NODE_ENV=production, ...); the test's own port and loopback host over it
    const env = { ...(stage as ProductionStage).env, ...testEnv({ COUPONS_LOG_LEVEL: "info", COUPONS_DATABASE_URL: "embedded:memory" }) };
    const { child, port, output, errors } = await startApiProcess([entry], env);
    track(child);
    // the installed server generates and serves its document (and /docs' package); answers are checked against it
    const api = await ApiClient.connect(`http://127.0.0.1:${port}`);
    const health = await api.get("/healthz", null);
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.equal({ status: "ok" });
    expect((await api.get("/readyz", null)).status).to.equal(200);
    expect((await api.get("/docs", null)).status).to.equal(200);
    // the console the build stage bundled is served from the image (not the 503 "run npm run build")
    const consolePage = await fetch(`http://127.0.0.1:${port}/console`);
    expect(consolePage.status).to.equal(200);
    const html = await consolePage.text();
    const asset = /\/console\/assets\/[^"]+\.js/.exec(html)?.[0];
    expect(asset, html).to.be.a("string");
    expect((await fetch(`http://127.0.0.1:${port}${asset}`)).status).to.equal(200);
    // every line on stdout is a JSON log record
    for (const line of output().trim().split("\n")) expect(() => JSON.parse(line), line).to.not.throw();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code, errors()).to.equal(0);
    expect(output()).to.contain('"msg":"redeem API stopped"');
  });

  it("When dist/main.js runs with an OTLP endpoint, then the installed OpenTelemetry SDK exports its server spans, flushed on SIGTERM", async () => {
    const receiver = await startOtlpReceiver();
    try {
      const env = {
        ...(stage as ProductionStage).env,
        ...testEnv({ COUPONS_LOG_LEVEL: "info", COUPONS_DATABASE_URL: "embedded:memory", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }),
      };
      const { child, port, errors } = await startApiProcess([entry], env);
      track(child);
      expect((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status).to.equal(200);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect((await exited)[0], errors()).to.equal(0);
      const server = receiver.spans.filter((s) => s.kind === 2 && s.attributes["http.route"] === "/openapi.json");
      expect(server.map((s) => s.service)).to.deep.equal(["coupons-redeem-api"]);
    } finally {
      await receiver.close();
    }
  });

  it("When dist/main.js runs with an Application Insights connection string, then the Azure Monitor distro sends its request telemetry to the ingestion endpoint", async () => {
    // a loopback stand-in for the ingestion endpoint (HTTPS: the exporter upgrades http), trusted by the
    // child through NODE_EXTRA_CA_CERTS; it records what the exporter tracks
    const tls = selfSignedCert();
    const caFile = join(stage?.dir as string, "test-ca.pem");
    writeFileSync(caFile, tls.cert);
    const tracked: string[] = [];
    const ingestion = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.url?.startsWith("/v2.1/track"))
          tracked.push((req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8"));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    ingestion.listen(0, "127.0.0.1");
    await once(ingestion, "listening");
    const at = `https://127.0.0.1:${(ingestion.address() as AddressInfo).port}/`;
    try {
      const env = {
        ...(stage as ProductionStage).env,
        ...testEnv({
          COUPONS_LOG_LEVEL: "info",
          COUPONS_DATABASE_URL: "embedded:memory",
          APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=${at};LiveEndpoint=${at}`,
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
          NODE_EXTRA_CA_CERTS: caFile,
        }),
      };
      const { child, port, errors } = await startApiProcess([entry], env);
      track(child);
      expect((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status).to.equal(200);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect((await exited)[0], errors()).to.equal(0);
      const requests = tracked
        .flatMap((b) => b.split("\n"))
        .filter(Boolean)
        .flatMap((l) => JSON.parse(l) as unknown[] | Record<string, unknown>)
        .filter((e) => (e as { data?: { baseType?: string } }).data?.baseType === "RequestData");
      expect(JSON.stringify(requests)).to.contain("/openapi.json");
    } finally {
      ingestion.closeAllConnections();
      ingestion.close();
    }
  });

  it("When the configuration is bad, then the process exits 1 naming the variable", async () => {
    const child = track(
      spawn(process.execPath, [entry], {
        cwd: (stage as ProductionStage).dir,
        env: { PATH: process.env.PATH ?? "", ...(stage as ProductionStage).env, ...testEnv({ COUPONS_API_PORT: "eighty" }) },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const [code] = await once(child, "exit");
    expect(code).to.equal(1);
    expect(err).to.contain("COUPONS_API_PORT");
  });
});
