// scripts/bench-console.ts on a small campaign it makes itself (embedded engine, its own API in
// the script's process, Debian's Chromium): it exits 0 and prints, per run, the time to the page's
// data-ready mark with the API calls the page made, then the median against the 1-second target.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(import.meta.dirname, "../..");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

describe("scripts/bench-console.ts", function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`Chromium is not installed at ${CHROMIUM}`);
      this.skip();
    }
    // the test command builds the console; a run of this file alone builds it when it is missing
    if (!existsSync(join(ROOT, "apps/console/dist/index.html"))) {
      execFileSync(process.execPath, [join(ROOT, "apps/console/build.ts")], { stdio: "ignore" });
    }
  });
  after(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("When run with --database embedded:memory --runs 2, then it prints each run's time to data-ready and the median", async () => {
    child = spawn(process.execPath, ["--conditions=source", "scripts/bench-console.ts", "--database", "embedded:memory", "--runs", "2"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", CHROMIUM_PATH: CHROMIUM },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((done) => child?.once("exit", done));
    expect(code, `stdout: ${out}\nstderr: ${err}`).to.equal(0);
    const runs = out.split("\n").filter((l) => /^run \d/.test(l));
    expect(runs).to.have.length(2);
    for (const line of runs) expect(line).to.match(/data-ready after \d+ ms; API calls: .*stats \d+ ms.*generation-requests \d+ ms/);
    expect(out).to.match(/median time to data-ready: \d+ ms over 2 run\(s\); \d+\.\d\d of the 1000 ms target/);
  });
});
