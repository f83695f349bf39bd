// The operations commands (ops-commands.ts) on a commander program of their own against a real
// store, and ops-main.ts as a process (the ACI entry point), reading its settings from the
// environment.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { Command, CommanderError } from "commander";
import { type OpsDeps, registerOpsCommands } from "../src/commands/ops.ts";

const HOUR = 3_600_000;
const OPS_MAIN = resolve(import.meta.dirname, "../src/ops-main.ts");

describe("operations commands (archive, fraud-report, status, purge-idempotency-keys)", function () {
  this.timeout(60_000);
  let store: CouponStore;
  let dir: string;
  before(async () => {
    store = await openStore("embedded:memory");
    dir = mkdtempSync(join(tmpdir(), "coupons-ops-"));
    await store.createCampaign({
      campaignId: "ops",
      name: "ops",
      startDate: new Date(Date.now() - 24 * HOUR),
      endDate: new Date(Date.now() + 24 * HOUR),
      discountPercentage: 5,
    });
    for (const code of ["BAD1", "BAD2", "BAD3"]) await store.redeemCoupon({ code, userId: "eve", ipAddress: "203.0.113.9" });
    await store.redeemCoupon({ code: "BAD4", userId: "sam", ipAddress: "203.0.113.10" });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one command line on a fresh program; returns its output lines. */
  async function run(args: string[], extra: Partial<OpsDeps> = {}): Promise<string[]> {
    const lines: string[] = [];
    const program = new Command("coupons").option("--json").exitOverride();
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerOpsCommands(program, { withStore: (fn) => fn(store), out: (l) => lines.push(l), ...extra });
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    await program.parseAsync(["node", "coupons", ...args]);
    return lines;
  }

  it("When fraud-report --by ip is run, then it prints the offenders, most refusals first", async () => {
    const lines = await run(["fraud-report", "--by", "ip"]);
    expect(lines[0]).to.match(/^Refused and throttled attempts by ip, .*: 2 offender\(s\)$/);
    expect(lines[1]).to.match(/^subject\s+attempts\s+refusals\s+throttled\s+codes/);
    expect(lines[2]).to.match(/^203\.0\.113\.9\s+3\s+3\s+0\s+3\s.*COUPON_NOT_FOUND 3$/);
    expect(lines[3]).to.match(/^203\.0\.113\.10\s+1\s+1/);
  });

  it("When fraud-report is asked for JSON with --top 1, then it prints one row with its reasons", async () => {
    const rows = JSON.parse((await run(["--json", "fraud-report", "--by", "user", "--top", "1"])).join("\n"));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ subject: "eve", attempts: 3, refusals: 3, distinctCodes: 3 });
    expect(rows[0].reasons).to.deep.equal([{ reason: "COUPON_NOT_FOUND", count: 3 }]);
  });

  it("When the API's throttle stopped attempts of an address, then fraud-report shows them in its throttled column", async () => {
    await store.recordThrottledAttempts([{ minute: new Date(), subjectKind: "ip", subject: "203.0.113.77", attempts: 2 }]);
    const lines = await run(["fraud-report", "--by", "ip"]);
    expect(lines.find((l) => l.startsWith("203.0.113.77"))).to.match(/^203\.0\.113\.77\s+0\s+0\s+2\s+0\s/);
    const rows = JSON.parse((await run(["--json", "fraud-report", "--by", "ip"])).join("\n"));
    expect(rows.find((r: { subject: string }) => r.subject === "203.0.113.77")).to.include({ refusals: 0, throttled: 2 });
  });

  it("When purge-idempotency-keys is run, then keys older than the retention go and younger ones stay", async () => {
    const own = await openStore("embedded:memory");
    try {
      await own.createCampaign({
        campaignId: "purge",
        name: "purge",
        startDate: new Date(Date.now() - HOUR),
        endDate: new Date(Date.now() + HOUR),
        discountPercentage: 5,
      });
      await own.createGenerationRequest({ requestId: "ops-purge", campaignId: "purge", requestedAmount: 1, prefix: "", codeLength: 8 });
      const claim = await own.claimGenerationRequest("ops-purge", "test");
      await own.bulkInsertCoupons("ops-purge", ["PURGE001"]);
      await claim.release();
      const redeem = () => own.redeemCoupon({ code: "PURGE001", userId: "kim", idempotencyKey: "ops-purge-key" });
      expect(await redeem()).to.include({ ok: true });
      const deps = { withStore: <T>(fn: (s: CouponStore) => Promise<T>) => fn(own) };
      const [line] = await run(["purge-idempotency-keys"], deps);
      expect(line).to.match(/^Purged 0 idempotency key\(s\) created before \d{4}-/);
      expect(JSON.parse((await run(["--json", "purge-idempotency-keys", "--retention-hours", "1"], deps)).join("\n")).purged).to.equal(0);
      expect(await redeem(), "kept: the retry replays the outcome").to.include({ ok: true });
      expect(JSON.parse((await run(["--json", "purge-idempotency-keys", "--retention-hours", "0"], deps)).join("\n")).purged).to.equal(1);
      expect(await redeem(), "purged: the retry is a new redemption of a redeemed coupon").to.include({ ok: false });
    } finally {
      await own.close();
    }
  });

  it("When an option is malformed, then the command is refused before the store is opened", async () => {
    let opened = false;
    const withStore: OpsDeps["withStore"] = async () => {
      opened = true;
      throw new Error("must not open");
    };
    for (const args of [
      ["fraud-report", "--by", "device"],
      ["fraud-report", "--top", "0"],
      ["fraud-report", "--since", "yesterday"],
      ["archive", "--batch-size", "0"],
      ["archive", "--before", "soon"],
      ["status", "--unknown"],
    ]) {
      const err = await run(args, { withStore }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, args.join(" ")).to.be.instanceOf(CommanderError);
    }
    expect(opened).to.equal(false);
  });

  it("When status is run, then it prints the counts and whether to partition or archive", async () => {
    const lines = await run(["status"]);
    expect(lines[0]).to.match(/^Coupons\s+0 in 1 campaign\(s\)$/);
    expect(lines.join("\n"))
      .to.match(/History\s+4 row\(s\)/)
      .and.match(/Partition: not needed/);
    const s = JSON.parse((await run(["--json", "status", "--archive-before", new Date(Date.now() + HOUR).toISOString()])).join("\n"));
    expect(s).to.include({ historyRows: 4, historyRowsToArchive: 4, archiveAdvised: true, partitionAdvised: false });
  });

  it("When archive is run with --before and --file, then the rows move and the file holds them", async () => {
    const file = join(dir, "cli.jsonl.gz");
    const before = new Date(Date.now() + HOUR).toISOString();
    const lines = await run(["archive", "--before", before, "--batch-size", "3", "--file", file]);
    expect(lines).to.deep.equal([`Archived 4 history row(s) attempted before ${before} in 2 batch(es); 4 written to ${file}.`]);
    expect(existsSync(file)).to.equal(true);
    expect(await store.listRedemptionAttempts({})).to.deep.equal([]);
    const again = await run(["--json", "archive", "--before", before, "--file", file]);
    expect(JSON.parse(again.at(-1) as string)).to.include({ event: "archive.done", moved: 0, fileRows: 0 });
  });

  it("When archive is stopped by its signal, then it says so and sets the interrupted exit code", async () => {
    await store.redeemCoupon({ code: "BAD5", userId: "eve" });
    const stop = new AbortController();
    stop.abort();
    let code: number | undefined;
    const lines = await run(["archive", "--before", new Date(Date.now() + HOUR).toISOString()], {
      stopSignal: stop.signal,
      setExit: (c) => {
        code = c;
      },
    });
    expect(lines[0]).to.match(/Stopped by a signal: run it again to finish\.$/);
    expect(code).to.equal(5);
  });

  it("When ops-main archive runs as a process with settings in the environment, then it archives and logs JSON lines", async () => {
    const url = `embedded:${join(dir, "aci-db")}`;
    const seed = await openStore(url);
    try {
      await seed.redeemCoupon({ code: "GONE", userId: "aci" });
    } finally {
      await seed.close();
    }
    const file = join(dir, "aci.jsonl.gz");
    const child = spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", OPS_MAIN, "archive"], {
      env: {
        ...process.env,
        COUPONS_DATABASE_URL: url,
        COUPONS_ARCHIVE_BEFORE: new Date(Date.now() + HOUR).toISOString(),
        COUPONS_ARCHIVE_BATCH_SIZE: "10",
        COUPONS_ARCHIVE_FILE: file,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code, stderr).to.equal(0);
    const events = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).to.deep.equal(["archive.batch", "archive.batch", "archive.done"]);
    expect(events.at(-1)).to.include({ moved: 1, fileRows: 1, file });
  });
});
