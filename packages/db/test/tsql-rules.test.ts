// (Over 350 lines on purpose: each project rule with its broken copy beside it reads best in one file.)
// Offline checks of the T-SQL that no SQL Server runs here, beside the ANTLR grammar of
// tsql-grammar.test.ts: a second parser (sqlfluff, tsql dialect: tsql-sqlfluff.ts), and the project's
// own rules that no parser can know. Each rule is a function of the files' text, run on the
// repository and on a deliberately broken copy held in memory, where it must find the fault.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { databaseDir } from "../src/migrate.ts";
import { type SqlFile, sqlFilesUnder, sqlfluffSuite } from "./tsql-sqlfluff.ts";

type Corpus = { tsql: SqlFile[]; pg: SqlFile[]; ownNumbers: string; ownStates: string };

const SRC = new URL("../src/", import.meta.url);

function repositoryCorpus(): Corpus {
  return {
    tsql: sqlFilesUnder(databaseDir("mssql")),
    pg: sqlFilesUnder(databaseDir("postgres")),
    ownNumbers: readFileSync(new URL("engines/mssql-errors.ts", SRC), "utf8"),
    ownStates: readFileSync(new URL("errors.ts", SRC), "utf8"),
  };
}

/** The text with comments and string contents blanked out (same length, so offsets keep their lines). */
function code(sql: string, keepStrings = false): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|N?'(?:[^']|'')*'|\$\$/g, (m) =>
    m.startsWith("--") || m.startsWith("/*") ? " ".repeat(m.length) : keepStrings || m === "$$" ? m : `'${" ".repeat(m.length - 2)}'`,
  );
}
const lineAt = (sql: string, index: number) => sql.slice(0, index).split("\n").length;
const isNumbered = (f: SqlFile) => /^\d{4}_.*\.sql$/.test(f.file);

const CREATES_CODE = /\bCREATE\s+(?:OR\s+ALTER\s+)?(PROC|PROCEDURE|VIEW|FUNCTION|TRIGGER)\s+(?:dbo\.)?(\w+)/gi;

/** The objects the repeatable files create: their definitions replace the numbered files' ones. */
function recreatedObjects(files: SqlFile[]): Set<string> {
  const repeatable = files.filter((f) => /(^|\/)R__/.test(f.file));
  return new Set(repeatable.flatMap((f) => [...code(f.sql).matchAll(CREATES_CODE)].map((m) => (m[2] ?? "").toLowerCase())));
}

/** Whether the text at `index` of a numbered (frozen) file is inside an object a repeatable file
 *  creates again: what runs on the server is then the repeatable file's definition. */
function superseded(f: SqlFile, index: number, recreated: Set<string>): boolean {
  if (!isNumbered(f)) return false;
  const batchStart = Math.max(0, code(f.sql).lastIndexOf("\nGO", index));
  const owner = [...code(f.sql).slice(batchStart, index).matchAll(CREATES_CODE)].at(-1)?.[2];
  return owner !== undefined && recreated.has(owner.toLowerCase());
}

/** Rule: JSON_QUERY of a literal that is not an object or array. In lax mode it returns NULL, and
 *  JSON_MODIFY with a NULL value deletes the key (a replay lost `replayed: true` so). A frozen
 *  numbered file passes where a repeatable file defines the object again. */
