// Migrations on SQL Server: the numbered, then the repeatable, files of database/mssql (the loop is
// migrate.ts's), split into batches on lines that are only `GO` (as sqlcmd and SSMS do; GO is not
// T-SQL), each file applied in one transaction and recorded with its checksum in SchemaMigrations or
// SchemaRepeatables. One migrator at a time (a session application lock).
import sql from "mssql";
import { StoreError } from "../contract.ts";
import {
  type AppliedMigration,
  type AppliedRepeatable,
  type Migration,
  type MigrationReport,
  type MigrationTarget,
  databaseDir,
  runMigrations,
} from "../migrate.ts";
import { type MssqlStoreConfig, buildMssqlSettings } from "./mssql-config.ts";
import { mapMssqlError } from "./mssql-errors.ts";

export type Batch = { sql: string /** 1-based line of the file where the batch starts */; line: number };

const GO_LINE = /^[ \t]*GO[ \t]*(?:--.*)?$/i;

/** The batches of a script, split on lines that are only GO; blank batches are dropped. */
export function splitBatches(script: string): Batch[] {
  const lines = script.replace(/\r\n/g, "\n").split("\n");
  const out: Batch[] = [];
  let start = 0;
  const flush = (end: number) => {
    const text = lines.slice(start, end).join("\n");
    if (text.trim() !== "") out.push({ sql: text, line: start + 1 });
  };
  lines.forEach((l, i) => {
    if (GO_LINE.test(l)) {
      flush(i);
      start = i + 1;
    }
  });
  flush(lines.length);
  return out;
}

export const MIGRATIONS_TABLE_MSSQL = `IF OBJECT_ID(N'dbo.SchemaMigrations', N'U') IS NULL
CREATE TABLE dbo.SchemaMigrations (
  Version int NOT NULL CONSTRAINT PK_SchemaMigrations PRIMARY KEY, Name nvarchar(200) NOT NULL,
  Checksum char(64) NOT NULL, AppliedAt datetime2 NOT NULL CONSTRAINT DF_SchemaMigrations_AppliedAt DEFAULT SYSUTCDATETIME());
IF OBJECT_ID(N'dbo.SchemaRepeatables', N'U') IS NULL
CREATE TABLE dbo.SchemaRepeatables (
  [File] nvarchar(200) NOT NULL CONSTRAINT PK_SchemaRepeatables PRIMARY KEY, Checksum char(64) NOT NULL,
  AppliedAt datetime2 NOT NULL CONSTRAINT DF_SchemaRepeatables_AppliedAt DEFAULT SYSUTCDATETIME())`;

const RECORD = {
  numbered: "INSERT INTO dbo.SchemaMigrations (Version, Name, Checksum) VALUES (@version, @name, @checksum)",
  repeatable: `UPDATE dbo.SchemaRepeatables SET Checksum = @checksum, AppliedAt = SYSUTCDATETIME() WHERE [File] = @file;
IF @@ROWCOUNT = 0 INSERT INTO dbo.SchemaRepeatables ([File], Checksum) VALUES (@file, @checksum);`,
};

/** The migration target of one connection: each file's batches and its record in one transaction. */
function mssqlTarget(pool: sql.ConnectionPool): MigrationTarget {
  return {
    async applied() {
      const numbered = await pool
        .request()
        .query<AppliedMigration>(
          "SELECT Version AS version, Name AS name, RTRIM(Checksum) AS checksum FROM dbo.SchemaMigrations ORDER BY Version",
        );
      const repeatable = await pool
        .request()
        .query<AppliedRepeatable>("SELECT [File] AS [file], RTRIM(Checksum) AS checksum FROM dbo.SchemaRepeatables");
      return { numbered: [...numbered.recordset], repeatable: [...repeatable.recordset] };
    },
    async apply(m: Migration) {
      const tx = new sql.Transaction(pool);
      await tx.begin();
      let at: Batch | undefined;
      try {
        for (const batch of splitBatches(m.sql)) {
          at = batch;
          await new sql.Request(tx).batch(batch.sql);
        }
        at = undefined;
        await new sql.Request(tx)
          .input("version", sql.Int, m.version)
          .input("name", sql.NVarChar(200), m.name)
          .input("file", sql.NVarChar(200), m.file)
          .input("checksum", sql.Char(64), m.checksum)
          .batch(RECORD[m.kind]);
        await tx.commit();
      } catch (err) {
        await tx.rollback().catch(() => {});
        if (at) {
          const line = at.line + Number((err as { lineNumber?: number }).lineNumber ?? 1) - 1;
          Object.assign(err as object, { migrationWhere: ` in the batch starting at line ${line}` });
        }
        throw err;
      }
    },
  };
}

const LOCK_WAIT_MS = 60_000;

/** Applies database/mssql migrations (numbered, then repeatable); a no-op when there are none pending. */
export async function migrateMssql(c: MssqlStoreConfig, dir: string = databaseDir("mssql")): Promise<MigrationReport> {
  const settings = buildMssqlSettings(c, { poolSize: 1, applicationName: "coupons-migrate" });
  // One connection for the whole run: the application lock belongs to its session.
  const pool = new sql.ConnectionPool({
    ...settings.config,
    requestTimeout: 300_000,
    pool: { max: 1, min: 1, idleTimeoutMillis: 600_000 },
  });
  pool.on("error", () => {});
  try {
    await pool.connect();
  } catch (err) {
    throw mapMssqlError(err);
  }
  try {
    const lock = await pool
      .request()
      .input("wait", sql.Int, LOCK_WAIT_MS)
      .query<{ rc: number }>(
        "DECLARE @rc int; EXEC @rc = sys.sp_getapplock @Resource = N'coupons.migrate', @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = @wait; SELECT @rc AS rc;",
      );
    if ((lock.recordset[0]?.rc ?? -1) < 0) {
      throw new StoreError(
        "MIGRATION",
        `another migrator has held ${settings.database} for ${LOCK_WAIT_MS / 1000}s; wait for it to finish and run migrate again`,
      );
    }
    await pool.request().batch(MIGRATIONS_TABLE_MSSQL);
    return await runMigrations(mssqlTarget(pool), dir);
  } catch (err) {
    throw mapMssqlError(err);
  } finally {
    await pool
      .request()
      .batch(
        "IF APPLOCK_MODE('public', N'coupons.migrate', 'Session') <> 'NoLock' EXEC sys.sp_releaseapplock @Resource = N'coupons.migrate', @LockOwner = 'Session';",
      )
      .catch(() => {});
    await pool.close().catch(() => {});
  }
}
