// The real CLI as a child process: help, usage errors that write nothing, feasibility refusal,
// export round trip, demo, and on PostgreSQL: SIGKILL and SIGTERM mid-run, at a moment read from the
// worker's own progress line. Workers racing for one request: test/faults/generator-crashes.test.ts.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Command } from "commander";
import { buildProgram } from "../src/cli.ts";
import { EXIT } from "../src/index.ts";
import { createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import {
  type CliResult,
  cli,
  codesOf,
  createCampaign,
  finished,
  nextEvent,
  startCli,
  withStore,
  embeddedFolder,
  explain,
} from "./helpers.ts";

/** Every command the program has, groups included, read from the program itself (none is missed). */
function commandPaths(): string[][] {
  const out: string[][] = [[]];
  const visit = (cmd: Command, path: string[]) => {
    for (const c of cmd.commands) {
      out.push([...path, c.name()]);
      visit(c, [...path, c.name()]);
    }
  };
  visit(
    buildProgram(() => {}),
    [],
  );
  return out;
}
const COMMANDS = commandPaths();

describe("coupons CLI (embedded)", function () {
  this.timeout(60_000);
  const f = embeddedFolder();
  const env = () => f.env();

  it("When --help is asked of any command, then it prints usage and exits 0, with the exit codes that command can end with", async () => {
    const results = await Promise.all(COMMANDS.map((c) => cli([...c, "--help"], { env: env() })));
    expect(COMMANDS.map((c) => c.join(" "))).to.include.members(["run", "worker", "request cancel", "campaign pause", "expire"]);
    const groups = new Set(
      COMMANDS.filter((c) => COMMANDS.some((d) => d.length > c.length && c.every((x, i) => d[i] === x))).map((c) => c.join(" ")),
    );
    groups.delete("");
    // busy applies where a generation request may be held by another worker, or the embedded folder by another process
    const runs = new Set(["", "run", "generate", "demo", "worker"]);
    results.forEach((r, i) => {
      const name = COMMANDS[i]?.join(" ") ?? "";
      expect(r.code, `${name}: ${explain(r)}`).to.equal(0);
      expect(r.stdout).to.contain("Usage: coupons");
      if (groups.has(name)) expect(r.stdout, name).to.not.contain("Exit codes:");
      else expect(r.stdout, name).to.contain("Exit codes:").and.contain("2  usage");
      // busy and interrupted apply to a generation run only
      expect(r.stdout.includes("4  busy"), name).to.equal(runs.has(name));
    });
  });

  const bad: [string, string[], string][] = [
    ["a negative amount", ["generate", "--campaign", "c1", "--amount", "-5"], "--amount"],
    ["a non-numeric amount", ["generate", "--campaign", "c1", "--amount", "ten"], "--amount"],
    ["a prefix with forbidden characters", ["generate", "--campaign", "c1", "--amount", "5", "--prefix", "A B!"], "--prefix"],
    [
      "a length that does not fit 50 characters",
      ["generate", "--campaign", "c1", "--amount", "5", "--prefix", "ABCDE", "--length", "46"],
      "--length",
    ],
    ["an unknown option", ["generate", "--campaign", "c1", "--amount", "5", "--amout", "5"], "--amout"],
    ["a missing request id", ["run"], "--request-id"],
    ["a malformed date", ["generate", "--campaign", "c1", "--amount", "5", "--expires", "soon"], "--expires"],
    ["a zero batch size", ["run", "--request-id", "r1", "--batch-size", "0"], "--batch-size"],
    ["both export sources", ["export", "--campaign", "c1", "--request", "r1"], "--campaign"],
  ];
  for (const [what, args, name] of bad) {
    it(`When given ${what}, then it exits ${EXIT.USAGE} naming ${name} and writes nothing`, async () => {
      const r = await cli(args, { env: env() });
      expect(r.code, explain(r)).to.equal(EXIT.USAGE);
      expect(r.stderr).to.contain(name);
      expect(existsSync(join(f.path, "db")), "the database folder was created").to.equal(false);
    });
  }

  it("When an unknown database scheme is configured, then it exits 2 naming the problem", async () => {
    const r = await cli(["request", "list"], { env: { COUPONS_DATABASE_URL: "mysql://x" } });
    expect(r.code, explain(r)).to.equal(EXIT.USAGE);
    expect(r.stderr).to.contain("unknown database scheme");
  });

  it("When the amount is infeasible for the length, then generate exits 3 with the numbers and creates no request", async () => {
    const c = await cli(["campaign", "create", "--id", "c1", "--name", "C1", "--end", "2099-01-01", "--discount-percent", "10"], {
      env: env(),
    });
    expect(c.code, explain(c)).to.equal(0);
    const r = await cli(["generate", "--campaign", "c1", "--amount", "20000", "--prefix", "x", "--length", "4"], { env: env() });
    expect(r.code, explain(r)).to.equal(EXIT.REFUSED);
    expect(r.stderr).to.contain("923,521").and.contain("Use a length of 5 or more");
    await withStore(f.url, async (store) => {
      expect(await store.listGenerationRequests({ campaignId: "c1" })).to.have.length(0);
      expect(await store.countCouponsWithPrefix("X")).to.equal(0);
    });
  });

  it("When codes are generated and exported, then the CSV holds exactly the request's codes (file and stdout)", async () => {
    await withStore(f.url, (store) => createCampaign(store));
    const g = await cli(
      ["generate", "--campaign", "c1", "--amount", "2501", "--prefix", "exp-", "--batch-size", "1000", "--request-id", "r-exp"],
      {
        env: env(),
      },
    );
    expect(g.code, explain(g)).to.equal(0);
    const end = g.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((j) => j.event === "generation.end");
    expect(end).to.include({ status: "Generated", generated: 2501 });
    const file = join(f.path, "codes.csv");
    const toFile = await cli(["export", "--request", "r-exp", "--out", file], { env: env() });
    expect(toFile.code, explain(toFile)).to.equal(0);
    const toStdout = await cli(["export", "--campaign", "c1"], { env: env() });
    expect(toStdout.code, explain(toStdout)).to.equal(0);
    const parse = (csv: string) => {
      const [header, ...lines] = csv.trim().split("\n");
      expect(header).to.equal("code,campaign_id,expires_at,request_id,created_at");
      return lines.map((l) => l.split(","));
    };
    const fromFile = parse(readFileSync(file, "utf8"));
    const fromStdout = parse(toStdout.stdout);
    expect(fromFile).to.have.length(2501);
    expect(fromStdout.map((r) => r[0])).to.deep.equal(fromFile.map((r) => r[0]));
    const stored = await withStore(f.url, (store) => codesOf(store, "r-exp"));
    expect(new Set(fromFile.map((r) => r[0]))).to.deep.equal(stored);
    for (const row of fromFile) expect(row.slice(1, 4)).to.deep.equal(["c1", "", "r-exp"]);
  });

  it("When export names a request that does not exist, then it exits 3 and writes no file", async () => {
    await withStore(f.url, (store) => createCampaign(store));
    const file = join(f.path, "none.csv");
    const r = await cli(["export", "--request", "nope", "--out", file], { env: env() });
    expect(r.code, explain(r)).to.equal(EXIT.REFUSED);
    expect(existsSync(file)).to.equal(false);
  });

  it("When demo runs on the default configuration, then it generates codes in ./.coupons/db and says how to export them", async () => {
    const r = await cli(["demo", "--amount", "5000"], { cwd: f.path, env: { COUPONS_DATABASE_URL: undefined } });
    expect(r.code, explain(r)).to.equal(0);
    expect(r.stderr).to.contain(`embedded database at ${join(f.path, ".coupons/db")}`);
    expect(r.stderr).to.contain("export --campaign demo");
    const again = await cli(["demo", "--amount", "1000"], { cwd: f.path, env: { COUPONS_DATABASE_URL: undefined } });
    expect(again.code, explain(again)).to.equal(0);
    const requests = await withStore(`embedded:${join(f.path, ".coupons/db")}`, (s) => s.listGenerationRequests({ campaignId: "demo" }));
    expect(requests.map((q) => q.generatedAmount).sort()).to.deep.equal([1000, 5000]);
  });

  it("When request create/show/list run, then they show the request and its progress", async () => {
    await withStore(f.url, (store) => createCampaign(store));
    const c = await cli(["request", "create", "--campaign", "c1", "--amount", "300", "--request-id", "r-show"], { env: env() });
    expect(c.code, explain(c)).to.equal(0);
    expect(c.stdout).to.contain("coupons run --request-id r-show");
    const run = await cli(["run"], { env: { ...env(), COUPONS_REQUEST_ID: "r-show" } });
    expect(run.code, explain(run)).to.equal(0);
    const show = await cli(["request", "show", "r-show"], { env: env() });
    expect(show.stdout).to.contain("Generated").and.contain("300 of 300 (100.0%)");
    const list = await cli(["--json", "request", "list", "--campaign", "c1"], { env: env() });
    expect(JSON.parse(list.stdout)[0]).to.include({ requestId: "r-show", status: "Generated", generatedAmount: 300 });
    const missing = await cli(["request", "show", "nope"], { env: env() });
    expect(missing.code).to.equal(EXIT.REFUSED);
  });
});

describePostgres("coupons CLI on PostgreSQL: crashes and signals", function () {
  this.timeout(90_000);
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  beforeEach(async () => {
    db = await createPostgresDatabase();
    await withStore(db.url, (store) => createCampaign(store));
  });
  afterEach(async () => db.drop());

  const newRequest = (amount: number) =>
    withStore(db.url, async (store) => (await store.createGenerationRequest({ campaignId: "c1", requestedAmount: amount })).requestId);
  const state = (id: string) => withStore(db.url, async (store) => (await store.getGenerationRequest(id))!);
  const run = (id: string) =>
    startCli(["--json", "run", "--request-id", id, "--batch-size", "2000"], { env: { COUPONS_DATABASE_URL: db.url } });

  /** Signals the worker once it says its first batch is committed (of 125: it cannot be done by then). */
  async function interruptMidRun(id: string, signal: NodeJS.Signals): Promise<CliResult> {
    const child = run(id);
    const done = finished(child);
    const progress = await nextEvent(child, "generation.progress");
    expect(progress, "the worker logged its first batch").to.not.equal(null);
    child.kill(signal);
    return done;
  }

  it("When a worker is SIGKILLed mid-run and the request is run again, then it ends Generated with exactly N distinct codes", async () => {
    const N = 250_000;
    const id = await newRequest(N);
    const killed = await interruptMidRun(id, "SIGKILL");
    expect(killed.signal).to.equal("SIGKILL");
    const mid = await state(id);
    expect(mid.status).to.equal("Generating");
    expect(mid.generatedAmount).to.be.above(0).and.below(N);
    const again = await finished(run(id)); // the dead worker's hold went with its connection
    expect(again.code, explain(again)).to.equal(0);
    expect((await state(id)).status).to.equal("Generated");
    expect((await withStore(db.url, (s) => codesOf(s, id))).size).to.equal(N);
  });

  it("When a worker gets SIGTERM mid-run, then it exits 5 leaving the request resumable, and a re-run ends with exactly N", async () => {
    const N = 250_000;
    const id = await newRequest(N);
    const stopped = await interruptMidRun(id, "SIGTERM");
    expect(stopped.code, explain(stopped)).to.equal(EXIT.INTERRUPTED);
    expect(stopped.stdout).to.contain("generation.stopping");
    const mid = await state(id);
    expect(mid.status).to.equal("Requested");
    expect(mid.generatedAmount).to.be.above(0).and.below(N);
    expect((await withStore(db.url, (s) => codesOf(s, id))).size).to.equal(mid.generatedAmount);
    const again = await finished(run(id));
    expect(again.code, explain(again)).to.equal(0);
    expect((await state(id)).status).to.equal("Generated");
    expect((await withStore(db.url, (s) => codesOf(s, id))).size).to.equal(N);
  });
});
