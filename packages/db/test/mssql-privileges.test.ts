// Least privilege on a real SQL Server (TEST_MSSQL_URL; skipped with the reason otherwise): a user in
// each process role (migration 0014, map database/mssql/R__0900_grants.sql) connects through the
// real CouponStore and is refused what its process must not do (error 229, EXECUTE permission
// denied), and none may read or write a table. Twin of the PostgreSQL case in privileges.test.ts.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import sql from "mssql";
import { type CouponStore, openStore } from "../src/index.ts";
import { buildMssqlSettings } from "../src/engines/mssql-config.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { MSSQL_URL, type MssqlTestDatabase, adminBatches, createMssqlDatabase, describeMssql } from "./mssql-support.ts";
import { withDatabase } from "./urls.ts";

const ROLES = { api: "coupon_api", generator: "coupon_generator", ops: "coupon_ops" } as const;
type Key = keyof typeof ROLES;

/** The messages of an error and its causes. */
function messages(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(String(e.message));
  return out.join(" <- ");
}

async function refused(p: Promise<unknown>, procedure: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${procedure} must be refused, but the call succeeded`).to.not.equal(null);
  expect(messages(err)).to.match(new RegExp(`EXECUTE permission was denied on the object '${procedure}'`, "i"));
}

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

describeMssql("least privilege on SQL Server (0014, R__0900_grants.sql)", function () {
  this.timeout(180_000);
  let db: MssqlTestDatabase;
  const logins: string[] = [];
  const urls = {} as Record<Key, string>;
  const stores = {} as Record<Key, CouponStore>;

  before(async () => {
    db = await createMssqlDatabase();
    for (const key of Object.keys(ROLES) as Key[]) {
      const login = { user: `${db.name}_${key}`, password: `Aa1!${randomBytes(12).toString("hex")}` };
      await adminBatches([`CREATE LOGIN [${login.user}] WITH PASSWORD = N'${login.password}', CHECK_POLICY = OFF`]);
      logins.push(login.user);
      await adminBatches(
        [`CREATE USER [${login.user}] FOR LOGIN [${login.user}]`, `ALTER ROLE ${ROLES[key]} ADD MEMBER [${login.user}]`],
        db.name,
      );
      urls[key] = withDatabase(MSSQL_URL, db.name, login);
      stores[key] = await openStore(urls[key], { poolSize: 2 });
    }
  });

  after(async () => {
    await Promise.all(Object.values(stores).map((s) => s.close().catch(() => {})));
    await db?.drop();
    if (logins.length) await adminBatches(logins.map((l) => `IF SUSER_ID(N'${l}') IS NOT NULL DROP LOGIN [${l}]`));
  });

  it("the generator creates and fills requests but may not redeem, validate or purge", async () => {
    const campaignId = await makeCampaign(stores.ops);
    await makeCoupons(stores.generator, campaignId, ["MSPRIVG1"]);
    await refused(stores.generator.redeemCoupon({ code: "MSPRIVG1", userId: "u1" }), "sp_RedeemCoupon");
    await refused(stores.generator.validateCoupon({ code: "MSPRIVG1", userId: "u1" }), "sp_ValidateCoupon");
    await refused(stores.generator.purgeIdempotencyKeys(new Date()), "sp_PurgeIdempotencyKeys");
  });

  it("the API redeems but may not export codes, purge idempotency keys or fill requests", async () => {
    const campaignId = await makeCampaign(stores.api);
    const requestId = await makeCoupons(stores.generator, campaignId, ["MSPRIVA1"]);
    expect(await stores.api.redeemCoupon({ code: "MSPRIVA1", userId: "u1" })).to.include({ ok: true });
    await refused(drain(stores.api.streamCoupons({ campaignId })), "sp_ExportCoupons");
    await refused(stores.api.purgeIdempotencyKeys(new Date()), "sp_PurgeIdempotencyKeys");
    await refused(stores.api.bulkInsertCoupons(requestId, ["MSPRIVA9"]), "sp_BulkInsertCoupons");
    expect(await drain(stores.ops.streamCoupons({ campaignId }))).to.equal(1);
  });

  it("operations archive, report fraud and purge keys, but may not redeem or fill requests", async () => {
    const campaignId = await makeCampaign(stores.ops);
    const requestId = await makeCoupons(stores.generator, campaignId, ["MSPRIVO1"]);
    expect(await stores.api.redeemCoupon({ code: "MSPRIVOX", userId: "ms-bad-user" })).to.include({ ok: false });
    const report = await stores.ops.fraudReport({ since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000), by: "user" });
    expect(report.map((r) => r.subject)).to.include("ms-bad-user");
    expect((await stores.ops.archiveRedemptionHistory({ before: new Date(Date.now() + 60_000) })).moved).to.be.greaterThan(0);
    await stores.ops.purgeIdempotencyKeys(new Date());
    await refused(stores.ops.redeemCoupon({ code: "MSPRIVO1", userId: "u1" }), "sp_RedeemCoupon");
    await refused(stores.ops.bulkInsertCoupons(requestId, ["MSPRIVO9"]), "sp_BulkInsertCoupons");
  });

  it("no role may read or write a table or create one", async () => {
    for (const key of Object.keys(ROLES) as Key[]) {
      const pool = new sql.ConnectionPool(buildMssqlSettings({ engine: "mssql", url: urls[key] }, { poolSize: 1 }).config);
      await pool.connect();
      try {
        for (const text of ["SELECT TOP (1) * FROM dbo.Coupons", "DELETE FROM dbo.IdempotencyKeys", "CREATE TABLE dbo.Planted (a int)"]) {
          const err = await pool
            .request()
            .query(text)
            .then(
              () => null,
              (e: { number?: number }) => e,
            );
          expect([229, 262], `${key}: ${text} must be refused`).to.include(err?.number);
        }
      } finally {
        await pool.close();
      }
    }
  });
});
