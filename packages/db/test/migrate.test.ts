import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { migrate, openStore } from "../src/index.ts";
import { migrateEmbedded } from "../src/engines/embedded.ts";
import { migratePostgres } from "../src/engines/postgres.ts";
import { type Migration, databaseDir, planMigrations, planRepeatables, readMigrations, readRepeatables } from "../src/migrate.ts";
import { expectStoreError } from "./conformance.ts";
import { createPostgresDatabase, describePostgres } from "./support.ts";

const available = readMigrations(databaseDir("postgres"));
const repeatables = readRepeatables(databaseDir("postgres"));
const files = (ms: Migration[]) => ms.map((m) => m.file);
const recorded = (ms: Migration[]) => ms.map(({ file, checksum }) => ({ file, checksum }));

/** A copy of database/postgres in a temp folder, to change repeatable files in; rm() removes it. */
function copyOfPostgresDir(): { dir: string; rm(): void } {
  const root = mkdtempSync(join(tmpdir(), "mig-copy-"));
  cpSync(databaseDir("postgres"), join(root, "postgres"), { recursive: true });
  return { dir: join(root, "postgres"), rm: () => rmSync(root, { recursive: true, force: true }) };
}

/** sp_ functions that do not run as their owner, and those coupon_app may execute. */
async function security(query: (text: string) => Promise<{ rows: Record<string, unknown>[] }>) {
  const invoker = await query("SELECT proname FROM pg_proc WHERE proname LIKE 'sp\\_%' AND NOT (prosecdef AND proconfig IS NOT NULL)");
  const granted = await query(
    "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND has_function_privilege('coupon_app', oid, 'EXECUTE') ORDER BY proname",
  );
  return { invoker: invoker.rows.map((r) => r.proname), granted: granted.rows.map((r) => r.proname as string) };
}

