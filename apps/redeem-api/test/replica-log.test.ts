// The API against a real PostgreSQL streaming replica: analytics reads (active campaigns, stats) go
// to the replica and the log says so, line by line; redemptions go to the primary.
import { once } from "node:events";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { openStore } from "@coupons/db";
import { makeCampaign, makeCoupons } from "../../../packages/db/test/conformance.ts";
import { type Replica, skipUnlessReplica, startReplica } from "../../../packages/db/test/replica-support.ts";
import { POSTGRES_URL, type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { ApiClient, KEYS, startApiProcess, testEnv } from "./helpers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describePostgres("redeem API with a read replica", function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let replica: Replica;

  before(async function () {
    if (skipUnlessReplica(this, POSTGRES_URL)) return;
    db = await createPostgresDatabase();
    replica = await startReplica(POSTGRES_URL);
  });
  after(async () => {
    await replica?.stop();
    await db?.drop();
  });

  it("When analytics endpoints are called, then the replica serves them and each log line names it; redeem stays on the primary", async () => {
    const seed = await openStore(db.url);
    let campaignId: string;
    try {
      campaignId = await makeCampaign(seed);
      await makeCoupons(seed, campaignId, ["REPLICA1", "REPLICA2"]);
    } finally {
      await seed.close();
    }
    const readUrl = replica.urlFor(db.name);
    const { child, port, output } = await startApiProcess(
      ["--conditions=source", join(root, "apps/redeem-api/src/main.ts")],
      testEnv({ COUPONS_LOG_LEVEL: "info", COUPONS_DATABASE_URL: db.url, COUPONS_DATABASE_READ_URL: readUrl }),
    );
    try {
      const api = await ApiClient.connect(`http://127.0.0.1:${port}`);
      const redeem = await api.post("/v1/redemptions", { code: "REPLICA1", userId: "u1" }, KEYS.admin);
      expect(redeem.status, redeem.text).to.equal(200);
      // the replica catches up with the redemption, then the stats read it there; how long replay takes
      // depends on the machine's load, so the wait is bounded by the test's timeout, not a count
      let stats: { redeemedCoupons?: number } = {};
      while (stats.redeemedCoupons !== 1) {
        const r = await api.get(`/v1/campaigns/${encodeURIComponent(campaignId)}/stats`, KEYS.reader);
        expect(r.status).to.equal(200);
        stats = r.body;
        if (stats.redeemedCoupons !== 1) await new Promise((r) => setTimeout(r, 100));
      }
      expect(stats.redeemedCoupons).to.equal(1);
      const active = await api.get("/v1/campaigns", KEYS.reader);
      expect(active.status).to.equal(200);
      const lines = output()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { msg?: string; db?: { method: string; route: string }; analyticsReads?: string });
      expect(lines.find((l) => l.analyticsReads)?.analyticsReads).to.equal("replica");
      const routed = lines.filter((l) => l.msg === "analytics read").map((l) => l.db);
      expect(routed).to.deep.include({ method: "getRedemptionStats", route: "replica" });
      expect(routed).to.deep.include({ method: "listCampaigns", route: "replica" });
      expect(routed.every((r) => r?.route === "replica")).to.equal(true);
      expect(routed.map((r) => r?.method)).to.not.include("redeemCoupon");
    } finally {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
  });
});
