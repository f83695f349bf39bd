import { expect } from "chai";
import pg from "pg";
import { conformanceSuite } from "./conformance.ts";
import { APP_LOGIN, describePostgres, postgresAppRoleEngine, postgresEngine } from "./support.ts";

describePostgres("postgres engine", () => {
  conformanceSuite(postgresEngine);
});

describePostgres(`postgres engine as ${APP_LOGIN}, a member of the execute-only role coupon_app`, () => {
  conformanceSuite(postgresAppRoleEngine);

  it("cannot read or write any table, nor run the internal helpers, directly", async () => {
    const { url, cleanup } = await postgresAppRoleEngine.open();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (const sql of [
        "SELECT * FROM Coupons",
        "SELECT * FROM RedemptionHistory",
        "UPDATE Campaigns SET IsActive = true",
        "DELETE FROM UserRedemptions",
        "SELECT * FROM vw_ActiveCampaigns",
        "SELECT sp_SyncCampaignCounters(NULL)",
        "SELECT fn_TakeCampaignUnit('c', 0, 1, false)",
      ]) {
        let denied = false;
        try {
          await c.query(sql);
        } catch (err) {
          denied = /permission denied/.test((err as Error).message);
        }
        expect(denied, sql).to.equal(true);
      }
      // what it may do: the procedures
      expect((await c.query("SELECT count(*)::int AS n FROM sp_GetActiveCampaigns()")).rows[0].n).to.equal(0);
    } finally {
      await c.end();
      await cleanup();
    }
  });
});