describe("migrations", () => {
  it("reads the numbered postgres files in order with checksums", () => {
    expect(available.map((m) => m.version)).to.deep.equal([...available.map((m) => m.version)].sort((a, b) => a - b));
    expect(available[0]).to.include({ version: 1, name: "schema", file: "0001_schema.sql" });
    for (const m of available) expect(m.checksum).to.match(/^[0-9a-f]{64}$/);
  });

  it("plans only what is not applied yet", () => {
    const applied = available.slice(0, 1).map(({ version, name, checksum }) => ({ version, name, checksum }));
    expect(planMigrations(available, applied).map((m) => m.version)).to.deep.equal(available.slice(1).map((m) => m.version));
    expect(planMigrations(available, available)).to.deep.equal([]);
  });

  it("refuses a file changed after it was applied, naming it", () => {
    const applied = [{ version: 1, name: "schema", checksum: "0".repeat(64) }];
    expect(() => planMigrations(available, applied)).to.throw(/0001_schema\.sql was changed after it was applied/);
  });

  it("accepts a database that recorded an earlier checksum the lock lists for the file, and no other", () => {
    const procedures = available.find((m) => m.file === "0003_procedures.sql");
    const earlier = procedures?.earlier?.[0];
    expect(earlier, "the lock lists earlier checksums of 0003_procedures.sql").to.match(/^[0-9a-f]{64}$/);
    const applied = available.map(({ version, name, checksum }) => ({
      version,
      name,
      checksum: version === 3 ? (earlier as string) : checksum,
    }));
    expect(planMigrations(available, applied)).to.deep.equal([]);
    applied[2] = { version: 3, name: "procedures", checksum: `${(earlier as string).slice(0, 63)}0` };
    expect(() => planMigrations(available, applied)).to.throw(/0003_procedures\.sql was changed after it was applied/);
  });

  it("reads the repeatable files in name order, apart from the numbered ones", () => {
    expect(files(repeatables)).to.deep.equal([...files(repeatables)].sort());
    expect(files(repeatables)).to.include.members(["R__0100_views.sql", "R__0300_redemption.sql"]);
    for (const r of repeatables) expect(r).to.include({ kind: "repeatable" });
    expect(files(available).filter((f) => f.startsWith("R__"))).to.deep.equal([]);
  });

  it("plans every repeatable file on a fresh database or after a numbered migration, else from the first changed one", () => {
    expect(planRepeatables(repeatables, [], false)).to.deep.equal(repeatables);
    expect(planRepeatables(repeatables, recorded(repeatables), false)).to.deep.equal([]);
    expect(planRepeatables(repeatables, recorded(repeatables), true)).to.deep.equal(repeatables);
    const changed = recorded(repeatables).map((r, i) => (i === 2 ? { ...r, checksum: "c".repeat(64) } : r));
    expect(files(planRepeatables(repeatables, changed, false))).to.deep.equal(files(repeatables.slice(2)));
  });

  it("refuses a database migrated by a newer checkout", () => {
    const applied = [{ version: 9999, name: "future", checksum: "f".repeat(64) }];
    expect(() => planMigrations(available, applied)).to.throw(/migration 9999 \(future\) that this checkout does not have/);
  });

  it("refuses two numbered files with one version, and two repeatable files with one number", () => {
    const dir = mkdtempSync(join(tmpdir(), "mig-"));
    try {
      writeFileSync(join(dir, "0001_a.sql"), "SELECT 1;");
      writeFileSync(join(dir, "0001_b.sql"), "SELECT 2;");
      expect(() => readMigrations(dir)).to.throw(/two migration files have version 0001/);
      writeFileSync(join(dir, "R__0100_a.sql"), "SELECT 1;");
      writeFileSync(join(dir, "R__0100_b.sql"), "SELECT 2;");
      expect(() => readRepeatables(dir)).to.throw(/two repeatable files have number 0100/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("on the embedded engine", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "coupons-emb-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("applies every file once and is a no-op the second time", async () => {
      const url = `embedded:${join(dir, "db")}`;
      const first = await migrate(url);
      expect(files(first.applied)).to.deep.equal([...files(available), ...files(repeatables)]);
      const second = await migrate(url);
      expect(second).to.deep.equal({ applied: [], alreadyApplied: available.length, unchangedRepeatables: repeatables.length });
    });

    it("re-applies a changed repeatable file and those after it, keeping every procedure secured and granted", async () => {
      const copy = copyOfPostgresDir();
      const db = await PGlite.create();
      try {
        await migrateEmbedded(db, copy.dir);
        const before = await security((t) => db.query(t));
        expect(before.invoker).to.deep.equal([]);
        expect(before.granted).to.include.members(["sp_redeemcoupon", "sp_purgeidempotencykeys"]);
        appendFileSync(join(copy.dir, "R__0300_redemption.sql"), "\nCOMMENT ON FUNCTION sp_ValidateCoupon(text, text) IS 'v2';\n");
        const report = await migrateEmbedded(db, copy.dir);
        expect(files(report.applied)).to.deep.equal(files(repeatables.filter((r) => r.file >= "R__0300")));
        expect(report).to.include({ alreadyApplied: available.length, unchangedRepeatables: 3 });
        const note = await db.query<{ d: string }>("SELECT obj_description('sp_ValidateCoupon(text,text)'::regprocedure) AS d");
        expect(note.rows[0]?.d).to.equal("v2");
        expect(await security((t) => db.query(t))).to.deep.equal(before);
        expect((await migrateEmbedded(db, copy.dir)).applied).to.deep.equal([]);
      } finally {
        await db.close();
        copy.rm();
      }
    });

    it("rolls back a failing repeatable file whole and records nothing for it", async () => {
      const copy = copyOfPostgresDir();
      const db = await PGlite.create();
      try {
        await migrateEmbedded(db, copy.dir);
        appendFileSync(
          join(copy.dir, "R__0500_operations.sql"),
          "\nCOMMENT ON FUNCTION sp_GetScaleStatus(timestamptz) IS 'half';\nSELECT no_such_function();\n",
        );
        await expectStoreError(
          migrateEmbedded(db, copy.dir),
          "MIGRATION",
          /repeatable migration R__0500_operations\.sql failed and was rolled back/,
        );
        const note = await db.query<{ d: string | null }>("SELECT obj_description('sp_GetScaleStatus(timestamptz)'::regprocedure) AS d");
        expect(note.rows[0]?.d).to.equal(null);
        const row = await db.query<{ checksum: string }>(
          "SELECT Checksum AS checksum FROM SchemaRepeatables WHERE File = 'R__0500_operations.sql'",
        );
        expect(row.rows[0]?.checksum).to.equal(repeatables.find((r) => r.file === "R__0500_operations.sql")?.checksum);
      } finally {
        await db.close();
        copy.rm();
      }
    });

    it("refuses to open a data folder whose applied file changed, and leaves it untouched", async () => {
      const path = join(dir, "db");
      await migrate(`embedded:${path}`);
      const db = await PGlite.create({ dataDir: path });
      await db.query("UPDATE SchemaMigrations SET Checksum = $1 WHERE Version = 1", ["a".repeat(64)]);
      await db.close();
      await expectStoreError(openStore(`embedded:${path}`), "MIGRATION", /0001_schema\.sql was changed after it was applied/);
    });

    it("lets one process at a time open a data folder and takes over a dead process's lock", async () => {
      const path = join(dir, "db");
      const store = await openStore(`embedded:${path}`);
      try {
        await expectStoreError(openStore(`embedded:${path}`), "UNAVAILABLE", /already open in this process/);
      } finally {
        await store.close();
      }
      writeFileSync(`${path}.lock`, "999999"); // no such process
      const again = await openStore(`embedded:${path}`);
      await again.close();
    });
  });

  describePostgres("on PostgreSQL", () => {
    it("applies every file once, is a no-op the second time, and two migrators at once apply each file once", async () => {
      const db = await createPostgresDatabase({ migrated: false });
      try {
        const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);
        // the second waits for the first and then finds nothing to do
        expect([files(a.applied), files(b.applied)]).to.deep.include([...files(available), ...files(repeatables)]);
        expect(a.applied.length + b.applied.length).to.equal(available.length + repeatables.length);
        expect(await migrate(db.url)).to.deep.equal({
          applied: [],
          alreadyApplied: available.length,
          unchangedRepeatables: repeatables.length,
        });
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          const rows = (await c.query("SELECT Version FROM SchemaMigrations ORDER BY Version")).rows;
          expect(rows.map((r) => r.version)).to.deep.equal(available.map((m) => m.version));
          await c.query("UPDATE SchemaMigrations SET Checksum = $1 WHERE Version = 2", ["b".repeat(64)]);
        } finally {
          await c.end();
        }
        await expectStoreError(migrate(db.url), "MIGRATION", /0002_views\.sql was changed after it was applied/);
      } finally {
        await db.drop();
      }
    });

    it("re-applies a changed repeatable file and those after it, leaving every procedure secured and granted as before", async () => {
      const db = await createPostgresDatabase({ migrated: false });
      const copy = copyOfPostgresDir();
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await migratePostgres(db.url, copy.dir);
        const before = await security((t) => c.query(t));
        expect(before.invoker).to.deep.equal([]);
        appendFileSync(join(copy.dir, "R__0100_views.sql"), "\nCOMMENT ON VIEW vw_ActiveCampaigns IS 'v2';\n");
        const report = await migratePostgres(db.url, copy.dir);
        expect(files(report.applied)).to.deep.equal(files(repeatables.filter((r) => r.file >= "R__0100")));
        expect(await security((t) => c.query(t))).to.deep.equal(before);
        const note = await c.query("SELECT obj_description('vw_ActiveCampaigns'::regclass) AS d");
        expect(note.rows[0].d).to.equal("v2");
      } finally {
        await c.end();
        copy.rm();
        await db.drop();
      }
    });

    it("rolls back a failing migration whole", async () => {
      const db = await createPostgresDatabase({ migrated: false });
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        // a table in the way makes 0001 fail half-way through
        await c.query("CREATE TABLE Coupons (x int)");
        await expectStoreError(migrate(db.url), "MIGRATION", /0001_schema\.sql failed and was rolled back/);
        const t = await c.query("SELECT to_regclass('campaigns') AS t");
        expect(t.rows[0].t).to.equal(null);
      } finally {
        await c.end();
        await db.drop();
      }
    });
  });
});
