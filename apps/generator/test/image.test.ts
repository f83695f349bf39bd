// No Docker engine runs here, so this runs what the image runs: the compiled entry point
// (`npx tsc -b` output) with plain node (no --conditions=source, so @coupons/db resolves to its
// dist/), the request id from COUPONS_REQUEST_ID, against a real database.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { POSTGRES_URL, createPostgresDatabase } from "../../../packages/db/test/support.ts";
import { ROOT, codesOf, createCampaign, finished, tempDir, withStore } from "./helpers.ts";

describe("the generator image's command (compiled entry point, plain node)", function () {
  this.timeout(120_000);
  const dockerfile = readFileSync(join(ROOT, "Dockerfile.generator"), "utf8");

  it("When the Dockerfile is read, then it is multi-stage on node:24-slim, production-only, non-root, and runs `run`", () => {
    expect(dockerfile.match(/^FROM node:24-slim AS \w+$/gm)).to.have.length(2);
    expect(dockerfile).to.match(/npm ci --omit=dev .*--workspace @coupons\/generator --workspace @coupons\/db/);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^ENTRYPOINT \["node", "apps\/generator\/dist\/main.js", "run"\]$/m);
  });

  it("When the compiled CLI runs a request given in COUPONS_REQUEST_ID, then it is Generated with exactly N codes and logs JSON lines", async () => {
    const tsc = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-b", "apps/generator"], { cwd: ROOT, encoding: "utf8" });
    expect(tsc.status, `tsc -b apps/generator failed:\n${tsc.stdout}${tsc.stderr}`).to.equal(0);

    const dir = tempDir();
    const db = POSTGRES_URL ? await createPostgresDatabase() : null;
    const url = db ? db.url : `embedded:${join(dir.path, "db")}`;
    try {
      const requestId = await withStore(url, async (store) => {
        await createCampaign(store);
        return (await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 12_345 })).requestId;
      });
      // exactly the image's ENTRYPOINT, from its WORKDIR (the repository root here, /app there)
      const child = spawn(process.execPath, ["apps/generator/dist/main.js", "run"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: "production",
          COUPONS_REQUEST_ID: requestId,
          COUPONS_DATABASE_URL: url,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const r = await finished(child);
      expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).to.equal(0);
      const events = r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).event);
      expect(events[0]).to.equal("generation.start");
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
