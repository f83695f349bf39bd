// scripts/bench-console.ts on a small campaign it makes itself (embedded engine, its own API in
// the script's process, Debian's Chromium): it exits 0 and prints, per run, the time to the page's
// data-ready mark with the API calls the page made, then the median against the 1-second target.
// scripts/bench-campaign-page.ts --browser at small sizes on PostgreSQL: one command prints the
// seeding time, each API read, and the page's time to data-ready in Chromium, with a verdict each that
// agrees with its exit code, and drops the database it seeded.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "chai";
import pg from "pg";
import { describePostgres, POSTGRES_URL } from "../../packages/db/test/support.ts";

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

describePostgres("scripts/bench-campaign-page.ts --browser", function () {
  this.timeout(180_000);
  let child: ChildProcess | undefined;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`Chromium is not installed at ${CHROMIUM}`);
      this.skip();
    }
  });
  after(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("When run at small sizes with --browser, then it prints the seeding time, each read, the page's time to data-ready with verdicts matching its exit code, and drops its database", async () => {
    const argv = [
      "--coupons",
      "2000",
      "--redeemed",
      "500",
      "--history",
      "3000",
      "--days",
      "2",
      "--repeat",
      "1",
      "--browser",
      "--runs",
      "2",
    ];
    child = spawn(process.execPath, ["--conditions=source", "scripts/bench-campaign-page.ts", ...argv], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", CHROMIUM_PATH: CHROMIUM, TEST_POSTGRES_URL: POSTGRES_URL },
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
    const verdicts = out.split("\n").filter((l) => /^(PASS|FAIL) {2}/.test(l));
    expect(verdicts, `stdout: ${out}\nstderr: ${err}`).to.have.length(2);
    expect(code, `stdout: ${out}\nstderr: ${err}`).to.equal(verdicts.some((l) => l.startsWith("FAIL")) ? 1 : 0);
    expect(out).to.match(/^ {6}seeding: \d+\.\d s$/m);
    for (const read of [
      "GET campaign",
      "GET stats \\(counts\\)",
      "GET stats\\?interval=hour",
      "GET stats\\?interval=day",
      "GET generation requests",
    ])
      expect(out).to.match(new RegExp(`^${read} +\\d+\\.\\d +\\d+\\.\\d `, "m"));
    expect(out).to.match(/^run 1 \(cold cache\): data-ready after \d+ ms; API calls: .*stats \d+ ms/m);
    expect(verdicts[0]).to.match(/the page's API reads in sequence \(medians\): \d+ ms/);
    expect(verdicts[1]).to.match(/the page in Chromium, navigation to data-ready: median \d+ ms over 2 load\(s\), first load \d+ ms/);
    const name = /seeding 2000 coupons .* in (coupons_t_[0-9a-f]+)/.exec(out)?.[1];
    expect(name, out).to.be.a("string");
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    try {
      const { rows } = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      expect(rows, `database ${name} is left behind`).to.have.length(0);
    } finally {
      await c.end();
    }
  });
});
