// The conformance suite against a real SQL Server (TEST_MSSQL_URL; see mssql-support.ts), plus what
// only SQL Server can show: migrations and scripts re-run cleanly, the app's login can execute
// procedures but read no table, and the concurrency cases left no deadlock in system_health.
// TEST_MSSQL_RCSI=on|off sets READ_COMMITTED_SNAPSHOT of the test databases (scripts/test-mssql.sh
// runs the suite once with each).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import sql from "mssql";
import { buildMssqlSettings } from "../src/engines/mssql-config.ts";
import { migrateMssql, splitBatches } from "../src/engines/mssql-migrate.ts";
import { databaseDir, readMigrations, readRepeatables } from "../src/migrate.ts";
import { conformanceSuite } from "./conformance.ts";
import { operationsSuite } from "./operations.ts";
import { throttleStoreSuite } from "./throttle-store.ts";
import {
  MSSQL_RCSI,
  MSSQL_URL,
  adminBatches,
  createMssqlDatabase,
  createdDatabases,
  describeMssql,
  mssqlEngine,
  mssqlPartitionedEngine,
} from "./mssql-support.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { openStore, partitionCoupons } from "../src/index.ts";

/** Deadlock reports in the system_health session since `since` that name one of the databases this
 *  process created; null where the server keeps no system_health file (Azure SQL Database). */
async function deadlocksSince(since: Date): Promise<string[] | null> {
  const pool = new sql.ConnectionPool(buildMssqlSettings({ engine: "mssql", url: MSSQL_URL }, { poolSize: 1 }).config);
  await pool.connect();
  try {
    const rows = await pool
      .request()
      .input("since", sql.DateTime2, since)
      .query<{ event_data: string }>(
        `SELECT CAST(event_data AS nvarchar(max)) AS event_data
         FROM sys.fn_xe_file_target_read_file(N'system_health*.xel', NULL, NULL, NULL)
         WHERE object_name = N'xml_deadlock_report' AND timestamp_utc >= @since`,
      )
      .catch(() => null);
    if (!rows) return null;
    return rows.recordset.map((r) => r.event_data).filter((x) => [...createdDatabases].some((db) => x.includes(db)));
  } finally {
    await pool.close();
  }
}

describeMssql(`mssql engine (READ_COMMITTED_SNAPSHOT ${MSSQL_RCSI})`, () => {
  const started = new Date(Date.now() - 1000);
  conformanceSuite(mssqlEngine);
  // Archive, fraud report, scale status and key purge: every engine runs the operations suite.
  operationsSuite(mssqlEngine);
  throttleStoreSuite(mssqlEngine);

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

    it("re-runs every migration script, numbered and repeatable, without error", async () => {
      for (const m of [...readMigrations(databaseDir("mssql")), ...readRepeatables(databaseDir("mssql"))]) {
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

    it("left no deadlock report in system_health for the suite's databases (the concurrency cases included)", async function () {
      const reports = await deadlocksSince(started);
      if (reports === null) this.skip(); // no system_health file target on this server (Azure SQL Database)
      expect(reports, reports?.join("\n\n").slice(0, 4000)).to.deep.equal([]);
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