export function jsonQueryScalarProblems(files: SqlFile[]): string[] {
  const recreated = recreatedObjects(files);
  return files.flatMap((f) =>
    [...code(f.sql, true).matchAll(/JSON_QUERY\s*\(\s*N?'((?:[^']|'')*)'\s*\)/gi)]
      .filter((m) => !/^\s*[[{]/.test(m[1] ?? "") && !superseded(f, m.index, recreated))
      .map(
        (m) =>
          `${f.file}:${lineAt(f.sql, m.index)}: JSON_QUERY of the scalar ${m[1]} is NULL in lax mode; use CAST(1 AS bit) / a typed value`,
      ),
  );
}

const collationOf = (c: string | undefined) => c ?? "DATABASE_DEFAULT";

/** Rule: every partition function's parameter has the collation of every column partitioned by it
 *  (else CREATE INDEX ... ON scheme(column) fails with 7726, or boundaries compare differently). */
export function partitionCollationProblems(files: SqlFile[]): string[] {
  const all = files.map((f) => ({ ...f, text: code(f.sql, true) }));
  const columns = new Map<string, string>(); // "Table.Column" -> collation
  for (const f of all) {
    for (const t of f.text.matchAll(/CREATE\s+TABLE\s+(?:dbo\.)?(\w+)\s*\(([\s\S]*?)\n\);/gi)) {
      for (const c of (t[2] ?? "").matchAll(/^\s*(\w+)\s+n?(?:var)?char\s*\([^)]*\)\s*(?:COLLATE\s+(\w+))?/gim)) {
        columns.set(`${t[1]}.${c[1]}`.toLowerCase(), collationOf(c[2]));
      }
    }
  }
  const functions = new Map<string, { collation: string; where: string }>();
  const schemes = new Map<string, string>();
  for (const f of all) {
    for (const m of f.text.matchAll(/CREATE\s+PARTITION\s+FUNCTION\s+(\w+)\s*\(\s*\w+\s*(?:\([^)]*\))?\s*(?:COLLATE\s+(\w+))?\s*\)/gi)) {
      functions.set((m[1] ?? "").toLowerCase(), { collation: collationOf(m[2]), where: `${f.file}:${lineAt(f.sql, m.index)}` });
    }
    for (const m of f.text.matchAll(/CREATE\s+PARTITION\s+SCHEME\s+(\w+)\s+AS\s+PARTITION\s+(\w+)/gi)) {
      schemes.set((m[1] ?? "").toLowerCase(), (m[2] ?? "").toLowerCase());
    }
  }
  const problems: string[] = [];
  for (const f of all) {
    for (const m of f.text.matchAll(/\bON\s+(\w+)\s*\(\s*(\w+)\s*\)/gi)) {
      const fn = schemes.get((m[1] ?? "").toLowerCase());
      if (!fn) continue;
      const statement = f.text.slice(Math.max(f.text.lastIndexOf(";", m.index), f.text.lastIndexOf("\nGO", m.index), 0), m.index);
      const table = [...statement.matchAll(/\b(?:dbo\.)(\w+)/gi)].at(-1)?.[1];
      const where = `${f.file}:${lineAt(f.sql, m.index)}`;
      const column = columns.get(`${table}.${m[2]}`.toLowerCase());
      const func = functions.get(fn);
      if (!func || column === undefined) {
        problems.push(`${where}: cannot find ${func ? `the column ${table}.${m[2]}` : `the partition function ${fn}`}`);
      } else if (func.collation.toLowerCase() !== column.toLowerCase()) {
        problems.push(
          `${where}: ${table}.${m[2]} is ${column} but partition function ${fn} (${func.where}) takes ${func.collation}; give the parameter the column's collation`,
        );
      }
    }
  }
  return problems;
}

/** Rule: a file that creates procedures, views or functions sets ANSI_NULLS and QUOTED_IDENTIFIER ON
 *  before the first of them (a procedure keeps both from its CREATE; sqlcmd has QUOTED_IDENTIFIER
 *  OFF unless -I, and then writes through filtered indexes fail with 1934) and never turns them off.
 *  Numbered migrations are frozen: they pass only if every object they create is created again by a
 *  repeatable file, which has the header. */
export function setHeaderProblems(files: SqlFile[]): string[] {
  const recreated = recreatedObjects(files);
  const problems: string[] = [];
  for (const f of files) {
    const text = code(f.sql);
    const creates = [...text.matchAll(CREATES_CODE)];
    const first = creates[0];
    if (!first) continue;
    if (isNumbered(f)) {
      for (const c of creates.filter((c) => !recreated.has((c[2] ?? "").toLowerCase()))) {
        problems.push(
          `${f.file}:${lineAt(f.sql, c.index)}: ${c[2]} is created only by a numbered file, which has no SET header; define it in a repeatable file`,
        );
      }
      continue;
    }
    const before = text.slice(0, first.index);
    for (const option of ["ANSI_NULLS", "QUOTED_IDENTIFIER"]) {
      if (!new RegExp(`\\bSET\\s+${option}\\s+ON\\b`, "i").test(before)) {
        problems.push(
          `${f.file}:${lineAt(f.sql, first.index)}: SET ${option} ON must come before the first CREATE ${first[1]?.toUpperCase()}`,
        );
      }
      const off = new RegExp(`\\bSET\\s+${option}\\s+OFF\\b`, "i").exec(text);
      if (off) problems.push(`${f.file}:${lineAt(f.sql, off.index)}: SET ${option} OFF`);
    }
  }
  return problems;
}

