// A database migrated before repeatable files existed upgrades with the new migrator. The fixture
// folder fixtures/migrations-v9 is database/postgres as it was then (0001-0009, no R__ files),
// applied here the way that migrator did: one transaction per file, recorded in SchemaMigrations.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { expect } from "chai";
import pg from "pg";
import { type CouponStore, migrate, openStore } from "../src/index.ts";
import { checksumOf, databaseDir, readMigrations, readRepeatables } from "../src/migrate.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { APP_LOGIN, createPostgresDatabase, describePostgres, ensureAppLogin } from "./support.ts";

const FIXTURE = new URL("./fixtures/migrations-v9/", import.meta.url).pathname;
const numbered = readMigrations(databaseDir("postgres"));
const repeatables = readRepeatables(databaseDir("postgres"));
/** What the fixture holds (0001-0009), and what an upgrade applies: the numbered files added since,
 *  then every repeatable file. */
const v9 = numbered.filter((m) => m.version <= 9);
const upgrade = [...numbered.filter((m) => m.version > 9), ...repeatables];

type Exec = { exec(sql: string): Promise<unknown>; query(sql: string, params: unknown[]): Promise<unknown> };

/** Today's-main migrator, as it was: the same SchemaMigrations table and rows. */
async function applyV9(db: Exec): Promise<void> {
  await db.exec(`CREATE TABLE IF NOT EXISTS SchemaMigrations (
  Version int PRIMARY KEY, Name varchar(200) NOT NULL, Checksum char(64) NOT NULL,
  AppliedAt timestamptz NOT NULL DEFAULT now())`);
  for (const file of readdirSync(FIXTURE).sort()) {
    const sql = readFileSync(join(FIXTURE, file), "utf8").replace(/\r\n/g, "\n");
    const [, version, name] = /^(\d{4})_(\w+)\.sql$/.exec(file) ?? [];
    await db.exec("BEGIN");
    await db.exec(sql);
    await db.query("INSERT INTO SchemaMigrations (Version, Name, Checksum) VALUES ($1,$2,$3)", [Number(version), name, checksumOf(sql)]);
    await db.exec("COMMIT");
  }
}

/** A campaign, two coupons, a redemption and a refused second one. */
async function smoke(store: CouponStore): Promise<void> {
  const campaignId = await makeCampaign(store, { maxTotal: 5 });
  await makeCoupons(store, campaignId, ["UPGRADE1", "UPGRADE2"]);
  expect((await store.redeemCoupon({ code: "UPGRADE1", userId: "u1" })).ok).to.equal(true);
  expect(await store.redeemCoupon({ code: "UPGRADE1", userId: "u2" })).to.include({ ok: false, reason: "ALREADY_REDEEMED" });
  expect((await store.getRedemptionStats(campaignId))?.redeemedCoupons).to.equal(1);
}

const files = (ms: { file: string }[]) => ms.map((m) => m.file);

describe("upgrading a database migrated before repeatable files (fixtures/migrations-v9)", () => {
  it("is today's numbered files 0001-0009, byte for byte", () => {
    expect(readdirSync(FIXTURE).sort()).to.deep.equal(files(v9));
    for (const m of v9) expect(checksumOf(readFileSync(join(FIXTURE, m.file), "utf8")), m.file).to.equal(m.checksum);
  });

  describe("on the embedded engine", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "coupons-upgrade-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("applies the numbered files added since and the repeatable files, then the store works and a second run does nothing", async () => {
      const path = join(dir, "db");
      const db = await PGlite.create({ dataDir: path });
      await applyV9(db);
      await db.close();
      const report = await migrate(`embedded:${path}`);
      expect(files(report.applied)).to.deep.equal(files(upgrade));
      expect(report.alreadyApplied).to.equal(v9.length);
      expect(await migrate(`embedded:${path}`)).to.deep.include({ applied: [] });
      const store = await openStore(`embedded:${path}`);
      try {
        await smoke(store);
      } finally {
        await store.close();
      }
    });

    it("accepts a database that recorded an earlier checksum of 0003, as an older checkout wrote it", async () => {
      const path = join(dir, "db");
      const db = await PGlite.create({ dataDir: path });
      await applyV9(db);
      const earlier = numbered.find((m) => m.version === 3)?.earlier?.at(-1);
      await db.query("UPDATE SchemaMigrations SET Checksum = $1 WHERE Version = 3", [earlier]);
      await db.close();
      expect(files((await migrate(`embedded:${path}`)).applied)).to.deep.equal(files(upgrade));
    });
  });

  describePostgres("on PostgreSQL", () => {
    it("applies the numbered files added since and the repeatable files, then the execute-only application login works", async () => {
      const db = await createPostgresDatabase({ migrated: false });
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await applyV9({ exec: (sql) => c.query(sql), query: (sql, params) => c.query(sql, params) });
        const report = await migrate(db.url);
        expect(files(report.applied)).to.deep.equal(files(upgrade));
        expect(report.alreadyApplied).to.equal(v9.length);
        expect(await migrate(db.url)).to.deep.include({ applied: [] });
        await ensureAppLogin();
        const u = new URL(db.url);
        u.username = APP_LOGIN;
        const store = await openStore(u.toString());
        try {
          await smoke(store);
        } finally {
          await store.close();
        }
      } finally {
        await c.end();
        await db.drop();
      }
    });
  });
});
