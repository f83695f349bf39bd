// The container's CMD, proven without Docker: build with `tsc -b`, run apps/redeem-api/dist/main.js
// with plain node (no --conditions=source), read its document, get /healthz, stop it with SIGTERM.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { ApiClient, startApiProcess, testEnv } from "./helpers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const entry = join(root, "apps/redeem-api/dist/main.js");

describe("the compiled server (the image's CMD)", function () {
  this.timeout(180_000);

  before(async () => {
    const tsc = join(root, "node_modules/.bin/tsc");
    await promisify(execFile)(tsc, ["-b", "apps/redeem-api"], {
      cwd: root,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    });
    expect(existsSync(entry), `${entry} after tsc -b`).to.equal(true);
  });

  it("When dist/main.js runs under plain node, then /healthz answers and SIGTERM stops it with exit code 0", async () => {
    const { child, port, output, errors } = await startApiProcess(
      [entry],
      testEnv({ COUPONS_LOG_LEVEL: "info", COUPONS_DATABASE_URL: "embedded:memory" }),
    );
    try {
      // the compiled server generates and serves its document; every answer is checked against it
      const api = await ApiClient.connect(`http://127.0.0.1:${port}`);
      const health = await api.get("/healthz", null);
      expect(health.status).to.equal(200);
      expect(health.body).to.deep.equal({ status: "ok" });
      const ready = await api.get("/readyz", null);
      expect(ready.status).to.equal(200);
      // every line on stdout is a JSON log record
      for (const line of output().trim().split("\n")) expect(() => JSON.parse(line), line).to.not.throw();
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code, errors()).to.equal(0);
      expect(output()).to.contain('"msg":"redeem API stopped"');
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("When the configuration is bad, then the process exits 1 naming the variable", async () => {
    const child = spawn(process.execPath, [entry], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...testEnv({ COUPONS_API_PORT: "eighty" }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const [code] = await once(child, "exit");
    expect(code).to.equal(1);
    expect(err).to.contain("COUPONS_API_PORT");
  });
});