/** THROW numbers with no StoreError code: an internal invariant broken, surfaced as it is (the twin
 *  of PostgreSQL's XX000). */
const INTERNAL_NUMBERS = new Set([50500]);
/** SQLSTATEs with no T-SQL twin: CP503 asks sql-store.ts to call sp_RedeemCoupon again with p_Slow. */
const PG_ONLY_STATES = new Set(["CP503"]);

/** Rule: every THROW number of the T-SQL is in OWN_NUMBERS (engines/mssql-errors.ts), every
 *  ERRCODE 'CPnnn' of the PostgreSQL in OWN_STATES (errors.ts), 50nnn and CPnnn are twins mapped to
 *  the same StoreError code, and each is raised in both dialects. */
export function throwMappingProblems(c: Corpus): string[] {
  const table = (src: string, name: string, key: string) =>
    new Map(
      [...(new RegExp(`const ${name}[^{]*\\{([^}]*)\\}`).exec(src)?.[1] ?? "").matchAll(new RegExp(`(${key}):\\s*"(\\w+)"`, "g"))].map(
        (m) => [m[1] ?? "", m[2] ?? ""],
      ),
    );
  const numbers = table(c.ownNumbers, "OWN_NUMBERS", "\\d+");
  const states = table(c.ownStates, "OWN_STATES", "CP\\d+");
  const problems: string[] = [];
  const thrown = new Map<string, string>();
  for (const f of c.tsql) {
    for (const m of code(f.sql).matchAll(/\bTHROW\s+(\d+)/gi)) {
      const n = m[1] ?? "";
      const where = `${f.file}:${lineAt(f.sql, m.index)}`;
      if (!thrown.has(n)) thrown.set(n, where);
      if (!numbers.has(n) && !INTERNAL_NUMBERS.has(Number(n)))
        problems.push(`${where}: THROW ${n} is not in OWN_NUMBERS (engines/mssql-errors.ts)`);
    }
  }
  const raised = new Map<string, string>();
  for (const f of c.pg) {
    for (const m of f.sql.replace(/--[^\n]*/g, (x) => " ".repeat(x.length)).matchAll(/ERRCODE\s*=\s*'(CP\d+)'/g)) {
      const s = m[1] ?? "";
      const where = `${f.file}:${lineAt(f.sql, m.index)}`;
      if (!raised.has(s)) raised.set(s, where);
      if (!states.has(s) && !PG_ONLY_STATES.has(s)) problems.push(`${where}: ERRCODE ${s} is not in OWN_STATES (errors.ts)`);
    }
  }
  for (const [n, code] of numbers) {
    const twin = `CP${Number(n) - 50000}`;
    if (states.get(twin) !== code) problems.push(`OWN_NUMBERS ${n} is ${code} but OWN_STATES ${twin} is ${states.get(twin) ?? "missing"}`);
  }
  for (const [s, code] of states) {
    const twin = String(50000 + Number(s.slice(2)));
    if (numbers.get(twin) !== code)
      problems.push(`OWN_STATES ${s} is ${code} but OWN_NUMBERS ${twin} is ${numbers.get(twin) ?? "missing"}`);
  }
  for (const [n, where] of thrown) {
    const twin = `CP${Number(n) - 50000}`;
    if (numbers.has(n) && !raised.has(twin)) problems.push(`${where}: THROW ${n} has no twin: no PostgreSQL file raises ${twin}`);
  }
  for (const [s, where] of raised) {
    const twin = String(50000 + Number(s.slice(2)));
    if (states.has(s) && !thrown.has(twin)) problems.push(`${where}: ${s} has no twin: no T-SQL file throws ${twin}`);
  }
  return problems;
}

type Param = { name: string; type: string };
type Signature = { params: Param[]; where: string };

/** The parameters PostgreSQL has and T-SQL does not, each with its reason. */
const PG_ONLY_PARAMS: Record<string, string[]> = {
  // the slow path of the campaign budget: T-SQL rebalances in the same call (R__0300_redemption.sql)
  sp_redeemcoupon: ["slow"],
  fn_takecampaignunit: ["slow"],
};

