// The CLI's conventions, through the real CLI as child processes on the embedded engine: --version; a
// reader that closes the pipe early ends the output quietly with exit 0; --json wherever a table is
// printed; enumerations in any letter case; generation requests named by a unique id prefix of 8 or
// more characters (an ambiguous one refused with the candidates); UTC times unless --local-time; no
// terminal escape codes when the output is not a terminal.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { EXIT } from "../src/index.ts";
import { ROOT, cli, createCampaign, embeddedFolder, explain, startCli, withStore } from "./helpers.ts";

const ISO_UTC = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

describe("coupons CLI conventions (embedded)", function () {
  this.timeout(120_000);
  const f = embeddedFolder();
  const env = () => f.env();

  it("When asked --version, then it prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "apps/generator/package.json"), "utf8")) as { version: string };
    const r = await cli(["--version"]);
    expect(r.code, explain(r)).to.equal(EXIT.OK);
    expect(r.stdout.trim()).to.equal(version);
  });

  it("When the reader closes the pipe after the first line of an export, then the CLI exits 0 with nothing on stderr", async () => {
    // 20,000 codes are ~1 MB of CSV: far more than a pipe holds, so the CLI is still writing when the reader leaves
    await withStore(f.url, (store) => createCampaign(store));
    const made = await cli(["--json", "generate", "--campaign", "c1", "--requested-amount", "20000", "--request-id", "r-pipe"], {
      env: env(),
    });
    expect(made.code, explain(made)).to.equal(EXIT.OK);

    const child = startCli(["export", "--campaign", "c1"], { env: env() });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const exited = once(child, "close");
    const [first] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
    expect(first.toString().split("\n")[0]).to.equal("code,campaign_id,expires_at,request_id,created_at");
    child.stdout?.destroy(); // what `| head -1` does once it has its line
    const [code] = (await exited) as [number | null];
    expect(stderr, "nothing on stderr: no EPIPE, no stack").to.equal("");
    expect(code).to.equal(EXIT.OK);
  });

  it("When requests are named by a prefix, then a unique prefix of 8+ characters works for show and export, an ambiguous one lists the candidates, a short one is refused", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      for (const id of ["abcdef01-0000-4000-8000-000000000001", "abcdef01-0000-4000-8000-000000000002", "0123456789-solo"]) {
        await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 10, requestId: id });
      }
    });
    const show = await cli(["--json", "request", "show", "01234567"], { env: env() });
    expect(show.code, explain(show)).to.equal(EXIT.OK);
    expect(JSON.parse(show.stdout).requestId).to.equal("0123456789-solo");

    const exported = await cli(["export", "--request", "012345678"], { env: env() });
    expect(exported.code, explain(exported)).to.equal(EXIT.OK);
    expect(exported.stdout.trim().split("\n")).to.have.length(1, "the header only: the request has no codes yet");

    const ambiguous = await cli(["request", "show", "abcdef01-0000"], { env: env() });
    expect(ambiguous.code, explain(ambiguous)).to.equal(EXIT.USAGE);
    expect(ambiguous.stderr).to.contain("2 generation requests start with abcdef01-0000");
    expect(ambiguous.stderr).to.contain("abcdef01-0000-4000-8000-000000000001").and.contain("abcdef01-0000-4000-8000-000000000002");

    const short = await cli(["request", "show", "0123456"], { env: env() });
    expect(short.code, explain(short)).to.equal(EXIT.REFUSED);
    expect(short.stderr).to.contain("at least 8 characters");

    const cancelled = await cli(["--json", "request", "cancel", "0123456789"], { env: env() });
    expect(cancelled.code, explain(cancelled)).to.equal(EXIT.OK);
    expect(JSON.parse(cancelled.stdout)).to.include({ requestId: "0123456789-solo", status: "Cancelled" });
  });

  it("When filters are given in any letter case, then request list --status, campaign list --state and fraud-report --by accept them; an unknown value names the choices", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 10, requestId: "r-case" });
    });
    const lower = await cli(["--json", "request", "list", "--status", "requested"], { env: env() });
    expect(lower.code, explain(lower)).to.equal(EXIT.OK);
    expect(JSON.parse(lower.stdout).map((r: { requestId: string }) => r.requestId)).to.deep.equal(["r-case"]);
    const none = await cli(["--json", "request", "list", "--status", "GENERATED"], { env: env() });
    expect(JSON.parse(none.stdout)).to.deep.equal([]);
    const state = await cli(["--json", "campaign", "list", "--state", "Active"], { env: env() });
    expect(state.code, explain(state)).to.equal(EXIT.OK);
    expect(JSON.parse(state.stdout).campaigns.map((c: { campaignId: string }) => c.campaignId)).to.deep.equal(["c1"]);
    const by = await cli(["--json", "fraud-report", "--by", "USER"], { env: env() });
    expect(by.code, explain(by)).to.equal(EXIT.OK);
    const bad = await cli(["request", "list", "--status", "done"], { env: env() });
    expect(bad.code).to.equal(EXIT.USAGE);
    expect(bad.stderr).to.contain("must be one of Requested, Generating, Generated, Failed, Cancelled");
  });

  it("When a table is printed, then it has a header row and UTC times with no escape codes, --local-time prints offsets, and --json gives the same rows as JSON", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 10, requestId: "r-table" });
    });
    const table = await cli(["request", "list"], { env: { ...env(), NO_COLOR: "1" } });
    expect(table.code, explain(table)).to.equal(EXIT.OK);
    const [header, row] = table.stdout.split("\n");
    expect(header).to.match(/^REQUEST\s+CAMPAIGN\s+STATUS\s+GENERATED\/REQUESTED\s+DONE\s+CREATED \(UTC\)\s+COMPLETED \(UTC\)$/);
    expect(row)
      .to.match(/^r-table\s+c1\s+Requested\s+0\/10/)
      .and.match(ISO_UTC);
    expect(table.stdout + table.stderr).to.not.contain("\u001b");

    const local = await cli(["request", "list", "--local-time"], { env: { ...env(), TZ: "Asia/Kolkata" } });
    expect(local.stdout)
      .to.contain("CREATED (local)")
      .and.match(/\d\d:\d\d:\d\d\.\d{3}\+05:30/);
    const shown = await cli(["--local-time", "request", "show", "r-table"], { env: { ...env(), TZ: "Asia/Kolkata" } });
    expect(shown.stdout).to.match(/Created\s+\S+\+05:30/);

    const json = await cli(["--json", "request", "list"], { env: env() });
    const rows = JSON.parse(json.stdout) as { requestId: string; createdAt: string }[];
    expect(rows.map((r) => r.requestId)).to.deep.equal(["r-table"]);
    expect(row).to.contain(rows[0]?.createdAt);

    for (const args of [["status"], ["fraud-report"], ["request", "show", "r-table"]]) {
      const text = await cli(args, { env: env() });
      const asJson = await cli(["--json", ...args], { env: env() });
      expect(text.code, explain(text)).to.equal(EXIT.OK);
      expect(() => JSON.parse(asJson.stdout), `${args.join(" ")} --json`).to.not.throw();
      expect(text.stdout, `${args.join(" ")} prints text for people`).to.not.match(/^[[{]/);
    }
  });
});
