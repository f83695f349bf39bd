// Campaigns: GET /v1/campaigns (every campaign, by state, paged), POST /v1/campaigns (admin),
// GET|PATCH|DELETE /v1/campaigns/{id} (edit and delete: admin). Its stats: campaign-stats.ts.
import { CAMPAIGN_STATES, hasAtMostTwoDecimals } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { notFound } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { Campaign, CampaignList, DeletedCampaign } from "../schemas.ts";
import { id, isoDate } from "../validation.ts";

const idParams = z.object({ campaignId: id(100) });

const positiveInt = z.number("must be a number").int("must be an integer").positive("must be positive").max(2_147_483_647);

const discountPercentage = z
  .number("must be a number")
  .gt(0, "must be above 0")
  .max(100, "must be at most 100")
  .refine(hasAtMostTwoDecimals, "must have at most 2 decimals");
const discountAmount = z
  .number("must be a number")
  .gt(0, "must be above 0")
  .lt(1e8, "must be below 100000000")
  .refine(hasAtMostTwoDecimals, "must have at most 2 decimals");
const description = z.string("must be a string").max(1000, "must be at most 1000 characters");

const campaignBody = z
  .object({
    campaignId: id(100),
    name: id(200),
    description: description.nullable().optional(),
    startDate: isoDate,
    endDate: isoDate.describe("after startDate"),
    discountPercentage: discountPercentage.nullable().optional(),
    discountAmount: discountAmount.nullable().optional(),
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

const listQuery = z
  .object({
    state: z
      .enum(CAMPAIGN_STATES, `must be one of ${CAMPAIGN_STATES.join(", ")}`)
      .optional()
      .describe("only campaigns in this state: ended (past endDate), else paused, else upcoming, else active"),
    limit: z
      .string("must be a string")
      .regex(/^\d{1,4}$/, "must be a whole number from 1 to 1000")
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, "must be a whole number from 1 to 1000")
      .optional()
      .describe("at most this many, by campaignId (default 100)"),
    cursor: id(100).optional().describe("the nextCursor of the page before"),
  })
  .strict();

export const listCampaigns = {
  operationId: "listCampaigns",
  method: "get",
  path: "/v1/campaigns",
  tag: "Campaigns",
  summary: "List campaigns: all, or those active, upcoming, paused or ended",
  description:
    "By campaignId, paged, with each one's state, live count and how much of its total limit is used. May be served by a read replica a moment behind the primary.",
  access: ["read"],
  query: listQuery,
  success: {
    status: 200,
    description: "The campaigns",
    schema: CampaignList,
    example: {
      campaigns: [{ ...exampleCampaign, currentRedemptions: 2500, redemptionPercentage: 25, state: "active" }],
      nextCursor: null,
    },
  },
  problems: DATABASE_DOWN,
} as const satisfies Operation;

const patchBody = z
  .object({
    name: id(200).optional(),
    description: description.nullable().optional().describe("null clears it"),
    startDate: isoDate.optional(),
    endDate: isoDate.optional().describe("after startDate"),
    discountPercentage: discountPercentage.nullable().optional().describe("giving it clears discountAmount"),
    discountAmount: discountAmount.nullable().optional().describe("giving it clears discountPercentage"),
    maxRedemptionsPerUser: positiveInt.nullable().optional().describe("null: no limit"),
    maxTotalRedemptions: positiveInt.nullable().optional().describe("null: no limit; not below the redemptions made"),
    isActive: z.boolean("must be a boolean").optional().describe("false pauses the campaign, true resumes it"),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .meta({ id: "CampaignPatch", description: "The fields to change; absent fields keep their value" });

export const updateCampaign = {
  operationId: "updateCampaign",
  method: "patch",
  path: "/v1/campaigns/{campaignId}",
  tag: "Campaigns",
  summary: "Edit a campaign, or pause and resume it",
  description:
    "Effective for the next redemption: after a pause (isActive false) every attempt is refused CAMPAIGN_INACTIVE. A total limit cannot go below the redemptions already made; the end must stay after the start; exactly one discount remains.",
  access: ["admin"],
  params: idParams,
  body: patchBody,
  bodyExample: { name: "Spring sale, extended", endDate: "2030-06-30T23:59:59Z", maxTotalRedemptions: 20000 },
  success: {
    status: 200,
    description: "The campaign after the change",
    schema: Campaign,
    example: { ...exampleCampaign, name: "Spring sale, extended", endDate: "2030-06-30T23:59:59.000Z", maxTotalRedemptions: 20000 },
  },
  problems: {
    404: "NOT_FOUND: no such campaign",
    409: "CONFLICT: maxTotalRedemptions is below the redemptions already made",
    ...DATABASE_DOWN,
  },
} as const satisfies Operation;

export const deleteCampaign = {
  operationId: "deleteCampaign",
  method: "delete",
  path: "/v1/campaigns/{campaignId}",
  tag: "Campaigns",
  summary: "Delete a campaign with its coupons and generation requests",
  description:
    "Deletes its coupons, generation requests and per-user counts; the redemption history stays. Refused while it has redemptions unless force=true, and while a worker is generating codes for it.",
  access: ["admin"],
  params: idParams,
  query: z
    .object({
      force: z.enum(["true", "false"], "must be true or false").optional().describe("true: delete even with redemptions"),
    })
    .strict(),
  success: {
    status: 200,
    description: "What was deleted",
    schema: DeletedCampaign,
    example: { campaignId: "SPRING-2030", deletedCoupons: 10000, deletedRequests: 1 },
  },
  problems: {
    404: "NOT_FOUND: no such campaign",
    409: "CONFLICT: it has redemptions (use force=true), or a worker is generating codes for it",
    ...DATABASE_DOWN,
  },
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

export function campaignRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(listCampaigns, async ({ query }, _req, res) => {
    const limit = query.limit ?? 100;
    const campaigns = await store.listCampaigns({ state: query.state, limit, after: query.cursor });
    res.json({ campaigns, nextCursor: campaigns.length === limit ? (campaigns.at(-1)?.campaignId ?? null) : null });
  });
  register(updateCampaign, async ({ params, body }, _req, res) => {
    res.json(await store.updateCampaign(params.campaignId, body));
  });
  register(deleteCampaign, async ({ params, query }, _req, res) => {
    res.json(await store.deleteCampaign(params.campaignId, { force: query.force === "true" }));
  });
  register(createCampaign, async ({ body }, _req, res) => {
    const created = await store.createCampaign({ ...body, createdBy: callerOf(res).principal });
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
}
