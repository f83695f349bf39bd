// No Docker engine runs here, so this lays out what the image holds and runs what it runs: the
// production stage of Dockerfile.generator carried out in a temporary folder (its COPY lines, its
// `npm ci --omit=dev ...` production install of the workspace, the compiled dist/ of the build
// stage's `npx tsc -b`), then its ENTRYPOINT from there with plain node (no --conditions=source, so
// @coupons/db resolves to its dist/), the request id from COUPONS_REQUEST_ID, against a real database.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { POSTGRES_URL, createPostgresDatabase } from "../../../packages/db/test/support.ts";
import { type ProductionStage, productionStage } from "../../../test/helpers/image.ts";
import { ROOT, codesOf, createCampaign, finished, tempDir, track, withStore } from "./helpers.ts";

describe("the generator image's command (production install, compiled entry point, plain node)", function () {
  this.timeout(240_000);
  const dockerfile = readFileSync(join(ROOT, "Dockerfile.generator"), "utf8");

  it("When the Dockerfile is read, then it is multi-stage on node:24-slim, production-only, non-root, and runs `run`", () => {
    expect(dockerfile.match(/^FROM node:24-slim AS \w+$/gm)).to.have.length(2);
    expect(dockerfile).to.match(/npm ci --omit=dev .*--workspace @coupons\/generator --workspace @coupons\/db/);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^ENTRYPOINT \["node", "apps\/generator\/dist\/main.js", "run"\]$/m);
  });

  describe("the production stage, laid out without Docker", () => {
    let stage: ProductionStage | undefined;
    before(async () => {
      stage = await productionStage("Dockerfile.generator");
    });
    after(() => stage?.remove());

    it("When the stage is laid out, then it holds the runtime dependencies and dist/ but no dev dependency and no TypeScript source", () => {
      const s = stage as ProductionStage;
      const has = (p: string) => existsSync(join(s.dir, p));
      expect(has("node_modules/pino"), s.steps.join("\n")).to.equal(true);
      expect(has("node_modules/@coupons/db/dist/index.js"), s.steps.join("\n")).to.equal(true);
      expect(has("apps/generator/dist/main.js")).to.equal(true);
      expect(has("database/postgres")).to.equal(true);
      for (const dev of ["mocha", "typescript", "@biomejs/biome", "chai"]) expect(has(`node_modules/${dev}`), dev).to.equal(false);
      expect(has("apps/generator/src"), "TypeScript sources in the image").to.equal(false);
      // the stage's prune (no source maps), and none of the API's own dependencies
      expect(has("node_modules/@opentelemetry/api/build/src/index.js.map"), "source maps in the image").to.equal(false);
      for (const a of ["express", "helmet", "ioredis", "swagger-ui-dist", "rate-limiter-flexible"])
        expect(has(`node_modules/${a}`), a).to.equal(false);
    });

    it("When its ENTRYPOINT runs a request given in COUPONS_REQUEST_ID, then it is Generated with exactly N codes and logs JSON lines", async () => {
      const s = stage as ProductionStage;
      const dir = tempDir();
      const db = POSTGRES_URL ? await createPostgresDatabase() : null;
      const url = db ? db.url : `embedded:${join(dir.path, "db")}`;
      try {
        const requestId = await withStore(url, async (store) => {
          await createCampaign(store);
          return (await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 12_345 })).requestId;
        });
        const [command, ...args] = s.command;
        expect(command).to.equal("node");
        // exactly the image's ENTRYPOINT, from its WORKDIR, with the stage's ENV
        const child = track(
          spawn(process.execPath, args, {
            cwd: s.dir,
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s.env, COUPONS_REQUEST_ID: requestId, COUPONS_DATABASE_URL: url },
            stdio: ["ignore", "pipe", "pipe"],
          }),
        );
        const r = await finished(child);
        expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).to.equal(0);
        const events = r.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l).event);
        expect(events.slice(0, 2)).to.deep.equal(["run.opening", "generation.start"]);
        expect(events.at(-1)).to.equal("generation.end");
        await withStore(url, async (store) => {
          expect((await store.getGenerationRequest(requestId))?.status).to.equal("Generated");
          expect((await codesOf(store, requestId)).size).to.equal(12_345);
        });
      } finally {
        await db?.drop();
        dir.remove();
      }
    });
  });
});
