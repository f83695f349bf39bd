// Numbered SQL migrations (database/<dialect>/NNNN_name.sql): each applied once, in order, in its
// own transaction, recorded with its checksum. A changed file that was applied already, or a
// database that has versions this checkout does not know, is refused before anything runs.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StoreError } from "./contract.ts";

export type Migration = { version: number; name: string; file: string; sql: string; checksum: string };
export type AppliedMigration = { version: number; name: string; checksum: string };
export type MigrationReport = { applied: Migration[]; alreadyApplied: number };

/** The repository's database/ folder, from src/ and from dist/ alike. */
export function databaseDir(dialect: "postgres" | "mssql"): string {
  return fileURLToPath(new URL(`../../../database/${dialect}/`, import.meta.url));
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE_PATTERN.exec(file);
    if (!m) continue; // not a migration (e.g. optional scripts kept beside them)
    const sql = readFileSync(`${dir}/${file}`, "utf8").replace(/\r\n/g, "\n");
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) {
      throw new StoreError("MIGRATION", `two migration files have version ${m[1]} in ${dir}; give each change its own number`);
    }
    out.push({ version, name: m[2] as string, file, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return out;
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
    if (local.checksum !== a.checksum) {
      throw new StoreError(
        "MIGRATION",
        `migration ${local.file} was changed after it was applied (checksum ${a.checksum.slice(0, 12)} in the database, ${local.checksum.slice(0, 12)} on disk); put the change in a new numbered file instead`,
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return available.filter((m) => !done.has(m.version));
}

export const MIGRATIONS_TABLE_PG = `CREATE TABLE IF NOT EXISTS SchemaMigrations (
  Version int PRIMARY KEY, Name varchar(200) NOT NULL, Checksum char(64) NOT NULL,
  AppliedAt timestamptz NOT NULL DEFAULT now())`;
