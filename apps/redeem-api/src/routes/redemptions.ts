// POST /v1/redemptions (redeem) and POST /v1/validations (check without redeeming). Both are
// throttled per user and per end-user IP on refusals: validate would otherwise be a free oracle for
// guessing codes.
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { type RefusalCode, normalizeCode } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { clientIdOf } from "../client-id.ts";
import { HttpProblem, refusalProblem, sendProblem } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { Redemption, Validation } from "../schemas.ts";
import { couponCode, userId } from "../validation.ts";

const ipAddress = z
  .union([z.ipv4(), z.ipv6()], "must be an IPv4 or IPv6 address")
  .optional()
  .describe("the end user's address, when a service calls on the user's behalf (otherwise the caller's)");

const redeemBody = z
  .object({
    code: couponCode.describe("compared case-insensitively"),
    userId,
    ipAddress,
    userAgent: z
      .string("must be a string")
      .max(500, "must be at most 500 characters")
      .optional()
      .describe("the end user's, when a service calls on the user's behalf (otherwise the User-Agent header)"),
  })
  .strict()
  .meta({ id: "RedeemRequest", description: "Who redeems which coupon" });

const validateBody = z
  .object({ code: couponCode.describe("compared case-insensitively"), userId, ipAddress })
  .strict()
  .meta({ id: "ValidateRequest", description: "Which coupon, for which user" });

const idempotencyHeaders = z.object({
  "Idempotency-Key": z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 visible ASCII characters")
    .optional()
    .describe(
      "A retry with the same key and body returns the original outcome (header Idempotent-Replayed: true); the same key with another body is refused (422)",
    ),
});

const REFUSALS = {
  403: "NOT_ASSIGNED_TO_USER: the coupon is kept for another user",
  404: "COUPON_NOT_FOUND: no coupon has this code",
  409: "ALREADY_REDEEMED, USER_LIMIT_REACHED or CAMPAIGN_LIMIT_REACHED",
  422: "CAMPAIGN_INACTIVE, COUPON_EXPIRED, or IDEMPOTENCY_MISMATCH (the key was used with another body)",
  429: "TOO_MANY_FAILED_ATTEMPTS: too many refusals for the user or the client address; retry after Retry-After seconds",
  ...DATABASE_DOWN,
} as const;

export const redeemCoupon = {
  operationId: "redeemCoupon",
  method: "post",
  path: "/v1/redemptions",
  tag: "Redemptions",
  summary: "Redeem a coupon for a user",
  description:
    "Checks the coupon, its campaign, the user's and the campaign's limits, and redeems it in one transaction; the answer carries the discount to apply. " +
    "Every attempt is recorded with the end user's address and user agent. Refusals are problem documents whose code says why; " +
    "refused attempts count towards the user's and the address's throttle.",
  access: ["redeem"],
  headers: idempotencyHeaders,
  body: redeemBody,
  bodyExample: { code: "SPRING-7KQ2MX9A", userId: "user-42", ipAddress: "203.0.113.7", userAgent: "Mozilla/5.0" },
  success: {
    status: 200,
    description: "Redeemed (or the replay of an earlier redemption with the same Idempotency-Key)",
    schema: Redemption,
    example: {
      redeemed: true,
      couponId: "1001",
      couponCode: "SPRING-7KQ2MX9A",
      campaignId: "SPRING-2030",
      redeemedAt: "2030-03-14T12:00:00.000Z",
      discountPercentage: 15,
      discountAmount: null,
      redemptionId: "52731",
    },
    headers: {
      "Idempotent-Replayed": {
        description: "true when this is the replay of an earlier outcome",
        schema: z.literal("true"),
        required: false,
      },
    },
  },
  problems: REFUSALS,
} as const satisfies Operation;

export const validateCoupon = {
  operationId: "validateCoupon",
  method: "post",
  path: "/v1/validations",
  tag: "Redemptions",
  summary: "Check whether a user could redeem a coupon now, without redeeming it",
  description:
    "The same checks as a redemption; nothing changes. A coupon that cannot be redeemed is still a 200, with valid false and the reason. " +
    "Refusals count towards the throttle, so validation is no free way to guess codes.",
  access: ["redeem", "read"],
  body: validateBody,
  bodyExample: { code: "SPRING-7KQ2MX9A", userId: "user-42" },
  success: {
    status: 200,
    description: "The verdict",
    schema: Validation,
    example: { valid: true, couponCode: "SPRING-7KQ2MX9A", campaignId: "SPRING-2030", discountPercentage: 15, discountAmount: null },
  },
  problems: { 429: REFUSALS[429], ...DATABASE_DOWN },
} as const satisfies Operation;

