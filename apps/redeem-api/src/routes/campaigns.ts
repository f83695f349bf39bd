// Campaigns: GET /v1/campaigns (active now), POST /v1/campaigns (admin), GET /v1/campaigns/{id},
// GET /v1/campaigns/{id}/stats.
import { hasAtMostTwoDecimals } from "@coupons/db";
import { z } from "zod";
import type { Deps, Register } from "../app.ts";
import { callerOf, requireScope } from "../auth.ts";
import { notFound } from "../problems.ts";
import { id, isoDate, parse } from "../validation.ts";

const idParams = z.object({ campaignId: id(100) });

const positiveInt = z.number("must be a number").int("must be an integer").positive("must be positive").max(2_147_483_647);

const campaignBody = z
  .object({
    campaignId: id(100),
    name: id(200),
    description: z.string("must be a string").max(1000, "must be at most 1000 characters").nullable().optional(),
    startDate: isoDate,
    endDate: isoDate,
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
    maxRedemptionsPerUser: positiveInt.nullable().optional(),
    maxTotalRedemptions: positiveInt.nullable().optional(),
    isActive: z.boolean("must be a boolean").optional(),
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
  });

export function campaignRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  const keys = deps.config.apiKeys;
  register("/v1/campaigns", {
    get: [
      requireScope(keys, "read"),
      async (_req, res) => {
        res.json({ campaigns: await store.listActiveCampaigns() });
      },
    ],
    post: [
      requireScope(keys, "admin"),
      async (req, res) => {
        const body = parse(campaignBody, req.body, "body");
        const created = await store.createCampaign({ ...body, createdBy: `apikey:${callerOf(res).keyId}` });
        res
          .status(201)
          .location(`/v1/campaigns/${encodeURIComponent(created.campaignId)}`)
          .json(created);
      },
    ],
  });

  register("/v1/campaigns/:campaignId", {
    get: [
      requireScope(keys, "read"),
      async (req, res) => {
        const { campaignId } = parse(idParams, req.params, "path");
        const c = await store.getCampaign(campaignId);
        if (!c) throw notFound(`campaign ${campaignId} does not exist`);
        res.json(c);
      },
    ],
  });

  register("/v1/campaigns/:campaignId/stats", {
    get: [
      requireScope(keys, "read"),
      async (req, res) => {
        const { campaignId } = parse(idParams, req.params, "path");
        const stats = await store.getRedemptionStats(campaignId);
        if (!stats) throw notFound(`campaign ${campaignId} does not exist`);
        res.json(stats);
      },
    ],
  });
}
