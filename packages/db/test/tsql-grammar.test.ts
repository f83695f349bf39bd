// Every T-SQL file under database/mssql, checked on every test run although no SQL Server runs here:
// parsed by a real T-SQL grammar (antlr4ts-sql, antlr4ts pinned to 0.5.0-alpha.4), plus the rules
// that grammar does not enforce. A file that needs constructs the grammar lacks names them in a header
// line `-- grammar-lacks: <construct>, <construct>` (database/mssql/partitioning does): its batches
// that use one of them get a narrower check of our own instead; its other batches still go through
// the grammar.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import antlr from "antlr4ts-sql";
import { expect } from "chai";
import { splitBatches } from "../src/engines/mssql-migrate.ts";
import { databaseDir, readMigrations, readRepeatables } from "../src/migrate.ts";
import { GRANTS_FILE, parseGrants } from "./grants-map.ts";

const { antlr4tsSQL, SQLDialect } = antlr;
const MSSQL_DIR = databaseDir("mssql");
const ENGINE_DIR = new URL("../src/engines/", import.meta.url);

type Problem = { line: number; message: string };
type Token = { text: string; line: number };

function sqlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? sqlFiles(join(dir, f)) : f.endsWith(".sql") ? [join(dir, f)] : []))
    .sort();
}

/** Syntax errors of a script by the T-SQL grammar, with their lines. */
function grammarProblems(script: string): Problem[] {
  const problems: Problem[] = [];
  const listener = {
    syntaxError(_r: unknown, _s: unknown, line: number, col: number, msg: string) {
      // the grammar lists every token it expected; the first words say enough
      problems.push({ line, message: `${line}:${col} ${msg.replace(/ expecting \{.*$/s, " (unexpected here)")}` });
    },
  };
  const a = new antlr4tsSQL(SQLDialect.TSQL);
  a.getParseTree(a.getParser(a.getTokens(script, [listener]), [listener]));
  return problems;
}

/** Default-channel tokens (no comments, no whitespace) of a script, lines offset to the file. */
function tokensOf(script: string, firstLine = 1): Token[] {
  const a = new antlr4tsSQL(SQLDialect.TSQL);
  const stream = a.getTokens(script, []);
  stream.fill();
  return (
    stream
      .getTokens()
      .filter((t) => t.channel === 0 && t.type !== -1)
      // the case-changing input stream of antlr4ts-sql loses token text, so take it from the script
      .map((t) => ({ text: script.slice(t.startIndex, t.stopIndex + 1), line: t.line + firstLine - 1 }))
  );
}

const upper = (t: Token | undefined) => t?.text.toUpperCase();

/** The rules the grammar accepts either way but SQL Server does not. */
function ruleProblems(script: string): Problem[] {
  const problems: Problem[] = [];
  for (const batch of splitBatches(script)) {
    const tokens = tokensOf(batch.sql, batch.line);
    // THROW needs the statement before it terminated by ';' (else it can read as an alias).
    tokens.forEach((t, i) => {
      if (upper(t) !== "THROW") return;
      const prev = upper(tokens[i - 1]);
      if (prev !== ";" && prev !== "BEGIN" && prev !== "CATCH") {
        problems.push({ line: t.line, message: `${t.line}: THROW must follow ';' (the statement before it is not terminated)` });
      }
    });
    // CREATE PROCEDURE / VIEW / FUNCTION / TRIGGER must be the only statement of its batch.
    const creates = tokens.flatMap((t, i) => {
      if (upper(t) !== "CREATE") return [];
      const k = upper(tokens[i + 1]) === "OR" ? i + 3 : i + 1;
      return ["PROC", "PROCEDURE", "VIEW", "FUNCTION", "TRIGGER"].includes(upper(tokens[k]) ?? "") ? [{ at: i, line: t.line }] : [];
    });
    if (creates.length > 1) {
      for (const c of creates.slice(1))
        problems.push({ line: c.line, message: `${c.line}: a second CREATE PROCEDURE/VIEW/FUNCTION in one batch (add GO before it)` });
    }
    const first = creates[0];
    if (first && first.at !== 0)
      problems.push({
        line: first.line,
        message: `${first.line}: CREATE PROCEDURE/VIEW/FUNCTION must be the first statement of its batch`,
      });
  }
  return problems;
}

const squash = (text: string) => text.toUpperCase().replace(/\s+/g, " ");

/** The narrower check for a file that declares constructs the grammar lacks: each named construct
 *  must be used; a batch that uses one gets balanced parentheses checked; every other batch of the
 *  file is parsed by the grammar as usual, so the header exempts only what it names. */
