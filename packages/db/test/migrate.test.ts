import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { migrate, openStore } from "../src/index.ts";
import { databaseDir, planMigrations, readMigrations } from "../src/migrate.ts";
import { expectStoreError } from "./conformance.ts";
import { createPostgresDatabase, describePostgres } from "./support.ts";

const available = readMigrations(databaseDir("postgres"));

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

  it("refuses a database migrated by a newer checkout", () => {
    const applied = [{ version: 9999, name: "future", checksum: "f".repeat(64) }];
    expect(() => planMigrations(available, applied)).to.throw(/migration 9999 \(future\) that this checkout does not have/);
  });

  it("refuses two files with one version number", () => {
    const dir = mkdtempSync(join(tmpdir(), "mig-"));
    try {
      writeFileSync(join(dir, "0001_a.sql"), "SELECT 1;");
      writeFileSync(join(dir, "0001_b.sql"), "SELECT 2;");
      expect(() => readMigrations(dir)).to.throw(/two migration files have version 0001/);
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
      expect(first.applied.map((m) => m.file)).to.deep.equal(available.map((m) => m.file));
      const second = await migrate(url);
      expect(second).to.deep.equal({ applied: [], alreadyApplied: available.length });
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
        expect(a.applied.length + b.applied.length).to.equal(available.length);
        expect(await migrate(db.url)).to.deep.equal({ applied: [], alreadyApplied: available.length });
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
