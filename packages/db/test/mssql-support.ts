// SQL Server for the real-server suite. TEST_MSSQL_URL names a server and a login that may create
// databases and logins (e.g. mssql://sa:Passw0rd!@127.0.0.1:1433/master?trustServerCertificate=true).
// Each open() creates a fresh database, migrates it with the real migrator, and connects the store
// as a login that is only a member of coupon_app (EXECUTE on the procedures, no table access), so
// the suite proves the security model too; cleanup drops database and login. Without the variable
// the suites are registered as skipped, with the reason in their title.
import { randomBytes } from "node:crypto";
import sql from "mssql";
import type { CouponStore, OpenOptions } from "../src/index.ts";
import { openStore, partitionCoupons } from "../src/index.ts";
import { buildMssqlSettings } from "../src/engines/mssql-config.ts";
import { migrateMssql } from "../src/engines/mssql-migrate.ts";
import type { EngineUnderTest } from "./support.ts";
import { withDatabase } from "./urls.ts";

export const MSSQL_URL = process.env.TEST_MSSQL_URL || "";
export const MSSQL_SKIP_REASON = MSSQL_URL
  ? null
  : "TEST_MSSQL_URL is not set (run scripts/test-mssql.sh, or set it to e.g. mssql://sa:Passw0rd!@127.0.0.1:1433/master?trustServerCertificate=true)";
/** TEST_MSSQL_APP_LOGIN=0 connects the store as the admin login instead (servers where CREATE LOGIN is not allowed). */
const AS_APP = process.env.TEST_MSSQL_APP_LOGIN !== "0";
/** TEST_MSSQL_RCSI=on|off: READ_COMMITTED_SNAPSHOT of every test database (on is Azure SQL Database's
 *  default, off the container's); scripts/test-mssql.sh runs the suite once with each. */
export const MSSQL_RCSI: "ON" | "OFF" = process.env.TEST_MSSQL_RCSI?.toLowerCase() === "on" ? "ON" : "OFF";
/** The databases this process created, for the deadlock check of mssql.test.ts. */
export const createdDatabases = new Set<string>();

/** Registers a describe block that is skipped, with its reason in the title, when SQL Server is not configured. */
export function describeMssql(title: string, fn: (this: Mocha.Suite) => void): void {
  if (MSSQL_SKIP_REASON) {
    describe(`${title} [skipped: ${MSSQL_SKIP_REASON}]`, () => {
      it.skip(`needs SQL Server: ${MSSQL_SKIP_REASON}`, () => {});
    });
    return;
  }
  describe(title, fn);
}

/** Runs batches on the server as the admin login of TEST_MSSQL_URL. */
export async function adminBatches(batches: string[], database?: string): Promise<void> {
  const url = database ? withDatabase(MSSQL_URL, database) : MSSQL_URL;
  const pool = new sql.ConnectionPool(buildMssqlSettings({ engine: "mssql", url }, { poolSize: 1 }).config);
  await pool.connect();
  try {
    for (const b of batches) await pool.request().batch(b);
  } finally {
    await pool.close();
  }
}

export type MssqlTestDatabase = { name: string; adminUrl: string; appUrl: string; drop(): Promise<void> };

/** A new, migrated database and (unless TEST_MSSQL_APP_LOGIN=0) an execute-only login for it. */
export async function createMssqlDatabase(opts: { migrated?: boolean } = {}): Promise<MssqlTestDatabase> {
  if (!MSSQL_URL) throw new Error(MSSQL_SKIP_REASON ?? "no SQL Server");
  const name = `coupons_t_${randomBytes(6).toString("hex")}`;
  const login = { user: `${name}_app`, password: `Aa1!${randomBytes(12).toString("hex")}` };
  await adminBatches([
    `CREATE DATABASE [${name}]`,
    `ALTER DATABASE [${name}] SET READ_COMMITTED_SNAPSHOT ${MSSQL_RCSI} WITH ROLLBACK IMMEDIATE`,
  ]);
  createdDatabases.add(name);
  const adminUrl = withDatabase(MSSQL_URL, name);
  // No SET SINGLE_USER (Azure SQL Database refuses it): the sessions still in the database are killed.
  const drop = async () => {
    await adminBatches([
      `IF DB_ID(N'${name}') IS NOT NULL BEGIN
         DECLARE @kill nvarchar(max) = N'';
         SELECT @kill = @kill + CONCAT(N'KILL ', session_id, N'; ') FROM sys.dm_exec_sessions
         WHERE database_id = DB_ID(N'${name}') AND session_id <> @@SPID;
         EXEC sys.sp_executesql @kill;
         DROP DATABASE [${name}];
       END`,
      `IF SUSER_ID(N'${login.user}') IS NOT NULL DROP LOGIN [${login.user}]`,
    ]);
  };
  try {
    if (opts.migrated !== false) await migrateMssql({ engine: "mssql", url: adminUrl });
    if (AS_APP && opts.migrated !== false) {
      await adminBatches([`CREATE LOGIN [${login.user}] WITH PASSWORD = N'${login.password}', CHECK_POLICY = OFF`]);
      await adminBatches(
        [`CREATE USER [${login.user}] FOR LOGIN [${login.user}]`, `ALTER ROLE coupon_app ADD MEMBER [${login.user}]`],
        name,
      );
    }
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  return { name, adminUrl, appUrl: AS_APP ? withDatabase(MSSQL_URL, name, login) : adminUrl, drop };
}

/** A fresh migrated SQL Server database per open(), prepared (as the admin) before the store opens. */
function mssqlEngineWith(prepare: (db: MssqlTestDatabase) => Promise<void>): EngineUnderTest {
  return {
    name: "mssql",
    async open(options?: OpenOptions) {
      const db = await createMssqlDatabase();
      let store: CouponStore;
      try {
        await prepare(db);
        store = await openStore(db.appUrl, options);
      } catch (err) {
        await db.drop().catch(() => {});
        throw err;
      }
      return {
        store,
        url: db.appUrl,
        async cleanup() {
          await store.close();
          await db.drop();
        },
      };
    },
  };
}

export const mssqlEngine: EngineUnderTest = mssqlEngineWith(async () => {});

/** SQL Server with dbo.Coupons converted to the partitioned layout (database/mssql/partitioning) by
 *  the operator's command, before the store opens: the conformance suite must pass unchanged on it. */
export const mssqlPartitionedEngine: EngineUnderTest = mssqlEngineWith(async (db) => {
  await partitionCoupons({ engine: "mssql", url: db.adminUrl });
});
