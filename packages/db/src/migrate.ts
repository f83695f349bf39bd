// Migrations, one loop for every engine. Numbered files (database/<dialect>/NNNN_name.sql) change the
// schema: each applied once, in order, in its own transaction, recorded with its checksum in
// SchemaMigrations, and never edited (database/migrations.lock.json holds their checksums). A
// database that recorded a checksum the file has never had, or a version this checkout does not
// know, is refused before anything runs. Repeatable files (R__NNNN_name.sql) hold the current
// definition of every view, function and procedure with their grants: after the numbered files, in
// name order, each in its own transaction, recorded in SchemaRepeatables. They run on a fresh
// database, after any numbered migration was applied, and otherwise from the first file whose
// checksum differs from the recorded one onwards (a file may drop what a later one depends on).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StoreError } from "./contract.ts";

export type Migration = {
  kind: "numbered" | "repeatable";
  /** The file's number: a numbered file's version, a repeatable file's place in the order. */
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
  /** Numbered files: checksums the file had before the lock (database/migrations.lock.json). */
  earlier?: string[];
};
export type AppliedMigration = { version: number; name: string; checksum: string };
export type AppliedRepeatable = { file: string; checksum: string };
export type MigrationReport = {
  /** What this run applied: pending numbered files, then the repeatable files it (re-)applied. */
  applied: Migration[];
  /** Numbered files the database had before this run. */
  alreadyApplied: number;
  /** Repeatable files left as they were (unchanged, and nothing before them re-applied). */
  unchangedRepeatables: number;
};

/** The repeatable file name pattern; numbered files are NNNN_name.sql. */
const NUMBERED = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const REPEATABLE = /^R__(\d{4})_([a-z0-9_]+)\.sql$/;

/** The repository's database/ folder, from src/ and from dist/ alike. */
export function databaseDir(dialect: "postgres" | "mssql"): string {
  return fileURLToPath(new URL(`../../../database/${dialect}/`, import.meta.url));
}

type LockEntry = { sha256: string; earlier?: string[] };
export type MigrationLock = Record<string, Record<string, LockEntry>>;

/** The lock beside a dialect folder (database/migrations.lock.json), or undefined when there is none. */
export function readLock(dir: string): Record<string, LockEntry> | undefined {
  const path = join(dirname(dir.replace(/[\\/]+$/, "")), "migrations.lock.json");
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, "utf8")) as MigrationLock)[basename(dir.replace(/[\\/]+$/, ""))];
}

/** The SHA-256 of a script as the migrator records it (line ends read as LF). */
export function checksumOf(text: string): string {
  return createHash("sha256").update(text.replace(/\r\n/g, "\n")).digest("hex");
}

function readScripts(dir: string, pattern: RegExp, kind: Migration["kind"]): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = pattern.exec(file);
    if (!m) continue; // not this kind (e.g. optional scripts kept beside them)
    const sql = readFileSync(join(dir, file), "utf8").replace(/\r\n/g, "\n");
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) {
      const what = kind === "numbered" ? "migration files have version" : "repeatable files have number";
      throw new StoreError("MIGRATION", `two ${what} ${m[1]} in ${dir}; give each change its own number`);
    }
    out.push({ kind, version, name: m[2] as string, file, sql, checksum: checksumOf(sql) });
  }
  return out;
}

/** The numbered files of a dialect folder, in order, with their earlier checksums from the lock. */
export function readMigrations(dir: string): Migration[] {
  const lock = readLock(dir);
  return readScripts(dir, NUMBERED, "numbered").map((m) => ({ ...m, earlier: lock?.[m.file]?.earlier ?? [] }));
}

/** The repeatable files of a dialect folder, in name order. */
export function readRepeatables(dir: string): Migration[] {
  return readScripts(dir, REPEATABLE, "repeatable");
}

