// The schema check at open (openStore on PostgreSQL): a database that was never migrated, one migrated
// by an older version (numbered files pending), one that does not exist, and one that is current; and
// the call-time mapping of a missing procedure (NOT_MIGRATED), for a process that opened without it.
import { expect } from "chai";
import pg from "pg";
import { StoreError } from "../src/contract.ts";
import { migratePostgres } from "../src/engines/postgres.ts";
import { migrate, openStore } from "../src/index.ts";
import { databaseDir, pgMigrationTarget, readMigrations, runMigrations } from "../src/migrate.ts";
import { checkPostgresSchema } from "../src/schema-check.ts";
import { APP_LOGIN, type TestDatabase, createPostgresDatabase, describePostgres, ensureAppLogin } from "./support.ts";
import { mkdtempSync, rmSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected a StoreError");
}

describePostgres("schema check on PostgreSQL", function () {
  this.timeout(120_000);
  const dbs: TestDatabase[] = [];
  const fresh = async (migrated: boolean) => {
    const db = await createPostgresDatabase({ migrated });
    dbs.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(dbs.splice(0).map((d) => d.drop()));
  });

  it("When the database was never migrated, then openStore refuses NOT_MIGRATED saying to run `coupons migrate`, and opens once it is migrated", async () => {
    const db = await fresh(false);
    const err = await storeError(openStore(db.url));
    expect(err.code).to.equal("NOT_MIGRATED");
    expect(err.message).to.contain(`the database "${db.name}" has no schema`).and.contain("run `coupons migrate`");
    await migrate(db.url);
    const store = await openStore(db.url);
    await store.close();
  });

  it("When the database was migrated by an older version, then openStore refuses NOT_MIGRATED naming the pending files", async () => {
    const db = await fresh(false);
    // this checkout's folder without its last numbered file: what an older version applied
    const older = mkdtempSync(join(tmpdir(), "coupons-older-"));
    try {
      cpSync(databaseDir("postgres"), older, { recursive: true });
      const all = readMigrations(databaseDir("postgres"));
      const last = all.at(-1);
      if (!last) throw new Error("no migrations");
      rmSync(join(older, last.file));
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const session = {
          exec: (s: string) => client.query(s),
          query: async <R>(t: string, p?: unknown[]) => ({ rows: (await client.query(t, p)).rows as R[] }),
        };
        await runMigrations(await pgMigrationTarget(session), older);
      } finally {
        await client.end();
      }
      const err = await storeError(openStore(db.url));
      expect(err.code).to.equal("NOT_MIGRATED");
      expect(err.message).to.contain(`${all.length - 1} of ${all.length} migrations applied, ${last.file} pending`);
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });

  it("When the database does not exist, then openStore refuses NO_DATABASE naming the database and how to create it", async () => {
    const db = await fresh(false);
    await db.drop();
    const err = await storeError(openStore(db.url));
    expect(err.code).to.equal("NO_DATABASE");
    expect(err.message).to.contain(`database "${db.name}" does not exist on 127.0.0.1:5432`).and.contain(`createdb ${db.name}`);
  });

  it("When a store opened without the check calls a missing procedure, then the call fails NOT_MIGRATED, not a driver error", async () => {
    const db = await fresh(false);
    const store = await openStore(db.url, { checkSchema: false });
    try {
      const err = await storeError(store.getCampaign("c1"));
      expect(err.code).to.equal("NOT_MIGRATED");
      expect(err.message).to.contain("run `coupons migrate`");
    } finally {
      await store.close();
    }
  });

  it("When the database is current, then the check says so, and for the execute-only login (which may not read the records) says it cannot tell and opens", async () => {
    const db = await fresh(true);
    expect(await checkPostgresSchema(db.url)).to.equal("current");
    await migratePostgres(db.url); // nothing pending: the check and migrate agree
    await ensureAppLogin();
    const u = new URL(db.url);
    u.username = APP_LOGIN;
    expect(await checkPostgresSchema(u.toString())).to.equal("unreadable");
    const store = await openStore(u.toString());
    await store.close();
  });

  it("When the server cannot be reached, then the check cannot tell and leaves it to the store's own calls (UNAVAILABLE)", async () => {
    expect(await checkPostgresSchema("postgres://postgres@127.0.0.1:1/none")).to.equal("unreachable");
    const store = await openStore("postgres://postgres@127.0.0.1:1/none");
    try {
      const err = await storeError(store.ping());
      expect(err.code).to.equal("UNAVAILABLE");
    } finally {
      await store.close();
    }
  });
});