/** Type classes that carry the same values between the dialects. A list is a JSON array in T-SQL. */
function typeClasses(type: string): string[] {
  const t = type.toLowerCase().replace(/\s+/g, " ").trim();
  if (t.endsWith("[]")) return ["json"];
  if (/^n?varchar\s*\(\s*max\s*\)$/.test(t)) return ["text", "json"];
  if (/^(n?(var)?char|text|character varying)\b/.test(t)) return ["text"];
  if (/^(json|jsonb)$/.test(t)) return ["json"];
  if (/^(int|integer|int4|smallint|int2|tinyint)$/.test(t)) return ["int"];
  if (/^(bigint|int8)$/.test(t)) return ["bigint"];
  if (/^(bit|boolean|bool)$/.test(t)) return ["bool"];
  if (/^(datetime2|datetimeoffset|timestamptz|timestamp with time zone)\b/.test(t)) return ["time"];
  if (/^(decimal|numeric)\b/.test(t)) return ["decimal"];
  if (/^uniqueidentifier|uuid$/.test(t)) return ["uuid"];
  return [t];
}

function tsqlSignatures(files: SqlFile[]): Map<string, Signature> {
  const out = new Map<string, Signature>();
  for (const f of files.filter((f) => !isNumbered(f))) {
    const text = code(f.sql);
    for (const m of text.matchAll(/CREATE\s+OR\s+ALTER\s+(PROCEDURE|FUNCTION)\s+dbo\.(\w+)([\s\S]*?)\b(AS|RETURNS)\b/gi)) {
      const params = [...(m[3] ?? "").matchAll(/@(\w+)\s+(\w+(?:\s*\([^)]*\))?)([^,@]*)/g)]
        .filter((p) => !/\bOUT(PUT)?\b/i.test(p[3] ?? ""))
        .map((p) => ({ name: (p[1] ?? "").toLowerCase(), type: p[2] ?? "" }));
      out.set((m[2] ?? "").toLowerCase(), { params, where: `${f.file}:${lineAt(f.sql, m.index)}` });
    }
  }
  return out;
}

