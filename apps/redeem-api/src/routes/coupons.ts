// Coupon lookups and assignment: GET /v1/coupons/{code}, PUT|DELETE /v1/coupons/{code}/assignment;
// expiring now (admin): POST /v1/coupons/{code}/expire, /v1/generation-requests/{id}/expire and
// /v1/campaigns/{id}/expire.
import type { ExpireTarget } from "@coupons/db";
import { z } from "zod";
import { notFound } from "../problems.ts";
import { BUSY } from "../admission.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { CouponDetails, ExpiredCoupons } from "../schemas.ts";
import { THROTTLED, subjectsOf, throttledProblem } from "../throttle-http.ts";
import { couponCode, id, userId } from "../validation.ts";

const codeParams = z.object({ code: couponCode.describe("the coupon's code, in any case") });
const assignBody = z.object({ userId }).strict().meta({ id: "AssignmentInput", description: "The user the coupon is kept for" });

const exampleDetails = {
  couponId: "1001",
  couponCode: "SPRING-7KQ2MX9A",
  campaignId: "SPRING-2030",
  isRedeemed: false,
  redeemedAt: null,
  redeemedBy: null,
  expiresAt: "2030-05-31T23:59:59.000Z",
  assignedTo: null,
  generationBatchId: "5f0c3c9e-1b7a-4d2e-9a51-0d6f2b7c8e11",
  createdAt: "2030-02-01T09:05:00.000Z",
  status: "available",
  campaign: {
    campaignId: "SPRING-2030",
    name: "Spring sale",
    description: null,
    startDate: "2030-03-01T00:00:00.000Z",
    endDate: "2030-05-31T23:59:59.000Z",
    discountPercentage: 15,
    discountAmount: null,
    maxRedemptionsPerUser: 1,
    maxTotalRedemptions: null,
    currentRedemptions: 0,
    isActive: true,
    createdAt: "2030-02-01T09:00:00.000Z",
    updatedAt: "2030-02-01T09:00:00.000Z",
    createdBy: "apikey:admin",
  },
};

export const getCouponDetails = {
  operationId: "getCouponDetails",
  method: "get",
  path: "/v1/coupons/{code}",
  tag: "Coupons",
  summary: "Look a coupon up: its campaign and whether it can be redeemed now",
  description:
    "The status is computed when asked: available, assigned (kept for one user), redeemed, expired, or campaign_inactive. Nothing changes. " +
    "A code that does not exist spends a unit of the calling service's throttle allowance (the same as a refused redemption of an unknown code).",
  access: ["read"],
  params: codeParams,
  success: { status: 200, description: "The coupon", schema: CouponDetails, example: exampleDetails },
  problems: { 404: "COUPON_NOT_FOUND: no coupon has this code", 429: THROTTLED, ...BUSY },
} as const satisfies Operation;

export const assignCoupon = {
  operationId: "assignCoupon",
  method: "put",
  path: "/v1/coupons/{code}/assignment",
  tag: "Coupons",
  summary: "Keep a coupon for one user",
  description: "Only that user can redeem it afterwards.",
  access: ["admin"],
  params: codeParams,
  body: assignBody,
  bodyExample: { userId: "user-42" },
  success: {
    status: 200,
    description: "The coupon after the change",
    schema: CouponDetails,
    example: { ...exampleDetails, assignedTo: "user-42", status: "assigned" },
  },
  problems: {
    404: "COUPON_NOT_FOUND: no coupon has this code",
    409: "CONFLICT: the coupon is assigned to another user or redeemed",
    ...DATABASE_DOWN,
  },
} as const satisfies Operation;

export const unassignCoupon = {
  operationId: "unassignCoupon",
  method: "delete",
  path: "/v1/coupons/{code}/assignment",
  tag: "Coupons",
  summary: "Make an assigned coupon available to anyone again",
  description: "Removes the coupon's assignment.",
  access: ["admin"],
  params: codeParams,
  success: { status: 200, description: "The coupon after the change", schema: CouponDetails, example: exampleDetails },
  problems: { 404: "COUPON_NOT_FOUND: no coupon has this code", 409: "CONFLICT: the coupon is redeemed", ...DATABASE_DOWN },
} as const satisfies Operation;

const expireSuccess = {
  status: 200,
  description: "How many coupons were expired",
  schema: ExpiredCoupons,
  example: { expired: 7400 },
} as const;
const expireWhat =
  "Sets their expiry to now, so every later redemption is refused COUPON_EXPIRED. Redeemed coupons, and those expired already, are left as they are and not counted.";

export const expireCoupon = {
  operationId: "expireCoupon",
  method: "post",
  path: "/v1/coupons/{code}/expire",
  tag: "Coupons",
  summary: "Expire one coupon now (a leaked code)",
  description: expireWhat,
  access: ["admin"],
  params: codeParams,
  success: { ...expireSuccess, example: { expired: 1 } },
  problems: { 404: "NOT_FOUND: no coupon has this code", ...DATABASE_DOWN },
} as const satisfies Operation;

export const expireRequestCoupons = {
  operationId: "expireRequestCoupons",
  method: "post",
  path: "/v1/generation-requests/{requestId}/expire",
  tag: "Generation requests",
  summary: "Expire now every unredeemed coupon a generation request made (a leaked batch)",
  description: expireWhat,
  access: ["admin"],
  params: z.object({ requestId: id(100) }),
  success: expireSuccess,
  problems: { 404: "NOT_FOUND: no such generation request", ...DATABASE_DOWN },
} as const satisfies Operation;

export const expireCampaignCoupons = {
  operationId: "expireCampaignCoupons",
  method: "post",
  path: "/v1/campaigns/{campaignId}/expire",
  tag: "Campaigns",
  summary: "Expire now every unredeemed coupon of a campaign",
  description: expireWhat,
  access: ["admin"],
  params: z.object({ campaignId: id(100) }),
  success: expireSuccess,
  problems: { 404: "NOT_FOUND: no such campaign", ...DATABASE_DOWN },
} as const satisfies Operation;

export function couponRoutes(register: Register, deps: Deps): void {
  const { store, throttle, metrics, admission } = deps;
  register(getCouponDetails, async ({ params }, _req, res) => {
    // a lookup of a code that does not exist spends the calling service's allowance (throttle.ts)
    const taken = await throttle.take(subjectsOf(res, null, null));
    if (!taken.allowed) throw throttledProblem(metrics, "lookup", taken);
    let details: Awaited<ReturnType<typeof store.getCouponDetails>>;
    try {
      details = await admission.run(params.code, () => store.getCouponDetails(params.code));
    } catch (err) {
      await throttle.giveBack(taken.held);
      throw err;
    }
    if (!details) throw notFound(`coupon ${params.code.toUpperCase()} does not exist`, "COUPON_NOT_FOUND");
    await throttle.giveBack(taken.held);
    res.json(details);
  });
  register(assignCoupon, async ({ params, body }, _req, res) => {
    res.json(await store.assignCoupon(params.code, body.userId));
  });
  register(unassignCoupon, async ({ params }, _req, res) => {
    res.json(await store.unassignCoupon(params.code));
  });
  const expire = async (target: ExpireTarget) => ({ expired: await store.expireCoupons(target) });
  register(expireCoupon, async ({ params }, _req, res) => {
    res.json(await expire({ code: params.code }));
  });
  register(expireRequestCoupons, async ({ params }, _req, res) => {
    res.json(await expire({ requestId: params.requestId }));
  });
  register(expireCampaignCoupons, async ({ params }, _req, res) => {
    res.json(await expire({ campaignId: params.campaignId }));
  });
}
