// The answers of the API as zod schemas: what the OpenAPI document publishes (openapi.ts turns them
// into its components) and what the tests check every real response against. Each named schema
// (meta id) becomes one entry of components.schemas.
import { CAMPAIGN_STATES, GENERATION_STATUSES, REFUSAL_CODES } from "@coupons/db";
import { z } from "zod";

const dateTime = z.iso.datetime();
const nullableDateTime = dateTime.nullable();
const int = z.number().int();

export const Problem = z
  .object({
    type: z.string().describe("urn:coupons:problem:<code in lower case, - for _>"),
    title: z.string(),
    status: int.min(400).max(599),
    code: z
      .string()
      .regex(/^[A-Z_]+$/)
      .describe(`Stable: a refusal code (${REFUSAL_CODES.join(", ")}) or an API error code (see docs/api.md)`),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }).strict())
      .optional()
      .describe("VALIDATION_FAILED: one entry per field refused"),
    couponCode: z.string().optional().describe("refusals of a coupon: its code"),
    campaignId: z.string().nullable().optional().describe("refusals of a coupon: its campaign, null when the coupon does not exist"),
    redemptionId: z.string().nullable().optional().describe("refused redemptions: the id of the recorded attempt (it cannot be reversed)"),
  })
  .meta({
    id: "Problem",
    description: "RFC 9457 problem details",
    examples: [
      {
        type: "urn:coupons:problem:validation-failed",
        title: "The request is not valid",
        status: 400,
        code: "VALIDATION_FAILED",
        detail: "userId: must not be empty",
        errors: [{ field: "userId", message: "must not be empty" }],
      },
    ],
  });

const campaignFields = {
  campaignId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  startDate: dateTime,
  endDate: dateTime,
  discountPercentage: z.number().nullable(),
  discountAmount: z.number().nullable(),
  maxRedemptionsPerUser: int.nullable().describe("null: no limit"),
  maxTotalRedemptions: int.nullable().describe("null: no limit"),
  currentRedemptions: int,
  isActive: z.boolean(),
  createdAt: dateTime,
  updatedAt: dateTime,
  createdBy: z.string().nullable(),
};

export const Campaign = z.object(campaignFields).meta({ id: "Campaign", description: "A campaign as stored" });

export const ActiveCampaign = z
  .object({ ...campaignFields, redemptionPercentage: z.number().nullable().describe("of maxTotalRedemptions; null without one") })
  .meta({ id: "ActiveCampaign", description: "A campaign active now, with how much of its total limit is used" });

export const ListedCampaign = z
  .object({
    ...ActiveCampaign.shape,
    state: z.enum(CAMPAIGN_STATES).describe("ended (past endDate), else paused, else upcoming, else active"),
  })
  .meta({ id: "ListedCampaign", description: "A campaign with its state and how much of its total limit is used" });

export const CampaignList = z
  .object({
    campaigns: z.array(ListedCampaign).describe("by campaignId"),
    nextCursor: z.string().nullable().describe("pass as ?cursor= for the next page; null on the last page"),
  })
  .meta({ id: "CampaignList" });

export const DeletedCampaign = z
  .object({ campaignId: z.string(), deletedCoupons: int, deletedRequests: int })
  .meta({ id: "DeletedCampaign", description: "What deleting a campaign removed" });

export const ExpiredCoupons = z
  .object({ expired: int.describe("coupons expired by this call; redeemed and already expired ones are not counted") })
  .meta({ id: "ExpiredCoupons" });

export const RedemptionStats = z
  .object({ campaignId: z.string(), totalCoupons: int, redeemedCoupons: int, availableCoupons: int, expiredCoupons: int })
  .meta({ id: "RedemptionStats", description: "A campaign's coupons, counted" });

export const CouponDetails = z
  .object({
    couponId: z.string(),
    couponCode: z.string(),
    campaignId: z.string(),
    isRedeemed: z.boolean(),
    redeemedAt: nullableDateTime,
    redeemedBy: z.string().nullable(),
    expiresAt: nullableDateTime,
    assignedTo: z.string().nullable(),
    generationBatchId: z.string().nullable(),
    createdAt: dateTime,
    status: z.enum(["available", "assigned", "redeemed", "expired", "campaign_inactive"]).describe("computed when asked"),
    campaign: Campaign,
  })
  .meta({ id: "CouponDetails", description: "A coupon, its campaign and its status now" });

export const Redemption = z
  .object({
    redeemed: z.literal(true),
    couponId: z.string(),
    couponCode: z.string(),
    campaignId: z.string(),
    redeemedAt: dateTime,
    discountPercentage: z.number().nullable(),
    discountAmount: z.number().nullable(),
    redemptionId: z
      .string()
      .nullable()
      .describe(
        "the redemption's id, to reverse it (POST /v1/redemptions/{redemptionId}/reversal); null only when replaying an outcome stored before it existed",
      ),
  })
  .meta({ id: "Redemption", description: "A successful redemption and the discount to apply" });

export const Validation = z
  .union([
    z.object({
      valid: z.literal(true),
      couponCode: z.string(),
      campaignId: z.string(),
      discountPercentage: z.number().nullable(),
      discountAmount: z.number().nullable(),
    }),
    z.object({
      valid: z.literal(false),
      couponCode: z.string(),
      campaignId: z.string().nullable(),
      reason: z.enum(REFUSAL_CODES).describe("what a redemption would be refused with"),
    }),
  ])
  .meta({ id: "Validation", description: "Whether the user could redeem the coupon now, and if not, why" });

export const GenerationRequest = z
  .object({
    requestId: z.string(),
    campaignId: z.string(),
    requestedAmount: int,
    generatedAmount: int,
    prefix: z.string(),
    codeLength: int,
    expirationDate: nullableDateTime,
    status: z.enum(GENERATION_STATUSES),
    startedAt: nullableDateTime,
    completedAt: nullableDateTime,
    failureReason: z.string().nullable(),
    requestedBy: z.string().nullable(),
    createdAt: dateTime,
    workerId: z.string().nullable(),
    progressPercent: z.number().min(0).max(100),
  })
  .meta({ id: "GenerationRequest", description: "A request for codes and how far its worker got" });

export const Health = z.object({ status: z.literal("ok") });
export const Readiness = z.object({ status: z.literal("ready"), engine: z.enum(["embedded", "postgres", "mssql"]) });
export const Text = z.string();
