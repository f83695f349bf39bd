// Numbered migrations never change once they are in the repository: database/migrations.lock.json
// holds their checksums, and this test fails when a file differs from its entry or has none. The
// check is shown failing on an edited copy in a temp folder, so it is known to be able to fail.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { type MigrationLock, databaseDir, readMigrations } from "../src/migrate.ts";

const DIALECTS = ["postgres", "mssql"] as const;

/** Every way the numbered files of `root`/<dialect> disagree with `root`/migrations.lock.json. */
function lockProblems(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, "migrations.lock.json"), "utf8")) as MigrationLock;
  const problems: string[] = [];
  for (const dialect of DIALECTS) {
    const entries = lock[dialect] ?? {};
    const files = readMigrations(join(root, dialect));
    for (const m of files) {
      const entry = entries[m.file];
      if (!entry) {
        problems.push(`${dialect}/${m.file} is not in the lock; add "${m.file}": { "sha256": "${m.checksum}" } under "${dialect}"`);
      } else if (entry.sha256 !== m.checksum) {
        problems.push(
          `${dialect}/${m.file} changed (lock ${entry.sha256.slice(0, 12)}, file ${m.checksum.slice(0, 12)}); numbered files never change: put the change in a new numbered file, or a repeatable R__ file for views and procedures`,
        );
      }
    }
    for (const file of Object.keys(entries)) {
      if (!files.some((m) => m.file === file))
        problems.push(`${dialect}/${file} is in the lock but gone; numbered files are never removed`);
    }
  }
  return problems;
}

const DATABASE = dirname(databaseDir("postgres").replace(/[\\/]+$/, ""));

describe("the migrations lock (database/migrations.lock.json)", () => {
  let copy: string;
  beforeEach(() => {
    copy = mkdtempSync(join(tmpdir(), "mig-lock-"));
    for (const d of [...DIALECTS, "migrations.lock.json"]) cpSync(join(DATABASE, d), join(copy, d), { recursive: true });
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it("lists every numbered file of both dialects with the checksum it has", () => {
    expect(lockProblems(DATABASE)).to.deep.equal([]);
    const lock = JSON.parse(readFileSync(join(DATABASE, "migrations.lock.json"), "utf8")) as MigrationLock;
    expect(Object.keys(lock.postgres ?? {})).to.include("0001_schema.sql");
    expect(Object.keys(lock.mssql ?? {})).to.include("0001_schema.sql");
  });

  it("fails when a numbered file is edited, naming it", () => {
    appendFileSync(join(copy, "postgres", "0003_procedures.sql"), "\n-- an edit in place\n");
    const problems = lockProblems(copy);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^postgres\/0003_procedures\.sql changed \(lock [0-9a-f]{12}, file [0-9a-f]{12}\)/);
  });

  it("fails when a numbered file is not in the lock, saying what to add, or when one is removed", () => {
    writeFileSync(join(copy, "mssql", "0099_new.sql"), "SELECT 1;\n");
    rmSync(join(copy, "postgres", "0009_idempotency_retention.sql"));
    expect(lockProblems(copy)).to.deep.equal([
      "postgres/0009_idempotency_retention.sql is in the lock but gone; numbered files are never removed",
      `mssql/0099_new.sql is not in the lock; add "0099_new.sql": { "sha256": "${readMigrations(join(copy, "mssql")).at(-1)?.checksum}" } under "mssql"`,
    ]);
  });

  it("leaves repeatable files out: they are meant to change", () => {
    appendFileSync(join(copy, "postgres", "R__0300_redemption.sql"), "\n-- a new definition\n");
    expect(lockProblems(copy)).to.deep.equal([]);
  });
});
