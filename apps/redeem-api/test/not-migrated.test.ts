// The API on a PostgreSQL database that is not ready for it: never migrated, or missing. The process
// starts (so it can say why), /readyz answers 503 NOT_READY with the reason, a redemption answers 503
// (never 500), and after `coupons migrate` the same process becomes ready and redeems.
import { expect } from "chai";
import { type CouponStore, checkPostgresSchema, migrate, openStore } from "@coupons/db";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { createSchemaGate } from "../src/schema-gate.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, startApiProcess, testConfig, testEnv, unique } from "./helpers.ts";

describePostgres("redeem API on a database that is not migrated or missing (PostgreSQL)", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createPostgresDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  it("When the API process starts on a database never migrated, then /readyz is 503 saying to run `coupons migrate` and a redemption is 503 NOT_MIGRATED", async () => {
    const api = await startApiProcess(["--conditions=source", "apps/redeem-api/src/main.ts"], {
      ...testEnv({ COUPONS_LOG_LEVEL: "info" }),
      COUPONS_DATABASE_URL: db.url,
    });
    try {
      expect(api.output()).to.contain('"msg":"not ready: the database').and.contain("has no schema");
      const client = await ApiClient.connect(`http://127.0.0.1:${api.port}`);
      const ready = await client.get("/readyz", null);
      expect(ready.status).to.equal(503);
      expect(ready.body).to.include({ code: "NOT_READY" });
      expect(ready.body.detail).to.contain("has no schema (it was never migrated)").and.contain("run `coupons migrate`");
      const redeem = await client.post("/v1/redemptions", { code: "ABCD-1234", userId: "u1" }, KEYS.shop);
      expect(redeem.status).to.equal(503);
      expect(redeem.body.code).to.equal("NOT_MIGRATED");
      expect(redeem.body.detail).to.contain("coupons migrate");
    } finally {
      api.child.kill("SIGKILL");
    }
  });

  it("When the database does not exist, then /readyz and a redemption are 503 saying it does not exist", async () => {
    await db.drop();
    const api = await startApiProcess(["--conditions=source", "apps/redeem-api/src/main.ts"], {
      ...testEnv({ COUPONS_LOG_LEVEL: "info" }),
      COUPONS_DATABASE_URL: db.url,
    });
    try {
      const client = await ApiClient.connect(`http://127.0.0.1:${api.port}`);
      const ready = await client.get("/readyz", null);
      expect(ready.status).to.equal(503);
      expect(ready.body.detail).to.contain("database does not exist");
      const redeem = await client.post("/v1/redemptions", { code: "ABCD-1234", userId: "u1" }, KEYS.shop);
      expect(redeem.status).to.equal(503);
      expect(redeem.body.code).to.equal("NO_DATABASE");
    } finally {
      api.child.kill("SIGKILL");
    }
  });

  it("When the database is migrated while the API runs, then /readyz turns 200 at its next check and a redemption succeeds", async () => {
    let clock = 0;
    const schema = createSchemaGate(
      () => checkPostgresSchema(db.url),
      () => clock,
    );
    const store: CouponStore = await openStore(db.url, { checkSchema: false });
    let running: RunningServer | undefined;
    try {
      running = await startServer({ store, config: testConfig(), schema });
      const client = await ApiClient.connect(running.url);
      expect((await client.get("/readyz", null)).status).to.equal(503);
      await migrate(db.url);
      expect((await client.get("/readyz", null)).status, "the last answer is kept for 5 s").to.equal(503);
      clock += 5_000;
      const ready = await client.get("/readyz", null);
      expect(ready.status, ready.text).to.equal(200);
      const code = unique("mig");
      await seedCampaign(store, { codes: [code] });
      const redeem = await client.post("/v1/redemptions", { code, userId: "u1" }, KEYS.shop);
      expect(redeem.status, redeem.text).to.equal(200);
    } finally {
      if (running) await stopServer(running);
      else await store.close();
    }
  });
});
