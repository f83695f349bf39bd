// Campaigns: GET /v1/campaigns (active now), POST /v1/campaigns (admin), GET /v1/campaigns/{id},
// GET /v1/campaigns/{id}/stats.
import { hasAtMostTwoDecimals } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { notFound } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { ActiveCampaigns, Campaign, RedemptionStats } from "../schemas.ts";
import { id, isoDate } from "../validation.ts";

const idParams = z.object({ campaignId: id(100) });

const positiveInt = z.number("must be a number").int("must be an integer").positive("must be positive").max(2_147_483_647);

const campaignBody = z
  .object({
    campaignId: id(100),
    name: id(200),
    description: z.string("must be a string").max(1000, "must be at most 1000 characters").nullable().optional(),
    startDate: isoDate,
    endDate: isoDate.describe("after startDate"),
    discountPercentage: z
      .number("must be a number")
      .gt(0, "must be above 0")
      .max(100, "must be at most 100")
      .refine(hasAtMostTwoDecimals, "must have at most 2 decimals")
      .nullable()
      .optional(),
    discountAmount: z
      .number("must be a number")
      .gt(0, "must be above 0")
      .lt(1e8, "must be below 100000000")
      .refine(hasAtMostTwoDecimals, "must have at most 2 decimals")
      .nullable()
      .optional(),
    maxRedemptionsPerUser: positiveInt.nullable().optional().describe("absent or null: no limit"),
    maxTotalRedemptions: positiveInt.nullable().optional().describe("absent or null: no limit"),
    isActive: z.boolean("must be a boolean").optional().describe("true when absent"),
  })
  .strict()
  .superRefine((b, ctx) => {
    // refinements run even when a field failed: only compare dates that parsed
    if (b.endDate instanceof Date && b.startDate instanceof Date && b.endDate.getTime() <= b.startDate.getTime())
      ctx.addIssue({ code: "custom", path: ["endDate"], message: "must be after startDate" });
    if ((b.discountPercentage == null) === (b.discountAmount == null)) {
      ctx.addIssue({
        code: "custom",
        path: ["discountPercentage"],
        message: "exactly one of discountPercentage and discountAmount must be given",
      });
    }
  })
  .meta({ id: "CampaignInput", description: "A new campaign: exactly one of discountPercentage and discountAmount" });

const exampleCampaign = {
  campaignId: "SPRING-2030",
  name: "Spring sale",
  description: "15% off everything",
  startDate: "2030-03-01T00:00:00.000Z",
  endDate: "2030-05-31T23:59:59.000Z",
  discountPercentage: 15,
  discountAmount: null,
  maxRedemptionsPerUser: 1,
  maxTotalRedemptions: 10000,
  currentRedemptions: 0,
  isActive: true,
  createdAt: "2030-02-01T09:00:00.000Z",
  updatedAt: "2030-02-01T09:00:00.000Z",
  createdBy: "apikey:admin",
};

export const listActiveCampaigns = {
  operationId: "listActiveCampaigns",
  method: "get",
  path: "/v1/campaigns",
  tag: "Campaigns",
  summary: "List the campaigns active now",
  description: "Campaigns switched on whose start and end dates include now, with how much of their total limit is used.",
  access: ["read"],
  success: {
    status: 200,
    description: "The active campaigns",
    schema: ActiveCampaigns,
    example: { campaigns: [{ ...exampleCampaign, currentRedemptions: 2500, redemptionPercentage: 25 }] },
  },
  problems: DATABASE_DOWN,
} as const satisfies Operation;

export const createCampaign = {
  operationId: "createCampaign",
  method: "post",
  path: "/v1/campaigns",
  tag: "Campaigns",
  summary: "Create a campaign",
  description: "Dates are ISO 8601 with a zone. Codes for it come from generation requests.",
  access: ["admin"],
  body: campaignBody,
  bodyExample: {
    campaignId: "SPRING-2030",
    name: "Spring sale",
    description: "15% off everything",
    startDate: "2030-03-01T00:00:00Z",
    endDate: "2030-05-31T23:59:59Z",
    discountPercentage: 15,
    maxRedemptionsPerUser: 1,
    maxTotalRedemptions: 10000,
  },
  success: {
    status: 201,
    description: "Created",
    schema: Campaign,
    example: exampleCampaign,
    headers: { Location: { description: "the campaign's URL", schema: z.string(), required: true } },
  },
  problems: { 409: "CONFLICT: a campaign with this id exists", ...DATABASE_DOWN },
} as const satisfies Operation;

export const getCampaign = {
  operationId: "getCampaign",
  method: "get",
  path: "/v1/campaigns/{campaignId}",
  tag: "Campaigns",
  summary: "Read one campaign",
  description: "The campaign as stored, active or not.",
  access: ["read"],
  params: idParams,
  success: { status: 200, description: "The campaign", schema: Campaign, example: exampleCampaign },
  problems: { 404: "NOT_FOUND: no such campaign", ...DATABASE_DOWN },
} as const satisfies Operation;

export const getRedemptionStats = {
  operationId: "getRedemptionStats",
  method: "get",
  path: "/v1/campaigns/{campaignId}/stats",
  tag: "Campaigns",
  summary: "Count a campaign's coupons: total, redeemed, available, expired",
  description: "Counted when asked; may be served by a read replica a moment behind the primary.",
  access: ["read"],
  params: idParams,
  success: {
    status: 200,
    description: "The counts",
    schema: RedemptionStats,
    example: { campaignId: "SPRING-2030", totalCoupons: 10000, redeemedCoupons: 2500, availableCoupons: 7400, expiredCoupons: 100 },
  },
  problems: { 404: "NOT_FOUND: no such campaign", ...DATABASE_DOWN },
} as const satisfies Operation;

export function campaignRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(listActiveCampaigns, async (_input, _req, res) => {
    res.json({ campaigns: await store.listActiveCampaigns() });
  });
  register(createCampaign, async ({ body }, _req, res) => {
    const created = await store.createCampaign({ ...body, createdBy: `apikey:${callerOf(res).keyId}` });
    res
      .status(201)
      .location(`/v1/campaigns/${encodeURIComponent(created.campaignId)}`)
      .json(created);
  });
  register(getCampaign, async ({ params }, _req, res) => {
    const c = await store.getCampaign(params.campaignId);
    if (!c) throw notFound(`campaign ${params.campaignId} does not exist`);
    res.json(c);
  });
  register(getRedemptionStats, async ({ params }, _req, res) => {
    const stats = await store.getRedemptionStats(params.campaignId);
    if (!stats) throw notFound(`campaign ${params.campaignId} does not exist`);
    res.json(stats);
  });
}
