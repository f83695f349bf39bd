// The API's hourly idempotency key purge under least privilege (docs/database.md, "Roles"): as a
// login in coupon_api it is refused, says so once and stops; as a login allowed to purge it purges.
// Real PostgreSQL logins, made for the run and dropped after; the runs are driven by the purge's own
// outcome callback, not by waiting.
import { randomBytes } from "node:crypto";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import pg from "pg";
import { pino } from "pino";
import { makeCampaign, makeCoupons } from "../../../packages/db/test/conformance.ts";
import { POSTGRES_URL, type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { withDatabase } from "../../../packages/db/test/urls.ts";
import { permissionDenied, startKeyPurge } from "../src/key-purge.ts";

type Outcome = number | "not-permitted" | "failed";

/** One purge run, a millisecond in, with its log lines. */
async function purgeOnce(store: CouponStore): Promise<{ outcome: Outcome; logs: string[] }> {
  const logs: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => logs.push(line) });
  const outcome = await new Promise<Outcome>((resolve) => {
    const purge = startKeyPurge(store, logger, {
      retentionHours: 0,
      firstAfterMs: 1,
      everyMs: 3_600_000,
      onRun: (o) => {
        purge.stop();
        resolve(o);
      },
    });
  });
  return { outcome, logs };
}

describe("permissionDenied", () => {
  it("recognises PostgreSQL 42501 and SQL Server 229 anywhere in the cause chain, and nothing else", () => {
    expect(permissionDenied({ code: "42501" })).to.equal(true);
    expect(permissionDenied(new Error("wrapped", { cause: { number: 229 } }))).to.equal(true);
    expect(permissionDenied({ code: "57P01" })).to.equal(false);
    expect(permissionDenied(new Error("permission denied, said in words only"))).to.equal(false);
  });
});

describePostgres("the API's idempotency key purge under least privilege", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  const logins: string[] = [];
  const stores: CouponStore[] = [];
  async function storeAs(role: string): Promise<CouponStore> {
    const login = { user: `coupons_t_${randomBytes(5).toString("hex")}_purge`, password: randomBytes(12).toString("hex") };
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${login.user} LOGIN PASSWORD '${login.password}' IN ROLE ${role}`);
    } finally {
      await admin.end();
    }
    logins.push(login.user);
    const store = await openStore(withDatabase(POSTGRES_URL, db.name, login), { poolSize: 2 });
    stores.push(store);
    return store;
  }
  before(async () => {
    db = await createPostgresDatabase();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    await db?.drop();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      for (const l of logins) await admin.query(`DROP ROLE IF EXISTS ${l}`);
    } finally {
      await admin.end();
    }
  });

  it("as coupon_api: refused, it logs once that the operations job purges them", async () => {
    const api = await storeAs("coupon_api");
    const { outcome, logs } = await purgeOnce(api);
    expect(outcome).to.equal("not-permitted");
    expect(logs).to.have.length(1);
    expect(JSON.parse(logs[0] as string)).to.include({ event: "idempotency.purge.notPermitted", level: 30 });
    expect(logs[0]).to.contain("coupons-ops purge-idempotency-keys");
  });

  it("as coupon_ops: it purges the keys older than the retention", async () => {
    const ops = await storeAs("coupon_ops");
    const api = await storeAs("coupon_api");
    const gen = await storeAs("coupon_generator");
    const campaignId = await makeCampaign(ops);
    await makeCoupons(gen, campaignId, ["KEYPURGE1"]);
    expect(await api.redeemCoupon({ code: "KEYPURGE1", userId: "u1", idempotencyKey: "key-purge-1" })).to.include({ ok: true });
    const { outcome, logs } = await purgeOnce(ops);
    expect(outcome).to.equal(1);
    expect(JSON.parse(logs[0] as string)).to.include({ purged: 1, msg: "idempotency keys purged" });
  });
});
