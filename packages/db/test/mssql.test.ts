// The conformance suite against a real SQL Server (TEST_MSSQL_URL; see mssql-support.ts), plus what
// only SQL Server can show: migrations and scripts re-run cleanly, and the app's login can execute
// procedures but read no table.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import sql from "mssql";
import { buildMssqlSettings } from "../src/engines/mssql-config.ts";
import { migrateMssql, splitBatches } from "../src/engines/mssql-migrate.ts";
import { databaseDir, readMigrations } from "../src/migrate.ts";
import { conformanceSuite } from "./conformance.ts";
import { operationsSuite } from "./operations.ts";
import { adminBatches, createMssqlDatabase, describeMssql, mssqlEngine, mssqlPartitionedEngine } from "./mssql-support.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { openStore, partitionCoupons } from "../src/index.ts";

describeMssql("mssql engine", () => {
  conformanceSuite(mssqlEngine);
  // Archive, fraud report, scale status and key purge: every engine runs the operations suite.
  operationsSuite(mssqlEngine);

  describe("SQL Server specifics", function () {
    this.timeout(120_000);
    let db: Awaited<ReturnType<typeof createMssqlDatabase>>;
    before(async () => {
      db = await createMssqlDatabase();
    });
    after(async () => {
      await db?.drop();
    });

    it("migrates once: a second run applies nothing", async () => {
      const report = await migrateMssql({ engine: "mssql", url: db.adminUrl });
      expect(report.applied).to.deep.equal([]);
      expect(report.alreadyApplied).to.equal(readMigrations(databaseDir("mssql")).length);
    });

    it("re-runs every migration script without error (they are re-runnable)", async () => {
      for (const m of readMigrations(databaseDir("mssql"))) {
        await adminBatches(
          splitBatches(m.sql).map((b) => b.sql),
          db.name,
        );
      }
    });

    it("lets the app login execute procedures but read no table", async function () {
      if (db.appUrl === db.adminUrl) this.skip(); // TEST_MSSQL_APP_LOGIN=0: no app login to test
      const pool = new sql.ConnectionPool(buildMssqlSettings({ engine: "mssql", url: db.appUrl }).config);
      await pool.connect();
      try {
        const ok = await pool.request().input("CampaignId", sql.NVarChar(100), "none").execute("dbo.sp_GetCampaign");
        expect(ok.recordset).to.have.length(0);
        const denied = await pool
          .request()
          .query("SELECT TOP (1) * FROM dbo.Coupons")
          .then(
            () => null,
            (err: { number?: number }) => err,
          );
        expect(denied?.number, "SELECT permission denied").to.equal(229);
      } finally {
        await pool.close();
      }
    });

    it("keeps the managed identity script out of the migrations", () => {
      const script = readFileSync(join(databaseDir("mssql"), "security", "add_managed_identity.sql"), "utf8");
      expect(script).to.match(/FROM EXTERNAL PROVIDER/);
      expect(readMigrations(databaseDir("mssql")).map((m) => m.file)).to.not.include("add_managed_identity.sql");
    });
  });
});

describeMssql("mssql engine on the partitioned layout (database/mssql/partitioning)", () => {
  it("converts a populated table keeping every row exactly once, and a second run changes nothing", async function () {
    this.timeout(180_000);
    const db = await createMssqlDatabase();
    try {
      const store = await openStore(db.appUrl);
      try {
        const a = await makeCampaign(store);
        const b = await makeCampaign(store);
        await makeCoupons(
          store,
          a,
          Array.from({ length: 500 }, (_, i) => `PARTA${i}`),
        );
        await makeCoupons(
          store,
          b,
          Array.from({ length: 300 }, (_, i) => `PARTB${i}`),
        );
      } finally {
        await store.close();
      }
      const first = await partitionCoupons({ engine: "mssql", url: db.adminUrl });
      expect(first).to.include({ rowsBefore: 800, rowsAfter: 800 });
      const second = await partitionCoupons({ engine: "mssql", url: db.adminUrl });
      expect(second).to.include({ rowsBefore: 800, rowsAfter: 800 });
    } finally {
      await db.drop();
    }
  });

  conformanceSuite(mssqlPartitionedEngine);
});
