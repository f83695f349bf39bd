// The CLI's edges on the embedded engine, through the real CLI as child processes: a second process
// on a data folder another process holds exits 4 (busy) naming the holder; a SIGTERM while the
// database opens ends with exit 5 and a line saying it stopped; a refused command where no database
// exists yet creates none; `request list` prints a header, UTC dates and the oldest waiting request.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { EXIT } from "../src/index.ts";
import { cli, createCampaign, finished, nextEvent, startCli, withStore, embeddedFolder, explain } from "./helpers.ts";

describe("coupons CLI edges (embedded)", function () {
  this.timeout(60_000);
  const f = embeddedFolder();
  const env = () => f.env();

  it("When a worker holds the embedded folder, then a second worker and a run on it exit 4 naming the holder, and the holder goes on", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 50, requestId: "r-held" });
    });
    const holder = startCli(["--json", "worker", "--idle-exit", "600"], { env: env() });
    const holderDone = finished(holder);
    expect(await nextEvent(holder, "worker.start"), "the first worker started").to.not.equal(null);
    for (const args of [
      ["--json", "worker", "--once"],
      ["run", "--request-id", "r-held"],
    ]) {
      const second = await cli(args, { env: env() });
      expect(second.code, `${args.join(" ")}: ${explain(second)}`).to.equal(EXIT.BUSY);
      expect(second.stderr).to.contain(`in use by process ${holder.pid}`);
    }
    holder.kill("SIGTERM");
    const held = await holderDone;
    expect(held.code, explain(held)).to.equal(EXIT.INTERRUPTED);
    const r = await withStore(f.url, async (store) => store.getGenerationRequest("r-held"));
    expect(r, "the holder worked the request").to.deep.include({ status: "Generated", generatedAmount: 50 });
  });

  it("When SIGTERM arrives while the database opens, then run exits 5 with a line saying it stopped, and the request stays resumable", async () => {
    const N = 1_000_000;
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: N, requestId: "r-early" });
    });
    const child = startCli(["--json", "run", "--request-id", "r-early"], { env: env() });
    const done = finished(child);
    expect(await nextEvent(child, "run.opening"), "the run said it is opening the database").to.not.equal(null);
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code, explain(r)).to.equal(EXIT.INTERRUPTED);
    // opening takes far longer than a signal to arrive; should it ever not, the pipeline's own stop says so
    expect(r.stdout).to.match(/"event":"generation\.(stopped|stopping)"/);
    const after = await withStore(f.url, async (store) => store.getGenerationRequest("r-early"));
    expect(after?.status).to.equal("Requested");
    expect(after?.generatedAmount).to.be.below(N);
  });

  it("When a command is refused where no embedded database exists yet, then it creates no ./.coupons folder", async () => {
    const noDb = { cwd: f.path, env: { COUPONS_DATABASE_URL: undefined } };
    const cases: [string[], number, string][] = [
      [["run", "--request-id", "unknown"], EXIT.REFUSED, "generation request unknown does not exist"],
      [["generate", "--campaign", "nope", "--amount", "5"], EXIT.REFUSED, "campaign nope does not exist"],
      [["run", "--request-id", "unknown", "--batch-size", "0"], EXIT.USAGE, "--batch-size"],
      [["generate", "--campaign", "nope"], EXIT.USAGE, "--requested-amount"],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args, noDb);
      expect(r.code, `${args.join(" ")}: ${explain(r)}`).to.equal(code);
      expect(r.stderr).to.contain(message);
      expect(existsSync(join(f.path, ".coupons")), `${args.join(" ")} created ./.coupons`).to.equal(false);
    }
    const list = await cli(["request", "list"], noDb);
    expect(list.code, explain(list)).to.equal(EXIT.OK);
    expect(list.stdout.trim()).to.equal("No generation requests.");
    const json = await cli(["--json", "request", "list"], noDb);
    expect(JSON.parse(json.stdout)).to.deep.equal([]);
    expect(existsSync(join(f.path, ".coupons")), "request list created ./.coupons").to.equal(false);
  });

  it("When requests are listed, then there is a header row, each row's dates in UTC ISO 8601, and the oldest waiting request's age", async () => {
    const created = await withStore(f.url, async (store) => {
      await createCampaign(store);
      const old = await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 10, requestId: "r-old" });
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 20, requestId: "r-new" });
      return old.createdAt;
    });
    const r = await cli(["request", "list"], { env: env() });
    expect(r.code, explain(r)).to.equal(EXIT.OK);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]?.split(/\s{2,}/)).to.deep.equal([
      "REQUEST",
      "CAMPAIGN",
      "STATUS",
      "GENERATED/REQUESTED",
      "DONE",
      "CREATED (UTC)",
      "COMPLETED (UTC)",
    ]);
    const rows = lines.slice(1, 3).map((l) => l.split(/\s{2,}/));
    expect(rows.map((row) => row[0]).sort()).to.deep.equal(["r-new", "r-old"]);
    for (const row of rows) {
      expect(row.slice(2, 5)).to.satisfy((cells: string[]) => cells[0] === "Requested" && /^0\/(10|20)$/.test(cells[1] ?? ""));
      expect(row[5]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(row[6]).to.equal("-");
    }
    expect(lines[3]).to.match(
      new RegExp(`^Waiting: 2 request\\(s\\); the oldest since ${created.toISOString().replace(/\./g, "\\.")} \\(\\d+s\\)\\.$`),
    );
    const json = await cli(["--json", "request", "list"], { env: env() });
    expect(
      JSON.parse(json.stdout)
        .map((q: { requestId: string }) => q.requestId)
        .sort(),
    ).to.deep.equal(["r-new", "r-old"]);
  });
});