/** What to apply, or a refusal naming the file that changed or the version that is unknown. */
export function planMigrations(available: Migration[], applied: AppliedMigration[]): Migration[] {
  const byVersion = new Map(available.map((m) => [m.version, m]));
  for (const a of applied) {
    const local = byVersion.get(a.version);
    if (!local) {
      throw new StoreError(
        "MIGRATION",
        `the database has migration ${a.version} (${a.name}) that this checkout does not have; it was migrated by a newer version, so update this checkout instead of migrating`,
      );
    }
    if (local.checksum !== a.checksum && !local.earlier?.includes(a.checksum)) {
      throw new StoreError(
        "MIGRATION",
        `migration ${local.file} was changed after it was applied (checksum ${a.checksum.slice(0, 12)} in the database, ${local.checksum.slice(0, 12)} on disk); put the change in a new numbered file instead`,
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return available.filter((m) => !done.has(m.version));
}

/** The repeatable files to apply: all after a numbered migration, else from the first changed one on. */
export function planRepeatables(available: Migration[], applied: AppliedRepeatable[], numberedApplied: boolean): Migration[] {
  if (numberedApplied) return available;
  const recorded = new Map(applied.map((a) => [a.file, a.checksum]));
  const first = available.findIndex((r) => recorded.get(r.file) !== r.checksum);
  return first < 0 ? [] : available.slice(first);
}

/** What the loop needs of an engine: its records, and one script applied and recorded in one transaction. */
export type MigrationTarget = {
  applied(): Promise<{ numbered: AppliedMigration[]; repeatable: AppliedRepeatable[] }>;
  /** Runs the script and records it in one transaction; rolls back and throws on failure. An error
   *  may carry `migrationWhere` (e.g. " in the batch starting at line 12") for the message. */
  apply(m: Migration): Promise<void>;
};

/** Plans and applies a dialect folder's numbered, then repeatable, files on one target. */
export async function runMigrations(target: MigrationTarget, dir: string): Promise<MigrationReport> {
  const available = readMigrations(dir);
  const repeatables = readRepeatables(dir);
  const recorded = await target.applied();
  const pending = planMigrations(available, recorded.numbered);
  const again = planRepeatables(repeatables, recorded.repeatable, pending.length > 0);
  for (const m of [...pending, ...again]) {
    try {
      await target.apply(m);
    } catch (err) {
      const where = (err as { migrationWhere?: string }).migrationWhere ?? "";
      const what = m.kind === "numbered" ? "migration" : "repeatable migration";
      throw new StoreError("MIGRATION", `${what} ${m.file} failed${where} and was rolled back: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return {
    applied: [...pending, ...again],
    alreadyApplied: available.length - pending.length,
    unchangedRepeatables: repeatables.length - again.length,
  };
}

// ---- the PostgreSQL family (pg and PGlite): one session, statements in a transaction of its own

export const MIGRATIONS_TABLE_PG = `CREATE TABLE IF NOT EXISTS SchemaMigrations (
  Version int PRIMARY KEY, Name varchar(200) NOT NULL, Checksum char(64) NOT NULL,
  AppliedAt timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS SchemaRepeatables (
  File varchar(200) PRIMARY KEY, Checksum char(64) NOT NULL, AppliedAt timestamptz NOT NULL DEFAULT now())`;

/** A PostgreSQL session: `exec` runs a script of many statements, `query` one with parameters. */
export type PgSession = {
  exec(script: string): Promise<unknown>;
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
};

/** The migration target of a PostgreSQL session (the caller holds whatever lock it needs). */
export async function pgMigrationTarget(session: PgSession): Promise<MigrationTarget> {
  await session.exec(MIGRATIONS_TABLE_PG);
  return {
    async applied() {
      const numbered = await session.query<AppliedMigration>(
        "SELECT Version AS version, Name AS name, Checksum AS checksum FROM SchemaMigrations ORDER BY Version",
      );
      const repeatable = await session.query<AppliedRepeatable>("SELECT File AS file, Checksum AS checksum FROM SchemaRepeatables");
      return { numbered: numbered.rows, repeatable: repeatable.rows };
    },
    async apply(m) {
      try {
        await session.exec("BEGIN");
        await session.exec(m.sql);
        if (m.kind === "numbered") {
          await session.query("INSERT INTO SchemaMigrations (Version, Name, Checksum) VALUES ($1,$2,$3)", [m.version, m.name, m.checksum]);
        } else {
          await session.query(
            "INSERT INTO SchemaRepeatables (File, Checksum) VALUES ($1,$2) ON CONFLICT (File) DO UPDATE SET Checksum = EXCLUDED.Checksum, AppliedAt = now()",
            [m.file, m.checksum],
          );
        }
        await session.exec("COMMIT");
      } catch (err) {
        await session.exec("ROLLBACK").catch(() => {});
        throw err;
      }
    },
  };
}
