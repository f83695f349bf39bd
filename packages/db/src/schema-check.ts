// Is the database ready for this version of the code? Checked when a process opens a server store
// (openStore), so that a database that was never migrated, or migrated by an older version, is named
// as such ("run `coupons migrate`") instead of failing later on a missing procedure; and a database
// that does not exist gets its own message. The comparison: the numbered migrations recorded in
// SchemaMigrations against the files of database/<dialect> (the same plan `coupons migrate` makes), and
// at least one repeatable file recorded (the views and procedures). A login that may not read the
// records (the execute-only application role) cannot tell: the check then says nothing, and a missing
// procedure is still named NOT_MIGRATED when a call meets it (errors.ts, engines/mssql-errors.ts).
import { type AppliedMigration, databaseDir, planMigrations, readMigrations } from "./migrate.ts";
import { StoreError } from "./contract.ts";
import { redact } from "./config.ts";
import { MIGRATE_HINT } from "./errors.ts";

/** What a check that did not refuse found: the schema is current, this login may not read the
 *  records (it stays so: the execute-only role), or the server could not be asked (try again later). */
export type SchemaCheck = "current" | "unreadable" | "unreachable";

export type SchemaRecords = { numbered: AppliedMigration[]; repeatables: number } | null;

/** The problem with a database's records (null: none was ever made), or null when it is current. */
export function schemaProblem(records: SchemaRecords, dir: string, where: string): StoreError | null {
  const available = readMigrations(dir);
  if (records === null || (records.numbered.length === 0 && records.repeatables === 0)) {
    return new StoreError("NOT_MIGRATED", `${where} has no schema (it was never migrated); ${MIGRATE_HINT}`);
  }
  const pending = planMigrations(available, records.numbered); // MIGRATION: a newer or changed schema
  if (pending.length > 0) {
    return new StoreError(
      "NOT_MIGRATED",
      `${where} is not migrated to this version: ${available.length - pending.length} of ${available.length} migrations applied, ${pending.map((m) => m.file).join(", ")} pending; ${MIGRATE_HINT}`,
    );
  }
  if (records.repeatables === 0) {
    return new StoreError("NOT_MIGRATED", `${where} has its tables but no views or procedures; ${MIGRATE_HINT}`);
  }
  return null;
}

/** The message for a PostgreSQL database that does not exist (SQLSTATE 3D000). */
export function missingDatabase(url: string, cause?: unknown): StoreError {
  let name = "(unnamed)";
  let host = "the server";
  try {
    const u = new URL(url);
    name = decodeURIComponent(u.pathname.replace(/^\//, "")) || name;
    host = u.host || host;
  } catch {
    // a URL the driver understood but URL() does not: say less
  }
  return new StoreError(
    "NO_DATABASE",
    `database "${name}" does not exist on ${host}: create it (createdb ${name}, or CREATE DATABASE ${name}) or fix the database URL (${redact(url)}); then ${MIGRATE_HINT}`,
    { cause, expose: true },
  );
}

/** Checks a PostgreSQL database (one short connection of its own); throws NOT_MIGRATED, NO_DATABASE or
 *  MIGRATION (newer or changed schema). Returns quietly when current, and when it cannot tell: this
 *  login may not read the records, or the server cannot be reached or refuses the login (the store's
 *  own calls report that, as they did without the check). */
export async function checkPostgresSchema(url: string, dir: string = databaseDir("postgres")): Promise<SchemaCheck> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, application_name: "coupons-schema-check", connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code === "3D000") throw missingDatabase(url, err);
    await client.end().catch(() => {});
    return "unreachable";
  }
  let records: SchemaRecords;
  try {
    const tables = await client.query<{ m: string | null; r: string | null }>(
      "SELECT to_regclass('schemamigrations')::text AS m, to_regclass('schemarepeatables')::text AS r",
    );
    const { m, r } = tables.rows[0] ?? { m: null, r: null };
    if (!m) records = null;
    else {
      const numbered = await client.query<AppliedMigration>(
        "SELECT Version AS version, Name AS name, Checksum AS checksum FROM SchemaMigrations ORDER BY Version",
      );
      const repeatables = r ? (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM SchemaRepeatables")).rows[0]?.n : 0;
      records = { numbered: numbered.rows, repeatables: repeatables ?? 0 };
    }
  } catch (err) {
    // the execute-only role may not read the records (42501), or the connection broke: cannot tell
    return (err as { code?: string }).code === "42501" ? "unreadable" : "unreachable";
  } finally {
    await client.end().catch(() => {});
  }
  const problem = schemaProblem(records, dir, `the database ${databaseName(url)}`);
  if (problem) throw problem;
  return "current";
}

function databaseName(url: string): string {
  try {
    return `"${decodeURIComponent(new URL(url).pathname.replace(/^\//, ""))}"`;
  } catch {
    return "(its URL)";
  }
}
