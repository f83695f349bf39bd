// The second T-SQL parser: sqlfluff (Debian package, `.ci/run` installs it) with its tsql dialect
// parses every file under database/mssql, batch by batch (split on GO like the migrator: sqlfluff is
// many times faster on one batch than on a whole file). A file whose batches need constructs
// sqlfluff lacks names them in a header line `-- sqlfluff-lacks: <construct>, <construct>` (like
// `-- grammar-lacks:` for the ANTLR grammar): an unparsable segment passes only if its text contains
// a construct the header names, and every construct the header names must cover one. Run by
// tsql-rules.test.ts; skipped with the reason in its title when sqlfluff is missing outside CI.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect } from "chai";
import { splitBatches } from "../src/engines/mssql-migrate.ts";
import { databaseDir } from "../src/migrate.ts";

export type SqlFile = { file: string; sql: string };

/** Every .sql file under a folder, named relative to it, line endings as LF. */
export function sqlFilesUnder(dir: string, root = dir): SqlFile[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const path = join(dir, f);
      if (statSync(path).isDirectory()) return sqlFilesUnder(path, root);
      return f.endsWith(".sql")
        ? [{ file: relative(root, path).replace(/\\/g, "/"), sql: readFileSync(path, "utf8").replace(/\r\n/g, "\n") }]
        : [];
    });
}

type Segment = { text: string; line: number };
type JsonTree = string | JsonTree[] | { [k: string]: JsonTree };