/** The same body, whatever its key order or the code's case, hashes the same. */
export function requestHash(body: z.output<typeof redeemBody>): string {
  const canonical = {
    code: normalizeCode(body.code),
    ipAddress: body.ipAddress ?? null,
    userAgent: body.userAgent ?? null,
    userId: body.userId,
  };
  return createHash("sha256")
    .update(`POST /v1/redemptions\n${JSON.stringify(canonical)}`)
    .digest("hex");
}

function endUser(req: Request, body: { ipAddress?: string | undefined; userAgent?: string | undefined }) {
  // req.ip honours X-Forwarded-For only as far as the configured trusted proxies (trust proxy)
  return { ip: body.ipAddress ?? req.ip ?? null, userAgent: body.userAgent ?? req.get("user-agent") ?? null };
}

export function redemptionRoutes(register: Register, deps: Deps): void {
  const { store, throttle, metrics } = deps;
  const throttled = async (res: Response, user: string, ip: string | null): Promise<boolean> => {
    const verdict = await throttle.check(user, ip);
    if (verdict.allowed) return false;
    metrics.redemptions.inc({ outcome: "throttled" });
    sendProblem(
      res,
      new HttpProblem(
        429,
        "TOO_MANY_FAILED_ATTEMPTS",
        "Too many failed attempts",
        `too many refused attempts for this ${verdict.by === "user" ? "user" : "client address"}; retry after ${verdict.retryAfterSeconds} s`,
        {},
        { "Retry-After": String(verdict.retryAfterSeconds) },
      ),
    );
    return true;
  };

  register(redeemCoupon, async ({ headers, body }, req, res) => {
    const key = headers["Idempotency-Key"];
    const who = endUser(req, body);
    if (await throttled(res, body.userId, who.ip)) return;
    let result: Awaited<ReturnType<typeof store.redeemCoupon>>;
    try {
      result = await store.redeemCoupon({
        code: body.code,
        userId: body.userId,
        ipAddress: who.ip,
        userAgent: who.userAgent,
        // scoped by API key: two consumer services cannot collide on (or read) each other's keys
        idempotencyKey: key === undefined ? null : `${callerOf(res).keyId}:${key}`,
        requestHash: key === undefined ? null : requestHash(body),
        clientId: clientIdOf(res),
      });
    } catch (err) {
      metrics.redemptions.inc({ outcome: "error" });
      throw err;
    }
    if (result.replayed) res.setHeader("Idempotent-Replayed", "true");
    if (result.ok) {
      metrics.redemptions.inc({ outcome: result.replayed ? "replayed" : "redeemed" });
      res.json({
        redeemed: true,
        couponId: result.couponId,
        couponCode: result.couponCode,
        campaignId: result.campaignId,
        redeemedAt: result.redeemedAt,
        discountPercentage: result.discountPercentage,
        discountAmount: result.discountAmount,
        redemptionId: result.redemptionId,
      });
      return;
    }
    metrics.redemptions.inc({ outcome: result.replayed ? "replayed" : result.reason });
    if (!result.replayed) await throttle.recordFailure(body.userId, who.ip);
    sendProblem(res, refusalProblem(result.reason, result.couponCode, result.campaignId, result.redemptionId));
  });

  register(validateCoupon, async ({ body }, req, res) => {
    const who = endUser(req, body);
    if (await throttled(res, body.userId, who.ip)) return;
    const r = await store.validateCoupon({ code: body.code, userId: body.userId });
    if (r.ok) {
      res.json({
        valid: true,
        couponCode: r.couponCode,
        campaignId: r.campaignId,
        discountPercentage: r.discountPercentage,
        discountAmount: r.discountAmount,
      });
      return;
    }
    await throttle.recordFailure(body.userId, who.ip);
    const reason: RefusalCode = r.reason;
    res.json({ valid: false, couponCode: r.couponCode, campaignId: r.campaignId, reason });
  });
}
