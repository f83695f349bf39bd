// Least privilege on PostgreSQL (migration 0014, map R__0900_grants.sql): a LOGIN in each process
// role connects through the real CouponStore and is refused what its process must not do; none may
// create objects in public or touch a table; the procedures run as coupon_owner, not a superuser;
// and a migrating user that is not a superuser (Azure Database for PostgreSQL's admin has CREATEROLE
// only) migrates and hands the procedures over all the same.
// Logins are unique to the run and dropped afterwards (roles belong to the whole server).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import pg from "pg";
import { type CouponStore, migrate, openStore } from "../src/index.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { POSTGRES_URL, type TestDatabase, createPostgresDatabase, describePostgres } from "./support.ts";
import { withDatabase } from "./urls.ts";

type Login = { user: string; password: string };

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = POSTGRES_URL): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new LOGIN with the given attributes (e.g. "IN ROLE coupon_api", "CREATEROLE"). */
async function createLogin(suffix: string, attributes: string, made: Login[]): Promise<Login> {
  const login = { user: `coupons_t_${randomBytes(5).toString("hex")}_${suffix}`, password: randomBytes(12).toString("hex") };
  await admin((c) => c.query(`CREATE ROLE ${login.user} LOGIN PASSWORD '${login.password}' ${attributes}`));
  made.push(login);
  return login;
}

async function dropLogins(logins: Login[]): Promise<void> {
  await admin(async (c) => {
    for (const l of logins) await c.query(`DROP ROLE IF EXISTS ${l.user}`);
  });
}

/** The call fails because the login's role may not execute the procedure. */
async function refused(p: Promise<unknown>, procedure: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(new RegExp(`permission denied for function (?:${procedure})\\b`, "i"));
    expect((err as { code?: string }).code).to.equal("42501");
    return;
  }
  throw new Error(`expected permission denied for ${procedure}, but the call succeeded`);
}

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

describePostgres("least privilege on PostgreSQL (0014, R__0900_grants.sql)", function () {
  this.timeout(120_000);
  const logins: Login[] = [];
  let db: TestDatabase;
  const stores: Record<"api" | "generator" | "ops", CouponStore> = {} as never;
  const urls: Record<keyof typeof stores, string> = {} as never;

  before(async () => {
    db = await createPostgresDatabase();
    for (const [key, role] of [
      ["api", "coupon_api"],
      ["generator", "coupon_generator"],
      ["ops", "coupon_ops"],
    ] as const) {
      const login = await createLogin(key, `IN ROLE ${role}`, logins);
      urls[key] = withDatabase(POSTGRES_URL, db.name, login);
      stores[key] = await openStore(urls[key], { poolSize: 2 });
    }
  });

  after(async () => {
    await Promise.all(Object.values(stores).map((s) => s?.close().catch(() => {})));
    await db?.drop();
    await dropLogins(logins);
  });

  it("the generator creates and fills requests but may not redeem, validate or purge", async () => {
    const campaignId = await makeCampaign(stores.ops);
    await makeCoupons(stores.generator, campaignId, ["PRIVGEN1", "PRIVGEN2"]);
    expect((await stores.generator.countCouponsWithPrefix("PRIVGEN")) >= 2).to.equal(true);
    await refused(stores.generator.redeemCoupon({ code: "PRIVGEN1", userId: "u1" }), "sp_RedeemCoupon");
    await refused(stores.generator.validateCoupon({ code: "PRIVGEN1", userId: "u1" }), "sp_ValidateCoupon");
    await refused(stores.generator.purgeIdempotencyKeys(new Date()), "sp_PurgeIdempotencyKeys");
    await refused(stores.generator.fraudReport({ since: new Date(0), until: new Date(), by: "user" }), "sp_FraudReport");
  });

  it("the API redeems but may not export codes, purge idempotency keys, fill requests or archive", async () => {
    const campaignId = await makeCampaign(stores.api);
    const requestId = await makeCoupons(stores.generator, campaignId, ["PRIVAPI1"]);
    expect(await stores.api.redeemCoupon({ code: "PRIVAPI1", userId: "u1", idempotencyKey: "k-privapi-1" })).to.include({ ok: true });
    expect(await stores.api.redeemCoupon({ code: "PRIVAPI1", userId: "u2" })).to.include({ ok: false, reason: "ALREADY_REDEEMED" });
    await refused(drain(stores.api.streamCoupons({ campaignId })), "sp_ExportCoupons");
    await refused(stores.api.purgeIdempotencyKeys(new Date()), "sp_PurgeIdempotencyKeys");
    await refused(stores.api.bulkInsertCoupons(requestId, ["PRIVAPI9"]), "sp_BulkInsertCoupons");
    await refused(stores.api.claimGenerationRequest(requestId, "api"), "sp_ClaimGenerationRequest");
    await refused(stores.api.archiveRedemptionHistory({ before: new Date() }), "sp_ListArchivableHistory|sp_ArchiveRedemptionHistory");
    // what the generator and operations may: export the codes
    expect(await drain(stores.generator.streamCoupons({ requestId }))).to.equal(1);
    expect(await drain(stores.ops.streamCoupons({ campaignId }))).to.equal(1);
  });

  it("operations archive, report fraud, purge keys and read the scale status, but may not redeem or fill requests", async () => {
    const campaignId = await makeCampaign(stores.ops);
    const requestId = await makeCoupons(stores.generator, campaignId, ["PRIVOPS1"]);
    expect(await stores.api.redeemCoupon({ code: "PRIVOPSX", userId: "bad-user" })).to.include({ ok: false });
    const report = await stores.ops.fraudReport({ since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000), by: "user" });
    expect(report.map((r) => r.subject)).to.include("bad-user");
    const archived = await stores.ops.archiveRedemptionHistory({ before: new Date(Date.now() + 60_000) });
    expect(archived.moved).to.be.greaterThan(0);
    expect((await stores.ops.getScaleStatus()).couponsTotal).to.be.greaterThan(0);
    expect(await stores.ops.purgeIdempotencyKeys(new Date(Date.now() + 60_000))).to.be.greaterThan(0);
    await refused(stores.ops.redeemCoupon({ code: "PRIVOPS1", userId: "u1" }), "sp_RedeemCoupon");
    await refused(stores.ops.bulkInsertCoupons(requestId, ["PRIVOPS9"]), "sp_BulkInsertCoupons");
  });

  it("no role may create objects in public, read or write a table, or run an internal helper", async () => {
    for (const [key, url] of Object.entries(urls)) {
      await admin(async (c) => {
        for (const sql of [
          "CREATE TABLE planted (a int)",
          "CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
          "SELECT * FROM Coupons",
          "SELECT * FROM IdempotencyKeys",
          "UPDATE Campaigns SET IsActive = true",
          "DELETE FROM RedemptionHistory",
          "SELECT * FROM vw_ActiveCampaigns",
          "SELECT sp_SyncCampaignCounters(NULL)",
          "SELECT fn_GrantProcedures(ARRAY[]::text[])",
        ]) {
          const err = await c.query(sql).then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
          expect(err?.code, `${key}: ${sql} must be refused (${err?.message ?? "it succeeded"})`).to.equal("42501");
        }
      }, url);
    }
  });

  it("the procedures run as coupon_owner, a NOLOGIN role that is no superuser, with a fixed search_path", async () => {
    await admin(async (c) => {
      const owner = await c.query("SELECT rolsuper, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = 'coupon_owner'");
      expect(owner.rows).to.deep.equal([{ rolsuper: false, rolcanlogin: false, rolcreaterole: false }]);
      const wrong = await c.query(
        `SELECT proname, proowner::regrole::text AS owner, prosecdef, proconfig FROM pg_proc
         WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'sp\\_%'
           AND NOT (proowner = 'coupon_owner'::regrole AND prosecdef AND proconfig = ARRAY['search_path=public, pg_temp'])`,
      );
      expect(wrong.rows).to.deep.equal([]);
      const count = await c.query(
        "SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'sp\\_%'",
      );
      expect(count.rows[0].n).to.be.greaterThan(25);
      const create = await c.query(
        "SELECT has_schema_privilege('public', 'public', 'CREATE') AS anyone, has_schema_privilege('coupon_owner', 'public', 'CREATE') AS owner",
      );
      expect(create.rows[0]).to.deep.equal({ anyone: false, owner: false });
    }, db.url);
  });
});