function narrowProblems(script: string, constructs: string[]): Problem[] {
  const problems: Problem[] = [];
  const body = script.replace(/^--\s*grammar-lacks:.*$/m, "");
  for (const construct of constructs) {
    if (!squash(body).includes(squash(construct))) {
      problems.push({ line: 1, message: `1: the header names "${construct}" but the file does not use it; remove it from the header` });
    }
  }
  for (const batch of splitBatches(body)) {
    if (!constructs.some((c) => squash(batch.sql).includes(squash(c)))) {
      for (const p of grammarProblems(batch.sql)) {
        const line = p.line + batch.line - 1;
        problems.push({ line, message: p.message.replace(/^\d+:/, `${line}:`) });
      }
      continue;
    }
    const open: number[] = [];
    for (const t of tokensOf(batch.sql, batch.line)) {
      if (t.text === "(") open.push(t.line);
      if (t.text === ")" && open.pop() === undefined) problems.push({ line: t.line, message: `${t.line}: unbalanced ')'` });
    }
    for (const line of open) problems.push({ line, message: `${line}: unclosed '(' in the batch` });
  }
  return problems;
}

function checkScript(script: string): Problem[] {
  const lacks = /^--\s*grammar-lacks:\s*(.+)$/m.exec(script)?.[1]?.trim();
  const constructs = lacks
    ?.split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  return [...(constructs?.length ? narrowProblems(script, constructs) : grammarProblems(script)), ...ruleProblems(script)];
}

/** The text of every repeatable migration of a dialect: the current definition of every procedure. */
function repeatablesText(dialect: "postgres" | "mssql"): string {
  return readRepeatables(databaseDir(dialect))
    .map((m) => m.sql)
    .join("\n");
}

const messages = (ps: Problem[]) => ps.map((p) => p.message);

