// The procedure -> roles map (database/<dialect>/R__0900_grants.sql): whole, the same in both
// dialects, and drawing the lines the roles promise. Each check also runs on a broken copy held in
// memory, where it must find the fault and say which line to add or change.
import { readFileSync, readdirSync } from "node:fs";
import { expect } from "chai";
import { type Dialect, type DialectFiles, grantsMapProblems, lineFor, parseGrants, repositoryGrantFiles, rolesOf } from "./grants-map.ts";

const repo = repositoryGrantFiles();
const pgMap = parseGrants(repo.postgres.grants, "postgres").map;

/** The repository's files with one dialect's grants or repeatables changed. */
function broken(d: Dialect, change: Partial<DialectFiles> | ((f: DialectFiles) => Partial<DialectFiles>)): Record<Dialect, DialectFiles> {
  const patch = typeof change === "function" ? change(repo[d]) : change;
  return { ...repo, [d]: { ...repo[d], ...patch } };
}

describe("the procedure -> roles map (R__0900_grants.sql)", () => {
  it("has a line for every sp_ procedure of both dialects, the same lines in both, naming only the three roles", () => {
    expect(pgMap.size).to.be.greaterThan(25);
    expect(grantsMapProblems(repo)).to.deep.equal([]);
  });

  it("names the exact line to add when a procedure has none, in each dialect", () => {
    const pg = grantsMapProblems(broken("postgres", (f) => ({ grants: f.grants.replace(/^\s*'sp_RedeemCoupon .*\n/m, "") })));
    expect(pg).to.have.length(2); // no line, and the T-SQL map has one the PostgreSQL map lacks
    expect(pg[0]).to.contain(
      `database/postgres/R__0900_grants.sql: procedure sp_RedeemCoupon has no line; add\n${lineFor("postgres", "sp_RedeemCoupon", "<roles>")}`,
    );
    expect(pg[1]).to.equal(
      `database/postgres/R__0900_grants.sql: sp_RedeemCoupon is in the T-SQL map but not here; add\n    'sp_RedeemCoupon                  coupon_api',`,
    );
    const added = "\nGO\nCREATE OR ALTER PROCEDURE dbo.sp_NotInTheMap @CouponCode nvarchar(200) AS SELECT 1;\nGO\n";
    const ms = grantsMapProblems(broken("mssql", (f) => ({ repeatables: f.repeatables + added })));
    expect(ms).to.have.length(1);
    expect(ms[0]).to.contain(`procedure sp_NotInTheMap has no line; add\n    (N'sp_NotInTheMap                   <roles>'),`);
  });

  it("refuses maps that differ, a role that is not one of the three, a procedure that does not exist, a line twice", () => {
    const differ = grantsMapProblems(
      broken("mssql", (f) => ({
        grants: f.grants.replace(/\(N'sp_ExportCoupons\s+[^']*'\)/, "(N'sp_ExportCoupons coupon_api coupon_ops')"),
      })),
    );
    expect(differ).to.deep.equal([
      "the two maps differ on sp_ExportCoupons: database/postgres/R__0900_grants.sql grants [coupon_generator coupon_ops], database/mssql/R__0900_grants.sql [coupon_api coupon_ops]; make them the same",
    ]);
    const wrong = grantsMapProblems(
      broken("postgres", (f) => ({
        grants: f.grants
          .replace(/'sp_FraudReport\s+[^']*'/, "'sp_FraudReport coupon_app'")
          .replace(/'sp_GetCampaign\s/, "'sp_GetCampaign2 "),
      })),
    );
    expect(wrong.join("\n")).to.contain(
      "the line of sp_FraudReport names coupon_app, which is not one of coupon_api, coupon_generator, coupon_ops",
    );
    expect(wrong.join("\n")).to.contain("the line of sp_GetCampaign2 names a procedure no repeatable file defines; remove it");
    expect(wrong.join("\n")).to.contain("procedure sp_GetCampaign has no line");
    const twice = grantsMapProblems(broken("postgres", (f) => ({ grants: f.grants.replace(/^(\s*'sp_FraudReport .*\n)/m, "$1$1") })));
    expect(twice).to.deep.equal(["database/postgres/R__0900_grants.sql: sp_FraudReport has two lines; keep one"]);
  });

  it("keeps the API from exporting codes, purging keys and generating, and the generator from redeeming", () => {
    const api = (p: string) => rolesOf(pgMap, p).includes("coupon_api");
    const gen = (p: string) => rolesOf(pgMap, p).includes("coupon_generator");
    for (const p of [
      "sp_ExportCoupons",
      "sp_PurgeIdempotencyKeys",
      "sp_BulkInsertCoupons",
      "sp_ClaimGenerationRequest",
      "sp_ArchiveRedemptionHistory",
    ])
      expect(api(p), `coupon_api may not call ${p}`).to.equal(false);
    for (const p of ["sp_RedeemCoupon", "sp_ValidateCoupon", "sp_AssignCoupon", "sp_PurgeIdempotencyKeys", "sp_DeleteCampaign"])
      expect(gen(p), `coupon_generator may not call ${p}`).to.equal(false);
    expect(rolesOf(pgMap, "sp_SyncCampaignCounters"), "the maintenance procedure is nobody's").to.deep.equal([]);
  });

  it("grants every procedure the engines call to at least one role", () => {
    const src = new URL("../src/", import.meta.url);
    const engines = new URL("engines/", src);
    const code = [
      readFileSync(new URL("sql-store.ts", src), "utf8"),
      ...readdirSync(engines).map((f) => readFileSync(new URL(f, engines), "utf8")),
    ].join("\n");
    const called = new Set([...code.matchAll(/\b(?:FROM |SELECT |dbo\.)(sp_[A-Za-z]+)\(?/g)].map((m) => m[1] as string));
    expect(called.size).to.be.greaterThan(25);
    expect([...called].filter((p) => rolesOf(pgMap, p).length === 0)).to.deep.equal([]);
  });
});