describePostgres("migrating as a user that is not a superuser (0014)", function () {
  this.timeout(180_000);
  const logins: Login[] = [];
  const databases: string[] = [];
  after(async () => {
    await admin(async (c) => {
      for (const d of databases) await c.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
    });
    await dropLogins(logins);
  });

  /** A fresh, empty database owned by the login. */
  async function ownedDatabase(owner: Login): Promise<string> {
    const name = `coupons_t_${randomBytes(6).toString("hex")}`;
    await admin((c) => c.query(`CREATE DATABASE ${name} OWNER ${owner.user}`));
    databases.push(name);
    return withDatabase(POSTGRES_URL, name, owner);
  }

  it("with CREATEROLE (as Azure's admin): migrates, hands the procedures to coupon_owner, and a coupon_api login redeems", async () => {
    const migrator = await createLogin("mig", "CREATEROLE", logins);
    const url = await ownedDatabase(migrator);
    await migrate(url);
    expect((await migrate(url)).applied).to.deep.equal([]);
    const owners = await admin(
      (c) =>
        c.query(
          "SELECT DISTINCT proowner::regrole::text AS o FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'sp\\_%'",
        ),
      url,
    );
    expect(owners.rows).to.deep.equal([{ o: "coupon_owner" }]);
    const api = await createLogin("api", "IN ROLE coupon_api", logins);
    const ops = await createLogin("ops", "IN ROLE coupon_ops", logins);
    const gen = await createLogin("gen", "IN ROLE coupon_generator", logins);
    const at = (l: Login) => withDatabase(url, new URL(url).pathname.slice(1), l);
    const [apiStore, opsStore, genStore] = await Promise.all([openStore(at(api)), openStore(at(ops)), openStore(at(gen))]);
    try {
      const campaignId = await makeCampaign(opsStore);
      await makeCoupons(genStore, campaignId, ["PRIVMIG1"]);
      expect(await apiStore.redeemCoupon({ code: "PRIVMIG1", userId: "u1" })).to.include({ ok: true });
    } finally {
      await Promise.all([apiStore.close(), opsStore.close(), genStore.close()]);
    }
  });
});
