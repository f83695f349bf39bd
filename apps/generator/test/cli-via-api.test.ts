// The embedded default with the redeem API running: the API owns the data folder, so the CLI's read
// commands (request list/show, campaign list/show/stats, fraud-report) ask it over loopback, with the key it published
// beside the folder; any other command exits 4 with a message saying what to do instead (stop it, use
// the API, or PostgreSQL with the command that starts it). The published file goes when the API stops.
import { once } from "node:events";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { localApiFile } from "@coupons/db";
import { expect } from "chai";
import { startApiProcess, testEnv } from "../../redeem-api/test/helpers.ts";
import { EXIT } from "../src/index.ts";
import { cli, createCampaign, embeddedFolder, explain, withStore } from "./helpers.ts";

describe("coupons CLI while the redeem API holds the embedded folder", function () {
  this.timeout(120_000);
  const f = embeddedFolder();

  it("When the API runs on the folder, then read commands go through it, other commands exit 4 saying what to do, and the API's file goes when it stops", async () => {
    await withStore(f.url, async (store) => {
      await createCampaign(store);
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 10, requestId: "feedbeef-0000-4000-8000-000000000001" });
      await store.redeemCoupon({ code: "NOSUCHCODE", userId: "guesser" });
    });
    const api = await startApiProcess(["--conditions=source", "apps/redeem-api/src/main.ts"], {
      ...testEnv({ COUPONS_LOG_LEVEL: "info", COUPONS_API_WORKER: "false" }),
      COUPONS_DATABASE_URL: f.url,
    });
    try {
      const file = localApiFile(join(f.path, "db"));
      expect(statSync(file).mode & 0o777, "readable by this user only").to.equal(0o600);

      const list = await cli(["--json", "request", "list", "--status", "requested"], { env: f.env() });
      expect(list.code, explain(list)).to.equal(EXIT.OK);
      expect(JSON.parse(list.stdout).map((r: { requestId: string }) => r.requestId)).to.deep.equal([
        "feedbeef-0000-4000-8000-000000000001",
      ]);
      expect(list.stderr).to.contain(`the redeem API, process ${api.child.pid}`);

      const show = await cli(["request", "show", "feedbeef"], { env: f.env() });
      expect(show.code, explain(show)).to.equal(EXIT.OK);
      expect(show.stdout)
        .to.match(/^Request {5}feedbeef-0000-4000-8000-000000000001\n/)
        .and.match(/Created {5}\S+Z/);

      const campaign = await cli(["campaign", "show", "c1"], { env: f.env() });
      expect(campaign.code, explain(campaign)).to.equal(EXIT.OK);
      expect(JSON.parse(campaign.stdout)).to.include({ campaignId: "c1" });
      const missing = await cli(["campaign", "show", "nope"], { env: f.env() });
      expect(missing.code, explain(missing)).to.equal(EXIT.REFUSED);

      const stats = await cli(["--json", "campaign", "stats", "c1", "--interval", "day"], { env: f.env() });
      expect(stats.code, explain(stats)).to.equal(EXIT.OK);
      const doc = JSON.parse(stats.stdout);
      expect(doc).to.include({ campaignId: "c1", redeemedCoupons: 0 });
      expect(doc.series.interval).to.equal("day");
      expect(doc.series.points).to.have.length(30);

      const fraud = await cli(["--json", "fraud-report", "--by", "user"], { env: f.env() });
      expect(fraud.code, explain(fraud)).to.equal(EXIT.OK);
      expect(fraud.stderr).to.contain(`the redeem API, process ${api.child.pid}`);
      expect(JSON.parse(fraud.stdout).map((r: { subject: string; refusals: number }) => [r.subject, r.refusals])).to.deep.equal([
        ["guesser", 1],
      ]);
      const table = await cli(["fraud-report", "--by", "user"], { env: f.env() });
      expect(table.stdout).to.match(/\nguesser\s+1\s+1\s+0\s+1\s+\d{4}-\d\d-\d\dT\S+Z\s/);

      const exported = await cli(["export", "--campaign", "c1"], { env: f.env() });
      expect(exported.code, explain(exported)).to.equal(EXIT.BUSY);
      expect(exported.stderr)
        .to.contain(`in use by process ${api.child.pid}`)
        .and.contain("Stop it")
        .and.contain("use the API")
        .and.contain("docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=coupons postgres:17");
    } finally {
      const gone = once(api.child, "exit");
      api.child.kill("SIGTERM");
      await gone;
    }
    expect(existsSync(localApiFile(join(f.path, "db"))), "the API removed its file when it stopped").to.equal(false);
    const after = await cli(["--json", "request", "list"], { env: f.env() });
    expect(after.code, explain(after)).to.equal(EXIT.OK);
    expect(after.stderr, "opened the folder itself").to.not.contain("redeem API");
  });
});