describe("T-SQL in database/mssql", function () {
  this.timeout(120_000);
  const files = sqlFiles(MSSQL_DIR);

  it("has the four numbered migrations and the managed identity script", () => {
    const names = files.map((f) => relative(MSSQL_DIR, f).replace(/\\/g, "/"));
    expect(names).to.include.members([
      "0001_schema.sql",
      "0002_views.sql",
      "0003_procedures.sql",
      "0004_security.sql",
      "security/add_managed_identity.sql",
    ]);
  });

  for (const file of files) {
    it(`${relative(MSSQL_DIR, file)} parses as T-SQL and keeps the batch rules`, () => {
      expect(messages(checkScript(readFileSync(file, "utf8")))).to.deep.equal([]);
    });
  }

  it("rejects a broken copy, naming the broken line", () => {
    const lines = readFileSync(join(MSSQL_DIR, "0002_views.sql"), "utf8").split("\n");
    const at = lines.findIndex((l) => l.trim() === "GROUP BY s.CampaignId;");
    expect(at).to.be.greaterThan(0);
    lines[at] = "GROUP s.CampaignId;";
    const problems = checkScript(lines.join("\n"));
    expect(problems, "the broken copy was accepted").to.not.be.empty;
    expect(problems[0]?.line).to.equal(at + 1);
  });

  it("rejects a THROW whose previous statement is not terminated, naming its line", () => {
    const script = "CREATE OR ALTER PROCEDURE dbo.p AS\nBEGIN\n    SELECT 1\n    THROW 50000, N'x', 1;\nEND;\nGO\n";
    expect(grammarProblems(script), "the grammar alone lets this through").to.deep.equal([]);
    expect(messages(ruleProblems(script))).to.deep.equal(["4: THROW must follow ';' (the statement before it is not terminated)"]);
  });

  it("rejects two procedures in one batch and a procedure that is not first in its batch", () => {
    const two = "CREATE OR ALTER PROCEDURE dbo.a AS SELECT 1;\nCREATE OR ALTER PROCEDURE dbo.b AS SELECT 2;\nGO\n";
    expect(messages(ruleProblems(two))).to.deep.equal(["2: a second CREATE PROCEDURE/VIEW/FUNCTION in one batch (add GO before it)"]);
    const late = "SET NOCOUNT ON;\nGO\nPRINT 'x';\nCREATE VIEW dbo.v AS SELECT 1 AS one;\nGO\n";
    expect(messages(ruleProblems(late))).to.deep.equal(["4: CREATE PROCEDURE/VIEW/FUNCTION must be the first statement of its batch"]);
  });

  it("checks a file that declares a construct the grammar lacks with the narrower rule instead", () => {
    const script = "-- grammar-lacks: DENY\nDENY SELECT ON SCHEMA::dbo TO coupon_app;\nGO\n";
    expect(grammarProblems(script), "the grammar rejects this valid T-SQL").to.not.be.empty;
    expect(messages(checkScript(script))).to.deep.equal([]);
    expect(messages(checkScript(script.replace("TO coupon_app;", "TO (coupon_app;")))).to.deep.equal(["2: unclosed '(' in the batch"]);
  });

  it("checks only the batches that use a construct named in the header narrowly; the others still parse", () => {
    const ok =
      "-- grammar-lacks: CREATE PARTITION FUNCTION\nCREATE PARTITION FUNCTION pf (int) AS RANGE RIGHT FOR VALUES (1, 2);\nGO\nSELECT 1 AS one;\nGO\n";
    expect(messages(checkScript(ok))).to.deep.equal([]);
    const broken = ok.replace("SELECT 1 AS one;", "SELEC 1 AS one;");
    const problems = checkScript(broken);
    expect(problems, "a broken batch without the construct was let through").to.not.be.empty;
    expect(problems[0]?.line).to.equal(4);
    const unused =
      "-- grammar-lacks: CREATE PARTITION FUNCTION, DENY\nCREATE PARTITION FUNCTION pf (int) AS RANGE RIGHT FOR VALUES (1);\nGO\n";
    expect(messages(checkScript(unused))).to.deep.equal([
      '1: the header names "DENY" but the file does not use it; remove it from the header',
    ]);
  });

  it("keeps the partitioning scripts out of the migrations, each naming what the grammar lacks", () => {
    const dir = join(MSSQL_DIR, "partitioning");
    const scripts = sqlFiles(dir).map((f) => relative(dir, f));
    expect(scripts).to.include.members(["01_partition_function_scheme.sql", "02_partition_coupons.sql", "03_sp_AddCampaignPartitions.sql"]);
    expect(readMigrations(MSSQL_DIR).map((m) => m.file)).to.not.include.members(scripts);
    const first = readFileSync(join(dir, "01_partition_function_scheme.sql"), "utf8");
    expect(first).to.match(/^-- grammar-lacks: CREATE PARTITION FUNCTION, CREATE PARTITION SCHEME$/m);
    expect(grammarProblems(first), "the grammar still lacks CREATE PARTITION FUNCTION").to.not.be.empty;
  });

  it("grants EXECUTE on every procedure the engine calls to a role (R__0900_grants.sql), and on nothing that does not exist", () => {
    const engine = readdirSync(ENGINE_DIR)
      .filter((f) => /^mssql.*\.ts$/.test(f))
      .map((f) => readFileSync(new URL(f, ENGINE_DIR), "utf8"))
      .join("\n");
    const called = new Set([...engine.matchAll(/"dbo\.(sp_\w+)"/g)].map((m) => m[1]));
    // the repeatable files: the area files define the procedures, R__0900_grants.sql grants them to roles
    const security = repeatablesText("mssql");
    const map = parseGrants(readFileSync(join(MSSQL_DIR, GRANTS_FILE), "utf8"), "mssql").map;
    const granted = new Set([...map].filter(([, roles]) => roles.length > 0).map(([p]) => p));
    const defined = new Set([...security.matchAll(/CREATE OR ALTER PROCEDURE dbo\.(\w+)/g)].map((m) => m[1]));
    expect(called.size).to.be.greaterThan(15);
    expect(
      [...called].filter((p) => !granted.has(p as string)),
      "called but not granted",
    ).to.deep.equal([]);
    expect(
      [...granted].filter((p) => !defined.has(p)),
      "granted but not defined",
    ).to.deep.equal([]);
    expect(security, "the role must get no table access").to.not.match(/GRANT\s+(SELECT|INSERT|UPDATE|DELETE)/i);
  });

  it("has the same repeatable files as database/postgres, none of them numbered", () => {
    const names = (d: "postgres" | "mssql") => readRepeatables(databaseDir(d)).map((m) => m.file);
    expect(names("mssql")).to.deep.equal(names("postgres"));
    expect(names("mssql")).to.include("R__0300_redemption.sql");
    expect(readMigrations(MSSQL_DIR).map((m) => m.file)).to.not.include.members(names("mssql"));
  });

  it("mirrors the PostgreSQL procedure list", () => {
    const pg = repeatablesText("postgres");
    const pgNames = new Set([...pg.matchAll(/CREATE OR REPLACE FUNCTION (\w+)\(/g)].map((m) => m[1]?.toLowerCase()));
    const ms = repeatablesText("mssql");
    const msNames = new Set([...ms.matchAll(/CREATE OR ALTER (?:PROCEDURE|FUNCTION) dbo\.(\w+)/g)].map((m) => m[1]?.toLowerCase()));
    // fn_CheckInput is written out in the two T-SQL procedures that use it (a T-SQL function cannot THROW);
    // fn_SecureProcedures does PostgreSQL's part of 0004_security (SQL Server needs no SECURITY DEFINER);
    // the trigger function cascades per-user counters (SQL Server keeps the foreign key).
    const pgOnly = new Set(["fn_checkinput", "fn_secureprocedures", "fn_grantprocedures", "trg_campaigns_deleteuserredemptions"]);
    const missing = [...pgNames].filter((n) => !pgOnly.has(n as string) && !msNames.has(n));
    expect(missing, "PostgreSQL functions without a T-SQL twin").to.deep.equal([]);
    expect(
      [...msNames].filter((n) => !pgNames.has(n)),
      "T-SQL objects without a PostgreSQL twin",
    ).to.deep.equal([]);
  });
});

describe("splitBatches (the migrator's GO splitting)", () => {
  it("splits on lines that are only GO and keeps each batch's first line", () => {
    const batches = splitBatches("SELECT 1;\nGO\n\n-- two\nSELECT 2;\n  go  \nSELECT 'GO';\nGO\n");
    expect(batches.map((b) => [b.line, b.sql.trim()])).to.deep.equal([
      [1, "SELECT 1;"],
      [3, "-- two\nSELECT 2;"],
      [7, "SELECT 'GO';"],
    ]);
  });

  it("does not split on GO inside a line", () => {
    expect(splitBatches("SELECT 1 AS GO;\nPRINT 'GO';\n")).to.have.length(1);
  });
});
