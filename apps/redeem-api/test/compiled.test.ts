// The container's CMD, proven without Docker: the production stage of Dockerfile.api carried out in a
// temporary folder (its COPY lines, its `npm ci --omit=dev ...` production install of the workspace,
// the dist/ of the build stage's `npx tsc -b`), then its CMD (that folder's dist/main.js) with plain
// node (no --conditions=source) and the stage's ENV: /healthz answers, SIGTERM stops it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { track } from "../../generator/test/helpers.ts";
import { type ProductionStage, productionStage } from "../../../test/helpers/image.ts";
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
    for (const dev of ["mocha", "typescript", "@biomejs/biome", "chai"]) expect(has(`node_modules/${dev}`), dev).to.equal(false);
    expect(has("apps/redeem-api/src"), "TypeScript sources in the image").to.equal(false);
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
    // every line on stdout is a JSON log record
    for (const line of output().trim().split("\n")) expect(() => JSON.parse(line), line).to.not.throw();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code, errors()).to.equal(0);
    expect(output()).to.contain('"msg":"redeem API stopped"');
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
