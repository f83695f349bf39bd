// POST /v1/redemptions (redeem) and POST /v1/validations (check without redeeming). Both take the
// throttle's allowance before the store call and give it back when the attempt is accepted
// (throttle.ts): validate would otherwise be a free oracle for guessing codes. A redemption whose
// Idempotency-Key has a stored outcome is answered from it before the throttle.
import { createHash } from "node:crypto";
import type { Response } from "express";
import { type RedeemResult, type RefusalCode, normalizeCode } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { clientIdOf } from "../client-id.ts";
import { refusalProblem, sendProblem } from "../problems.ts";
import { BUSY } from "../admission.ts";
import type { Deps, Operation, Register } from "../routing.ts";
import { Redemption, Validation } from "../schemas.ts";
import type { Held, Throttle } from "../throttle.ts";
import { THROTTLED, endUserAddress, loggedAddress, subjectsOf, throttledProblem } from "../throttle-http.ts";
import { couponCode, userId } from "../validation.ts";

const ipAddress = z
  .union([z.ipv4(), z.ipv6()], "must be an IPv4 or IPv6 address")
  .optional()
  .describe(
    "the end user's address, when a service calls on the user's behalf: throttled per address (IPv4-mapped IPv6 as IPv4, IPv6 by /64); without it only the user and the calling service are throttled, and the caller's own address is logged",
  );

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
  429: THROTTLED,
  ...BUSY,
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
    "Each attempt takes a unit of the throttle's allowances (user, end-user address, calling service) before the database is asked and gives it back when accepted; " +
    "a retry with an Idempotency-Key whose outcome is stored is answered from it even while the user is throttled.",
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
  access: ["redeem"],
  body: validateBody,
  bodyExample: { code: "SPRING-7KQ2MX9A", userId: "user-42" },
  success: {
    status: 200,
    description: "The verdict",
    schema: Validation,
    example: { valid: true, couponCode: "SPRING-7KQ2MX9A", campaignId: "SPRING-2030", discountPercentage: 15, discountAmount: null },
  },
  problems: { 429: REFUSALS[429], ...BUSY },
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

export function redemptionRoutes(register: Register, deps: Deps): void {
  const { store, throttle, metrics, admission } = deps;

  const answer = (res: Response, result: RedeemResult) => {
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
    sendProblem(res, refusalProblem(result.reason, result.couponCode, result.campaignId, result.redemptionId));
  };

  register(redeemCoupon, async ({ headers, body }, req, res) => {
    const key = headers["Idempotency-Key"];
    const address = endUserAddress(body.ipAddress);
    // scoped by API key: two consumer services cannot collide on (or read) each other's keys
    const idempotencyKey = key === undefined ? null : `${callerOf(res).keyId}:${key}`;
    const hash = key === undefined ? null : requestHash(body);
    // a replay of a stored outcome skips the throttle: a locked-out client's retry gets its answer
    if (idempotencyKey !== null && hash !== null) {
      const stored = await store.getIdempotentOutcome(idempotencyKey, hash);
      if (stored) return answer(res, stored);
    }
    const taken = await throttle.take(subjectsOf(res, body.userId, address));
    if (!taken.allowed) throw throttledProblem(metrics, "redeem", taken);
    let result: RedeemResult;
    try {
      // after the replay read and the throttle's take: each campaign's burst waits in its own queue
      result = await admission.run(body.code, () =>
        store.redeemCoupon({
          code: body.code,
          userId: body.userId,
          ipAddress: loggedAddress(req, address),
          userAgent: body.userAgent ?? req.get("user-agent") ?? null,
          idempotencyKey,
          requestHash: hash,
          clientId: clientIdOf(res),
        }),
      );
    } catch (err) {
      // not a refusal (the database is away, the key was reused): no allowance spent
      await throttle.giveBack(taken.held);
      metrics.redemptions.inc({ outcome: "error" });
      throw err;
    }
    await giveBackUnlessGuess(throttle, taken.held, result.ok || result.replayed === true ? null : result.reason);
    answer(res, result);
  });

  register(validateCoupon, async ({ body }, _req, res) => {
    const address = endUserAddress(body.ipAddress);
    const taken = await throttle.take(subjectsOf(res, body.userId, address));
    if (!taken.allowed) throw throttledProblem(metrics, "validate", taken);
    let r: Awaited<ReturnType<typeof store.validateCoupon>>;
    try {
      r = await admission.run(body.code, () => store.validateCoupon({ code: body.code, userId: body.userId }));
    } catch (err) {
      await throttle.giveBack(taken.held);
      throw err;
    }
    await giveBackUnlessGuess(throttle, taken.held, r.ok ? null : r.reason);
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
    const reason: RefusalCode = r.reason;
    res.json({ valid: false, couponCode: r.couponCode, campaignId: r.campaignId, reason });
  });
}

/** An accepted attempt gives every unit back. A refusal keeps the user's and the address's; the
 *  calling service's is kept only for a code that does not exist (guessing): a flash sale's sold-out
 *  refusals across thousands of honest users must not lock the whole service out. */
export async function giveBackUnlessGuess(throttle: Throttle, held: Held, refusal: RefusalCode | null): Promise<void> {
  if (refusal === null) await throttle.giveBack(held);
  else if (refusal !== "COUPON_NOT_FOUND") await throttle.giveBack(held, ["client"]);
}
