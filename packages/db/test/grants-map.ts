// The procedure -> roles map of database/<dialect>/R__0900_grants.sql, read from the files, and the
// checks that keep it whole: every sp_ procedure of either dialect has a line, the two dialects'
// lines agree, every line names a procedure that exists and only the three process roles. Each
// problem says what to change, down to the line to add (grants-map.test.ts runs them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { databaseDir, readRepeatables } from "../src/migrate.ts";

export const ROLES = ["coupon_api", "coupon_generator", "coupon_ops"] as const;
export type Role = (typeof ROLES)[number];
export type Dialect = "postgres" | "mssql";
/** Procedure name (as written in the map) -> its roles, in the map's order. */
export type GrantsMap = Map<string, string[]>;

export const GRANTS_FILE = "R__0900_grants.sql";

/** The map's lines in one dialect's text: 'sp_X roles', (PostgreSQL) or (N'sp_X roles') (T-SQL). */
export function parseGrants(sql: string, dialect: Dialect): { map: GrantsMap; twice: string[] } {
  const line =
    dialect === "postgres" ? /^\s*'(sp_\w+)((?:[ \t]+\w+)*)[ \t]*',?[ \t]*$/gm : /^\s*\(N'(sp_\w+)((?:[ \t]+\w+)*)[ \t]*'\)[,;]?[ \t]*$/gm;
  const map: GrantsMap = new Map();
  const twice: string[] = [];
  for (const m of sql.matchAll(line)) {
    const name = m[1] as string;
    if ([...map.keys()].some((k) => k.toLowerCase() === name.toLowerCase())) twice.push(name);
    map.set(name, (m[2] ?? "").trim().split(/\s+/).filter(Boolean));
  }
  return { map, twice };
}

/** The sp_ procedures a dialect's repeatable files define (the numbered files' are all redefined there). */
export function definedProcedures(repeatablesSql: string, dialect: Dialect): string[] {
  const re = dialect === "postgres" ? /CREATE OR REPLACE FUNCTION (sp_\w+)\s*\(/g : /CREATE OR ALTER PROCEDURE dbo\.(sp_\w+)/g;
  return [...new Set([...repeatablesSql.matchAll(re)].map((m) => m[1] as string))];
}

/** The line to add for a procedure in a dialect's map file, as it must be written there. */
export function lineFor(dialect: Dialect, procedure: string, roles: string): string {
  const body = `${procedure.padEnd(32)} ${roles}`;
  return dialect === "postgres" ? `    '${body}',` : `    (N'${body}'),`;
}

export type DialectFiles = { grants: string; repeatables: string };

/** Every problem of the two maps, each naming the file and what to change. */
export function grantsMapProblems(files: Record<Dialect, DialectFiles>): string[] {
  const problems: string[] = [];
  const parsed = {
    postgres: parseGrants(files.postgres.grants, "postgres"),
    mssql: parseGrants(files.mssql.grants, "mssql"),
  };
  const lower = (m: GrantsMap) => new Map([...m].map(([k, v]) => [k.toLowerCase(), v]));
  const file = (d: Dialect) => `database/${d}/${GRANTS_FILE}`;
  for (const d of ["postgres", "mssql"] as const) {
    const { map, twice } = parsed[d];
    for (const name of twice) problems.push(`${file(d)}: ${name} has two lines; keep one`);
    const mapped = lower(map);
    const defined = definedProcedures(files[d].repeatables, d);
    for (const p of defined) {
      if (mapped.has(p.toLowerCase())) continue;
      problems.push(
        `${file(d)}: procedure ${p} has no line; add\n${lineFor(d, p, "<roles>")}\n` +
          `  where <roles> are those of coupon_api, coupon_generator, coupon_ops whose process calls it (none: no role may), and the same line to ${file(d === "postgres" ? "mssql" : "postgres")}`,
      );
    }
    const definedLower = new Set(defined.map((p) => p.toLowerCase()));
    for (const [name, roles] of map) {
      if (!definedLower.has(name.toLowerCase()))
        problems.push(`${file(d)}: the line of ${name} names a procedure no repeatable file defines; remove it`);
      for (const r of roles)
        if (!(ROLES as readonly string[]).includes(r))
          problems.push(`${file(d)}: the line of ${name} names ${r}, which is not one of ${ROLES.join(", ")}`);
    }
  }
  const pg = lower(parsed.postgres.map);
  const ms = lower(parsed.mssql.map);
  for (const [name, roles] of parsed.postgres.map) {
    const twin = ms.get(name.toLowerCase());
    if (twin && [...twin].sort().join(" ") !== [...roles].sort().join(" "))
      problems.push(
        `the two maps differ on ${name}: ${file("postgres")} grants [${roles.join(" ")}], ${file("mssql")} [${twin.join(" ")}]; make them the same`,
      );
    if (!twin && pg.has(name.toLowerCase()))
      problems.push(`${file("mssql")}: ${name} is in the PostgreSQL map but not here; add\n${lineFor("mssql", name, roles.join(" "))}`);
  }
  for (const [name, roles] of parsed.mssql.map)
    if (!pg.has(name.toLowerCase()))
      problems.push(`${file("postgres")}: ${name} is in the T-SQL map but not here; add\n${lineFor("postgres", name, roles.join(" "))}`);
  return problems;
}

/** The repository's files, as grantsMapProblems reads them. */
export function repositoryGrantFiles(): Record<Dialect, DialectFiles> {
  const read = (d: Dialect): DialectFiles => ({
    grants: readFileSync(join(databaseDir(d), GRANTS_FILE), "utf8"),
    repeatables: readRepeatables(databaseDir(d))
      .map((r) => r.sql)
      .join("\n"),
  });
  return { postgres: read("postgres"), mssql: read("mssql") };
}

/** The roles that may EXECUTE a procedure, by the repository's PostgreSQL map (case-insensitive). */
export function rolesOf(map: GrantsMap, procedure: string): string[] {
  return [...map].find(([k]) => k.toLowerCase() === procedure.toLowerCase())?.[1] ?? [];
}
