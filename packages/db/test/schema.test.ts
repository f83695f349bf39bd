// What the schema itself guarantees, checked with SQL on both PostgreSQL-family engines: the seed's
// cascades, the history kept on purpose, and the checks that back the store's validation.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { expect } from "chai";
import pg from "pg";
import { openStore } from "../src/index.ts";
import { makeCampaign, makeCoupons } from "./conformance.ts";
import { createPostgresDatabase, describePostgres } from "./support.ts";

type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

const COUNT_BY_CAMPAIGN = ["Coupons", "GenerationRequests", "UserRedemptions", "CampaignCounterSlots", "RedemptionHistory"];

async function seedAndDelete(url: string, withSql: (fn: (sql: Sql) => Promise<void>) => Promise<void>) {
  const store = await openStore(url);
  let campaignId: string;
  try {
    campaignId = await makeCampaign(store, { maxTotal: 5 });
    await makeCoupons(store, campaignId, ["CASCADE1", "CASCADE2"]);
    expect((await store.redeemCoupon({ code: "CASCADE1", userId: "u1" })).ok).to.equal(true);
  } finally {
    await store.close();
  }
  await withSql(async (sql) => {
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const t of COUNT_BY_CAMPAIGN)
        out[t] = Number((await sql(`SELECT count(*) AS n FROM ${t} WHERE CampaignId = $1`, [campaignId]))[0]?.n);
      return out;
    };
    expect(await counts()).to.deep.equal({
      Coupons: 2,
      GenerationRequests: 1,
      UserRedemptions: 1,
      CampaignCounterSlots: 16,
      RedemptionHistory: 1,
    });
    await sql("DELETE FROM Campaigns WHERE CampaignId = $1", [campaignId]);
    // the audit trail stays: RedemptionHistory has no foreign key on purpose
    expect(await counts()).to.deep.equal({
      Coupons: 0,
      GenerationRequests: 0,
      UserRedemptions: 0,
      CampaignCounterSlots: 0,
      RedemptionHistory: 1,
    });
    // a redeemed flag without a time, or a lower-case code, is refused by the table itself
    await sql(
      "INSERT INTO Campaigns (CampaignId, Name, StartDate, EndDate, DiscountAmount) VALUES ('k','k',now(),now()+interval '1 day',1)",
    );
    for (const bad of [
      "INSERT INTO Coupons (CouponCode, CampaignId) VALUES ('lower', 'k')",
      "INSERT INTO Coupons (CouponCode, CampaignId, IsRedeemed) VALUES ('X1', 'k', true)",
      "INSERT INTO Campaigns (CampaignId, Name, StartDate, EndDate) VALUES ('n','n',now(),now()+interval '1 day')",
      "INSERT INTO GenerationRequests (RequestId, CampaignId, RequestedAmount, Status) VALUES ('r','k',1,'Done')",
    ]) {
      let failed = false;
      try {
        await sql(bad);
      } catch (err) {
        failed = /violates check constraint/.test((err as Error).message);
      }
      expect(failed, bad).to.equal(true);
    }
  });
}

describe("schema guarantees", () => {
  it("embedded: deleting a campaign cascades to its coupons, requests, user counts and slots, and keeps the history", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coupons-schema-"));
    try {
      const path = join(dir, "db");
      await seedAndDelete(`embedded:${path}`, async (fn) => {
        const db = await PGlite.create({ dataDir: path });
        try {
          await fn(async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows);
        } finally {
          await db.close();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describePostgres("postgres", () => {
    it("deleting a campaign cascades to its coupons, requests, user counts and slots, and keeps the history", async () => {
      const db = await createPostgresDatabase();
      try {
        await seedAndDelete(db.url, async (fn) => {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            await fn(async (text, params) => (await c.query(text, params)).rows);
          } finally {
            await c.end();
          }
        });
      } finally {
        await db.drop();
      }
    });
  });
});