function sqlfluffVersion(): string | null {
  try {
    return execFileSync("sqlfluff", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

const rawOf = (n: JsonTree): string =>
  typeof n === "string" ? n : Array.isArray(n) ? n.map(rawOf).join("") : Object.values(n).map(rawOf).join("");

/** The unparsable segments of one parse tree, each with its line in the text parsed. */
function unparsable(tree: JsonTree): Segment[] {
  const out: Segment[] = [];
  let text = "";
  const walk = (n: JsonTree, key?: string) => {
    if (key === "unparsable") {
      out.push({ text: rawOf(n), line: text.split("\n").length });
      text += rawOf(n);
    } else if (typeof n === "string") text += n;
    else if (Array.isArray(n)) for (const x of n) walk(x);
    else for (const [k, v] of Object.entries(n)) walk(v, k);
  };
  walk(tree);
  return out;
}

/** Parses the batches of the files with one sqlfluff run; the process is killed if the caller gives up. */
export function sqlfluffParse(files: SqlFile[], started: (p: ChildProcess) => void): Promise<Map<string, Segment[]>> {
  const dir = mkdtempSync(join(tmpdir(), "coupons-sqlfluff-"));
  const where = new Map<string, { file: string; line: number }>();
  files.forEach((f, i) => {
    splitBatches(f.sql).forEach((b, j) => {
      const name = `f${String(i).padStart(3, "0")}_b${String(j).padStart(3, "0")}.sql`;
      writeFileSync(join(dir, name), b.sql);
      where.set(name, { file: f.file, line: b.line });
    });
  });
  writeFileSync(join(dir, ".sqlfluff"), "[sqlfluff]\ndialect = tsql\nlarge_file_skip_byte_limit = 0\n");
  return new Promise((resolve, reject) => {
    const child = spawn("sqlfluff", ["parse", "--format", "json", "--config", join(dir, ".sqlfluff"), "."], { cwd: dir });
    started(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      try {
        const parsed = JSON.parse(out) as { filepath: string; segments: JsonTree }[];
        const result = new Map<string, Segment[]>(files.map((f) => [f.file, []]));
        for (const p of parsed) {
          const name = p.filepath.replace(/^.*[\\/]/, "");
          const at = where.get(name);
          if (!at) throw new Error(`sqlfluff reported a file it was not given: ${p.filepath}`);
          for (const s of unparsable(p.segments)) result.get(at.file)?.push({ text: s.text, line: s.line + at.line - 1 });
        }
        if (parsed.length !== where.size) throw new Error(`sqlfluff parsed ${parsed.length} of ${where.size} batches`);
        resolve(result);
      } catch (e) {
        reject(new Error(`sqlfluff exited ${code}: ${(e as Error).message}\n${err.slice(-2000)}`));
      }
    });
  });
}

const squash = (t: string) => t.toUpperCase().replace(/\s+/g, " ").trim();

/** The numbered migrations are frozen (a header would change their checksum): what sqlfluff lacks in
 *  them is declared here instead, as their header would. */
const FROZEN_LACKS: Record<string, string[]> = {
  "0003_procedures.sql": ["FOR JSON PATH", "INCLUDE_NULL_VALUES", "BEGIN CATCH -- logging must not hide"], // an empty CATCH block
  "0004_security.sql": ["AUTHORIZATION"],
  "0006_fraud_report.sql": ["FOR JSON PATH"],
};

/** The problems of one file: unparsable segments its header does not name, and named constructs
 *  that cover no segment. */
export function sqlfluffProblems(f: SqlFile, segments: Segment[]): string[] {
  const declared =
    FROZEN_LACKS[f.file] ??
    (/^--\s*sqlfluff-lacks:\s*(.+)$/m.exec(f.sql)?.[1] ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
  const problems = segments
    .filter((s) => !declared.some((c) => squash(s.text).includes(squash(c))))
    .map((s) => `${f.file}:${s.line}: sqlfluff cannot parse "${squash(s.text).slice(0, 120)}"`);
  for (const c of declared) {
    if (!segments.some((s) => squash(s.text).includes(squash(c)))) {
      problems.push(`${f.file}: the header names "${c}" but sqlfluff parses the file without it; remove it from the header`);
    }
  }
  return problems;
}

export function sqlfluffSuite(): void {
  const version = sqlfluffVersion();
  const reason = version ? null : "sqlfluff is not installed (apt-get install sqlfluff; .ci/run does)";
  const title = "T-SQL parsed by sqlfluff, the second parser";
  if (reason && process.env.CI !== "true") {
    describe(`${title} [skipped: ${reason}]`, () => {
      it.skip(`needs sqlfluff: ${reason}`, () => {});
    });
    return;
  }
  describe(`${title} (${version ?? "missing"})`, function () {
    // Minutes of CPU on a busy machine: the whole folder is one sqlfluff run.
    this.timeout(30 * 60_000);
    const files = sqlFilesUnder(databaseDir("mssql"));
    const broken: SqlFile[] = [
      {
        file: "broken/typo.sql",
        sql: "CREATE OR ALTER PROCEDURE dbo.p AS\nBEGIN\n    SET NOCOUNT ON;\n    SELEC 1 FROM dbo.Coupons;\nEND;\nGO\n",
      },
      { file: "broken/undeclared.sql", sql: "SELECT 1 AS a FOR JSON PATH, INCLUDE_NULL_VALUES;\nGO\n" },
      {
        file: "broken/declared.sql",
        sql: "-- sqlfluff-lacks: INCLUDE_NULL_VALUES, MERGE\nSELECT 1 AS a FOR JSON PATH, INCLUDE_NULL_VALUES;\nGO\n",
      },
    ];
    let parsed: Map<string, Segment[]>;
    let child: ChildProcess | undefined;
    before(async () => {
      if (!version) throw new Error(`CI needs sqlfluff: ${reason}`);
      parsed = await sqlfluffParse([...files, ...broken], (p) => {
        child = p;
      });
    });
    after(() => {
      if (child && child.exitCode === null) child.kill("SIGKILL");
    });

    for (const f of files) {
      it(`${f.file} parses, but for what its sqlfluff-lacks header names`, () => {
        expect(sqlfluffProblems(f, parsed.get(f.file) ?? [])).to.deep.equal([]);
      });
    }

    it("rejects a broken copy, naming the line, and an unparsable construct the header does not name", () => {
      const [typo, undeclared, declared] = broken as [SqlFile, SqlFile, SqlFile];
      const problems = sqlfluffProblems(typo, parsed.get(typo.file) ?? []);
      expect(problems, "the typo was let through").to.not.be.empty;
      expect(problems[0]).to.match(/^broken\/typo\.sql:\d+: sqlfluff cannot parse/);
      expect(sqlfluffProblems(undeclared, parsed.get(undeclared.file) ?? [])).to.deep.equal([
        'broken/undeclared.sql:1: sqlfluff cannot parse "FOR JSON PATH, INCLUDE_NULL_VALUES;"',
      ]);
      expect(sqlfluffProblems(declared, parsed.get(declared.file) ?? [])).to.deep.equal([
        'broken/declared.sql: the header names "MERGE" but sqlfluff parses the file without it; remove it from the header',
      ]);
    });
  });
}
