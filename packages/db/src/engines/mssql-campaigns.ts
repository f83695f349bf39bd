// The mssql engine's campaign and coupon calls: campaigns, details, redeem, validate, assignment and
// the attempt log. Inputs arrive checked (store.ts).
import sql from "mssql";
import { documentOf, one, redeemResultFromJson, validateResultFromJson } from "../results.ts";
import {
  type Row,
  activeCampaignFromRow,
  attemptFromRow,
  campaignFromRow,
  couponDetailsFromRow,
  listedCampaignFromRow,
  num,
  statsFromRow,
  str,
} from "../rows.ts";
import type { CheckedCampaign, EngineOps } from "../store.ts";
import { type MssqlCalls, type Param, nv } from "./mssql-calls.ts";

type CampaignOps = Pick<
  EngineOps,
  | "createCampaign"
  | "getCampaign"
  | "listActiveCampaigns"
  | "getRedemptionStats"
  | "listCampaigns"
  | "updateCampaign"
  | "deleteCampaign"
  | "expireCoupons"
  | "getCouponDetails"
  | "redeemCoupon"
  | "validateCoupon"
  | "assignCoupon"
  | "listRedemptionAttempts"
>;

/** A campaign's fields as procedure parameters (sp_CreateCampaign, sp_UpdateCampaign). */
function campaignParams(x: Omit<CheckedCampaign, "createdBy">): Param[] {
  return [
    ["CampaignId", nv(100), x.campaignId],
    ["Name", nv(200), x.name],
    ["Description", nv(1000), x.description],
    ["StartDate", sql.DateTime2, x.startDate],
    ["EndDate", sql.DateTime2, x.endDate],
    ["DiscountPercentage", sql.Decimal(5, 2), x.discountPercentage],
    ["DiscountAmount", sql.Decimal(10, 2), x.discountAmount],
    ["MaxRedemptionsPerUser", sql.Int, x.maxRedemptionsPerUser],
    ["MaxTotalRedemptions", sql.Int, x.maxTotalRedemptions],
    ["IsActive", sql.Bit, x.isActive],
  ];
}

export function campaignCalls(c: MssqlCalls): CampaignOps {
  return {
    async createCampaign(x) {
      const rows = await c.rows("dbo.sp_CreateCampaign", [...campaignParams(x), ["CreatedBy", nv(100), x.createdBy]], false);
      return campaignFromRow(one(rows, "sp_CreateCampaign"));
    },

    async getCampaign(campaignId) {
      const rows = await c.rows("dbo.sp_GetCampaign", [["CampaignId", nv(100), campaignId]]);
      return rows[0] ? campaignFromRow(rows[0]) : null;
    },

    async listActiveCampaigns() {
      return (await c.read("listActiveCampaigns", "dbo.sp_GetActiveCampaigns", [])).map(activeCampaignFromRow);
    },

    async getRedemptionStats(campaignId) {
      const rows = await c.read("getRedemptionStats", "dbo.sp_GetRedemptionStats", [["CampaignId", nv(100), campaignId]]);
      return rows[0] ? statsFromRow(rows[0]) : null;
    },

    async listCampaigns(f) {
      const rows = await c.read("listCampaigns", "dbo.sp_ListCampaigns", [
        ["State", nv(20), f.state],
        ["Limit", sql.Int, f.limit],
        ["After", nv(100), f.after],
      ]);
      return rows.map(listedCampaignFromRow);
    },

    async updateCampaign(x) {
      await c.exec("dbo.sp_UpdateCampaign", campaignParams(x), true);
    },

    async deleteCampaign(campaignId, force) {
      const rows = await c.rows(
        "dbo.sp_DeleteCampaign",
        [
          ["CampaignId", nv(100), campaignId],
          ["Force", sql.Bit, force],
        ],
        false,
      );
      const r = one(rows, "sp_DeleteCampaign");
      return { campaignId, deletedCoupons: num(r, "DeletedCoupons"), deletedRequests: num(r, "DeletedRequests") };
    },

    async expireCoupons(code, requestId, campaignId) {
      const rows = await c.rows(
        "dbo.sp_ExpireCoupons",
        [
          ["CouponCode", nv(200), code],
          ["RequestId", nv(100), requestId],
          ["CampaignId", nv(100), campaignId],
        ],
        true,
      );
      return num(one(rows, "sp_ExpireCoupons"), "expired");
    },

    async getCouponDetails(code) {
      const rows = await c.rows("dbo.sp_GetCouponDetails", [["CouponCode", nv(200), code]]);
      const r = rows[0];
      if (!r) return null;
      return couponDetailsFromRow(r, campaignFromRow(JSON.parse(str(r, "CampaignJson")) as Row));
    },

    async redeemCoupon(r) {
      // With a key, a repeat is a replay of the stored outcome, so any transient failure may be retried.
      const rows = await c.rows(
        "dbo.sp_RedeemCoupon",
        [
          ["CouponCode", nv(200), r.code],
          ["UserId", nv(100), r.userId],
          ["IpAddress", nv(200), r.ipAddress],
          ["UserAgent", nv(4000), r.userAgent],
          ["IdempotencyKey", nv(200), r.idempotencyKey],
          ["RequestHash", nv(4000), r.requestHash],
          ["ClientId", nv(4000), r.clientId],
        ],
        r.idempotencyKey !== null,
      );
      return redeemResultFromJson(documentOf(rows[0]));
    },

    async validateCoupon(code, userId) {
      const rows = await c.rows("dbo.sp_ValidateCoupon", [
        ["CouponCode", nv(200), code],
        ["UserId", nv(100), userId],
      ]);
      return validateResultFromJson(documentOf(rows[0]));
    },

    async assignCoupon(code, userId) {
      await c.exec(
        "dbo.sp_AssignCoupon",
        [
          ["CouponCode", nv(200), code],
          ["UserId", nv(100), userId],
        ],
        true,
      );
    },

    async listRedemptionAttempts(f) {
      const rows = await c.read("listRedemptionAttempts", "dbo.sp_ListRedemptionAttempts", [
        ["CouponCode", nv(200), f.couponCode],
        ["UserId", nv(100), f.userId],
        ["Limit", sql.Int, f.limit],
      ]);
      return rows.map(attemptFromRow);
    },
  };
}
