// Test support shared by every package's tests: a fresh database per suite, on every engine.
//
// PostgreSQL: TEST_POSTGRES_URL names a server database we may create databases from
// (e.g. postgres://postgres@127.0.0.1:5432/test). Each suite gets its own database, cloned from a
// template that is migrated once per run, and drops it afterwards. Without the variable the
// PostgreSQL suites are skipped with the reason, except in CI (CI=true), where they must run.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type CouponStore, type OpenOptions, openStore } from "../src/index.ts";
import { migratePostgres } from "../src/engines/postgres.ts";
import { databaseDir, readMigrations, readRepeatables } from "../src/migrate.ts";
import { createHash } from "node:crypto";
import { withDatabase } from "./urls.ts";

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL || (process.env.CI === "true" ? "postgres://postgres@127.0.0.1:5432/test" : "");
export const POSTGRES_SKIP_REASON = POSTGRES_URL
  ? null
  : "TEST_POSTGRES_URL is not set (PostgreSQL suites run in CI, or set it to e.g. postgres://postgres@127.0.0.1:5432/test)";

/** Registers a describe block that is skipped, with its reason in the title, when PostgreSQL is not configured. */
export function describePostgres(title: string, fn: (this: Mocha.Suite) => void): void {
  if (POSTGRES_SKIP_REASON) {
    describe(`${title} [skipped: ${POSTGRES_SKIP_REASON}]`, () => {
      it.skip(`needs PostgreSQL: ${POSTGRES_SKIP_REASON}`, () => {});
    });
    return;
  }
  describe(title, fn);
}

let templateName: Promise<string> | undefined;

/** The migrated template database of this run's schema (by checksum), created once. */
function template(): Promise<string> {
  templateName ??= (async () => {
    const sum = createHash("sha256");
    const dir = databaseDir("postgres");
    for (const m of [...readMigrations(dir), ...readRepeatables(dir)]) sum.update(m.checksum);
    const name = `coupons_tpl_${sum.digest("hex").slice(0, 16)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query("SELECT pg_advisory_lock(hashtext('coupons.test.template'))");
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (exists.rowCount === 0) {
        const building = `${name}_build_${randomBytes(3).toString("hex")}`;
        await admin.query(`CREATE DATABASE ${building}`);
        try {
          await migratePostgres(withDatabase(POSTGRES_URL, building));
          await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
        } catch (err) {
          await admin.query(`DROP DATABASE IF EXISTS ${building}`);
          throw err;
        }
      }
    } finally {
      await admin.end();
    }
    return name;
  })();
  return templateName;
}

export type TestDatabase = { url: string; name: string; drop(): Promise<void> };

/** A new, migrated PostgreSQL database of its own; drop() removes it. */
export async function createPostgresDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  if (!POSTGRES_URL) throw new Error(POSTGRES_SKIP_REASON ?? "no PostgreSQL");
  const name = `coupons_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    if (opts.migrated === false) await admin.query(`CREATE DATABASE ${name}`);
    else {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${await template()}`);
      } catch (err) {
        // someone dropped the template (e.g. a manual clean-up): build it again, once
        if ((err as { code?: string }).code !== "3D000") throw err;
        templateName = undefined;
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${await template()}`);
      }
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(POSTGRES_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export type EngineUnderTest = {
  name: "embedded" | "postgres" | "mssql";
  /** A fresh store on a fresh database; cleanup closes it and drops the database. */
  open(options?: OpenOptions): Promise<{ store: CouponStore; url: string; cleanup(): Promise<void> }>;
};

export const embeddedEngine: EngineUnderTest = {
  name: "embedded",
  async open(options) {
    const store = await openStore("embedded:memory", options);
    return { store, url: "embedded:memory", cleanup: () => store.close() };
  },
};

export const postgresEngine: EngineUnderTest = {
  name: "postgres",
  async open(options) {
    const db = await createPostgresDatabase();
    const store = await openStore(db.url, options);
    return {
      store,
      url: db.url,
      async cleanup() {
        await store.close();
        await db.drop();
      },
    };
  },
};

/** The login a service uses in production: a member of coupon_app, which may only EXECUTE procedures. */
export const APP_LOGIN = "coupons_app_test";

export async function ensureAppLogin(): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock(hashtext('coupons.test.login'))");
    const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [APP_LOGIN]);
    if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${APP_LOGIN} LOGIN IN ROLE coupon_app`);
  } finally {
    await admin.end();
  }
}

/** PostgreSQL as the execute-only application role sees it (the seed's security model). */
export const postgresAppRoleEngine: EngineUnderTest = {
  name: "postgres",
  async open(options) {
    const db = await createPostgresDatabase();
    await ensureAppLogin();
    const u = new URL(db.url);
    u.username = APP_LOGIN;
    const store = await openStore(u.toString(), options);
    return {
      store,
      url: u.toString(),
      async cleanup() {
        await store.close();
        await db.drop();
      },
    };
  },
};
