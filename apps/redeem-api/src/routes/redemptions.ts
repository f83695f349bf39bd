// POST /v1/redemptions (redeem) and POST /v1/validations (check without redeeming). Both are
// throttled per user and per end-user IP on refusals: validate would otherwise be a free oracle for
// guessing codes.
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { type RefusalCode, normalizeCode } from "@coupons/db";
import { z } from "zod";
import type { Deps, Register } from "../app.ts";
import { callerOf, requireScope } from "../auth.ts";
import { HttpProblem, refusalProblem, sendProblem } from "../problems.ts";
import { couponCode, parse, userId } from "../validation.ts";

const ipAddress = z.union([z.ipv4(), z.ipv6()], "must be an IPv4 or IPv6 address").optional();

const redeemBody = z
  .object({
    code: couponCode,
    userId,
    // the end user's, when a service calls on the user's behalf
    ipAddress,
    userAgent: z.string("must be a string").max(500, "must be at most 500 characters").optional(),
  })
  .strict();

const validateBody = z.object({ code: couponCode, userId, ipAddress }).strict();

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 visible ASCII characters")
  .optional();

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

  register("/v1/redemptions", {
    post: [
      requireScope(deps.config.apiKeys, "redeem"),
      async (req, res) => {
        const key = parse(idempotencyKey, req.get("idempotency-key"), "header");
        const body = parse(redeemBody, req.body, "body");
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
          });
          return;
        }
        metrics.redemptions.inc({ outcome: result.replayed ? "replayed" : result.reason });
        if (!result.replayed) await throttle.recordFailure(body.userId, who.ip);
        sendProblem(res, refusalProblem(result.reason, result.couponCode, result.campaignId));
      },
    ],
  });

  register("/v1/validations", {
    post: [
      requireScope(deps.config.apiKeys, "redeem", "read"),
      async (req, res) => {
        const body = parse(validateBody, req.body, "body");
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
      },
    ],
  });
}