function pgSignatures(files: SqlFile[]): Map<string, Signature> {
  const out = new Map<string, Signature>();
  for (const f of files.filter((f) => !isNumbered(f))) {
    const text = code(f.sql);
    for (const m of text.matchAll(/CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(\w+)\s*\(/gi)) {
      let depth = 1;
      let i = (m.index ?? 0) + m[0].length;
      const start = i;
      for (; i < text.length && depth > 0; i++) depth += text[i] === "(" ? 1 : text[i] === ")" ? -1 : 0;
      const list = text.slice(start, i - 1);
      const parts: string[] = [];
      let d = 0;
      let cur = "";
      for (const ch of list) {
        if (ch === "," && d === 0) {
          parts.push(cur);
          cur = "";
          continue;
        }
        d += ch === "(" ? 1 : ch === ")" ? -1 : 0;
        cur += ch;
      }
      if (cur.trim()) parts.push(cur);
      const params = parts
        .map((p) => p.trim())
        .filter((p) => !/^(OUT|INOUT)\s/i.test(p))
        .map((p) => /^(?:IN\s+)?p_(\w+)\s+(.+?)(?:\s+DEFAULT\s+.*)?$/is.exec(p))
        .filter((p): p is RegExpExecArray => p !== null)
        .map((p) => ({ name: (p[1] ?? "").toLowerCase(), type: p[2] ?? "" }));
      out.set((m[1] ?? "").toLowerCase(), { params, where: `${f.file}:${lineAt(f.sql, m.index)}` });
    }
  }
  return out;
}

/** Rule: every procedure that exists in both dialects has the same parameters, in the same order,
 *  with compatible types (the object lists themselves are compared by tsql-grammar.test.ts). */
export function twinParameterProblems(tsql: SqlFile[], pg: SqlFile[]): string[] {
  const ms = tsqlSignatures(tsql);
  const ps = pgSignatures(pg);
  const problems: string[] = [];
  for (const [name, m] of ms) {
    const p = ps.get(name);
    if (!p) continue;
    const pgParams = p.params.filter((x) => !(PG_ONLY_PARAMS[name] ?? []).includes(x.name));
    const show = (xs: Param[]) => xs.map((x) => `${x.name} ${x.type}`).join(", ");
    if (m.params.map((x) => x.name).join() !== pgParams.map((x) => x.name).join()) {
      problems.push(`${name}: T-SQL (${m.where}) takes (${show(m.params)}), PostgreSQL (${p.where}) takes (${show(pgParams)})`);
      continue;
    }
    m.params.forEach((x, i) => {
      const y = pgParams[i] as Param;
      if (!typeClasses(x.type).some((c) => typeClasses(y.type).includes(c))) {
        problems.push(`${name}: parameter ${x.name} is ${x.type} in T-SQL (${m.where}) but ${y.type} in PostgreSQL (${p.where})`);
      }
    });
  }
  return problems;
}

const edit = (files: SqlFile[], file: string, from: string | RegExp, to: string): SqlFile[] =>
  files.map((f) => {
    if (f.file !== file) return f;
    const sql = f.sql.replace(from, to);
    if (sql === f.sql) throw new Error(`the broken copy did not change ${file}: ${from} not found`);
    return { ...f, sql };
  });

describe("T-SQL project rules (tsql-rules.test.ts)", () => {
  const c = repositoryCorpus();

  it("reads the T-SQL and PostgreSQL files, procedures included", () => {
    expect(c.tsql.map((f) => f.file)).to.include.members(["R__0300_redemption.sql", "partitioning/01_partition_function_scheme.sql"]);
    expect(tsqlSignatures(c.tsql).size).to.be.greaterThan(20);
    expect(pgSignatures(c.pg).size).to.be.greaterThan(20);
  });

  describe("no JSON_QUERY of a scalar literal", () => {
    it("holds for database/mssql", () => expect(jsonQueryScalarProblems(c.tsql)).to.deep.equal([]));
    it("fails on a copy whose replay uses JSON_QUERY(N'true')", () => {
      const broken = edit(c.tsql, "R__0300_redemption.sql", "N'$.replayed', CAST(1 AS bit));", "N'$.replayed', JSON_QUERY(N'true'));");
      const problems = jsonQueryScalarProblems(broken);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^R__0300_redemption\.sql:\d+: JSON_QUERY of the scalar true/);
      expect(jsonQueryScalarProblems([{ file: "x.sql", sql: "SELECT JSON_QUERY(N'{\"a\":1}'), JSON_QUERY(@doc);" }])).to.deep.equal([]);
      // a frozen numbered file is let off only where a repeatable file defines the object again
      const numbered = [
        ...c.tsql,
        { file: "0099_new.sql", sql: "CREATE OR ALTER PROCEDURE dbo.sp_New AS SELECT JSON_QUERY(N'true');\nGO\n" },
      ];
      expect(jsonQueryScalarProblems(numbered)).to.deep.equal([
        "0099_new.sql:1: JSON_QUERY of the scalar true is NULL in lax mode; use CAST(1 AS bit) / a typed value",
      ]);
    });
  });

  describe("every partition function's parameter has its column's collation", () => {
    it("holds for database/mssql (Coupons.CampaignId and pf_CouponsByCampaign)", () => {
      expect(partitionCollationProblems(c.tsql)).to.deep.equal([]);
      expect(c.tsql.some((f) => /ON ps_CouponsByCampaign\(CampaignId\)/.test(f.sql))).to.equal(true);
    });
    it("fails on a copy whose partition function takes the database default", () => {
      const broken = edit(
        c.tsql,
        "partitioning/01_partition_function_scheme.sql",
        "(nvarchar(100) COLLATE Latin1_General_100_BIN2)",
        "(nvarchar(100))",
      );
      const problems = partitionCollationProblems(broken);
      expect(problems).to.not.be.empty;
      expect(problems[0]).to.match(
        /^partitioning\/02_partition_coupons\.sql:\d+: Coupons\.CampaignId is Latin1_General_100_BIN2 but partition function pf_couponsbycampaign .* takes DATABASE_DEFAULT/,
      );
    });
  });

  describe("SET ANSI_NULLS ON; SET QUOTED_IDENTIFIER ON; in every file that creates procedures", () => {
    it("holds for database/mssql", () => expect(setHeaderProblems(c.tsql)).to.deep.equal([]));
    it("fails on a copy without QUOTED_IDENTIFIER, and on one that turns it off", () => {
      const without = edit(c.tsql, "R__0400_generation.sql", "SET QUOTED_IDENTIFIER ON;", "");
      const problems = setHeaderProblems(without);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^R__0400_generation\.sql:\d+: SET QUOTED_IDENTIFIER ON must come before the first CREATE PROCEDURE$/);
      const off = edit(c.tsql, "R__0200_campaigns.sql", "GO\n", "GO\nSET QUOTED_IDENTIFIER OFF;\nGO\n");
      expect(setHeaderProblems(off)).to.have.length(1);
      expect(setHeaderProblems(off)[0]).to.match(/^R__0200_campaigns\.sql:\d+: SET QUOTED_IDENTIFIER OFF$/);
    });
    it("fails on a numbered file creating a procedure that no repeatable file creates again", () => {
      const broken = [...c.tsql, { file: "0099_new.sql", sql: "CREATE OR ALTER PROCEDURE dbo.sp_Only AS SELECT 1;\nGO\n" }];
      expect(setHeaderProblems(broken)).to.deep.equal([
        "0099_new.sql:1: sp_Only is created only by a numbered file, which has no SET header; define it in a repeatable file",
      ]);
    });
  });

  describe("every THROW number is mapped, and paired with its SQLSTATE twin", () => {
    it("holds for both dialects and the two error tables", () => expect(throwMappingProblems(c)).to.deep.equal([]));
    it("fails on a copy that throws an unmapped number", () => {
      const broken = { ...c, tsql: edit(c.tsql, "R__0300_redemption.sql", "THROW 50404", "THROW 50405") };
      const problems = throwMappingProblems(broken);
      expect(
        problems.some((p) => /^R__0300_redemption\.sql:\d+: THROW 50405 is not in OWN_NUMBERS/.test(p)),
        problems.join("\n"),
      ).to.equal(true);
    });
    it("fails on a copy whose SQLSTATE twin maps to another code, or is never raised", () => {
      const swapped = { ...c, ownStates: c.ownStates.replace('CP404: "NOT_FOUND"', 'CP404: "CONFLICT"') };
      expect(throwMappingProblems(swapped)).to.include.members([
        "OWN_NUMBERS 50404 is NOT_FOUND but OWN_STATES CP404 is CONFLICT",
        "OWN_STATES CP404 is CONFLICT but OWN_NUMBERS 50404 is NOT_FOUND",
      ]);
      const unraised = { ...c, pg: c.pg.map((f) => ({ ...f, sql: f.sql.replaceAll("'CP422'", "'CP400'") })) };
      expect(throwMappingProblems(unraised).some((p) => /THROW 50422 has no twin: no PostgreSQL file raises CP422/.test(p))).to.equal(true);
    });
  });

  describe("every procedure's twin takes the same parameters", () => {
    it("holds for the repeatable files of both dialects", () => expect(twinParameterProblems(c.tsql, c.pg)).to.deep.equal([]));
    it("fails on a copy with two parameters swapped, and on one with an incompatible type", () => {
      const swapped = edit(
        c.pg,
        "R__0300_redemption.sql",
        "sp_AssignCoupon(p_CouponCode text, p_UserId text)",
        "sp_AssignCoupon(p_UserId text, p_CouponCode text)",
      );
      expect(twinParameterProblems(c.tsql, swapped)).to.deep.equal([
        `sp_assigncoupon: T-SQL (${tsqlSignatures(c.tsql).get("sp_assigncoupon")?.where}) takes (couponcode nvarchar(200), userid nvarchar(4000)), PostgreSQL (${pgSignatures(swapped).get("sp_assigncoupon")?.where}) takes (userid text, couponcode text)`,
      ]);
      const retyped = edit(c.pg, "R__0300_redemption.sql", "p_UserId text, p_Limit int)", "p_UserId text, p_Limit boolean)");
      const problems = twinParameterProblems(c.tsql, retyped);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^sp_listredemptionattempts: parameter limit is int in T-SQL .* but boolean in PostgreSQL/);
    });
  });
});

sqlfluffSuite();
