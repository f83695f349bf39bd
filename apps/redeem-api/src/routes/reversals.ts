// Giving a redemption back (POST /v1/redemptions/{redemptionId}/reversal) and a user's history
// (GET /v1/users/{userId}/redemptions), issue 14. A reversal is a ledger entry of its own: the
// redemption stays in the history, and only the service that redeemed may reverse it.
import { createHash } from "node:crypto";
import { StoreError } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { clientIdOf } from "../client-id.ts";
import { HttpProblem } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { id, userId } from "../validation.ts";

const dateTime = z.iso.datetime();

export const Reversal = z
  .object({
    reversalId: z.string(),
    redemptionId: z.string(),
    couponCode: z.string().describe("redeemable again"),
    campaignId: z.string(),
    userId: z.string().describe("the user whose redemption was given back; their count went down by one"),
    reversedAt: dateTime,
    reversedBy: z.string().nullable().describe("the client that reversed it; null when an operator did (CLI)"),
    reason: z.string().nullable(),
  })
  .meta({ id: "Reversal", description: "A redemption given back: the coupon is redeemable again, the counts went down by one" });

export const UserHistory = z
  .object({
    items: z
      .array(
        z.object({
          kind: z.enum(["redemption", "attempt", "reversal"]).describe("attempt: a refused redemption (only with include=attempts)"),
          at: dateTime.describe("when it was attempted or reversed"),
          redemptionId: z.string(),
          reversalId: z.string().nullable().describe("reversals: their own id"),
          couponCode: z.string(),
          campaignId: z.string().nullable(),
          failureReason: z.string().nullable().describe("attempts: the refusal code"),
          reversed: z.boolean().describe("redemptions: given back since; reversals: true"),
          reason: z.string().nullable().describe("reversals: the reason given"),
        }),
      )
      .describe("newest first"),
    nextCursor: z.string().nullable().describe("pass as ?cursor= for the next page; null on the last page"),
  })
  .meta({ id: "UserHistory", description: "A user's redemptions and reversals, newest first" });

const reversalBody = z
  .object({
    reason: z
      .string("must be a string")
      .max(500, "must be at most 500 characters")
      .optional()
      .describe("why, e.g. the order was cancelled"),
    ipAddress: z
      .union([z.ipv4(), z.ipv6()], "must be an IPv4 or IPv6 address")
      .optional()
      .describe("the end user's address, when a service calls on the user's behalf (otherwise the caller's)"),
  })
  .strict()
  .meta({ id: "ReversalRequest", description: "Why the redemption is given back (optional); the body may be left out" });

export const reverseRedemption = {
  operationId: "reverseRedemption",
  method: "post",
  path: "/v1/redemptions/{redemptionId}/reversal",
  tag: "Redemptions",
  summary: "Give a redemption back (an order was cancelled)",
  description:
    "In one transaction the coupon becomes redeemable again, the user's and the campaign's counts go down by one, and the reversal is recorded (who, when, why, from where); the redemption itself stays in the history. " +
    "Only the service (API key) that redeemed may reverse it. Reversing it again changes nothing and answers the first reversal (header Idempotent-Replayed: true).",
  access: ["redeem"],
  params: z.object({ redemptionId: z.string().regex(/^[1-9][0-9]{0,17}$/, "must be a redemption id (the redeem answer's redemptionId)") }),
  headers: z.object({
    "Idempotency-Key": z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 visible ASCII characters")
      .optional()
      .describe("A retry with the same key and body returns the original outcome; the same key with another body is refused (422)"),
  }),
  body: reversalBody,
  bodyOptional: true,
  bodyExample: { reason: "order 8812 cancelled", ipAddress: "203.0.113.7" },
  success: {
    status: 200,
    description: "Reversed (or the reversal made earlier, with Idempotent-Replayed: true)",
    schema: Reversal,
    example: {
      reversalId: "311",
      redemptionId: "52731",
      couponCode: "SPRING-7KQ2MX9A",
      campaignId: "SPRING-2030",
      userId: "user-42",
      reversedAt: "2030-03-15T09:30:00.000Z",
      reversedBy: "apikey:shop",
      reason: "order 8812 cancelled",
    },
    headers: {
      "Idempotent-Replayed": {
        description: "true when the redemption had been reversed already, or this replays an Idempotency-Key",
        schema: z.literal("true"),
        required: false,
      },
    },
  },
  problems: {
    404: "REDEMPTION_NOT_FOUND: no redemption has this id, or another service (API key) made it",
    409: "REDEMPTION_NOT_REVERSIBLE: it is a refused attempt, or its coupon was deleted since",
    422: "IDEMPOTENCY_MISMATCH: the key was used with another body",
    ...DATABASE_DOWN,
  },
} as const satisfies Operation;

export const listUserRedemptions = {
  operationId: "listUserRedemptions",
  method: "get",
  path: "/v1/users/{userId}/redemptions",
  tag: "Redemptions",
  summary: "A user's redemptions and reversals, newest first",
  description:
    "Each item is a redemption (with whether it was given back since) or a reversal; with include=attempts also the refused attempts, with their refusal code. Paged: pass nextCursor as cursor.",
  access: ["read"],
  params: z.object({ userId }),
  query: z
    .object({
      limit: z
        .string("must be a string")
        .regex(/^\d{1,4}$/, "must be a whole number from 1 to 1000")
        .transform(Number)
        .refine((n) => n >= 1 && n <= 1000, "must be a whole number from 1 to 1000")
        .optional()
        .describe("at most this many (default 100)"),
      cursor: id(20).optional().describe("the nextCursor of the page before"),
      include: z.enum(["attempts"], "must be attempts").optional().describe("attempts: refused attempts too"),
    })
    .strict(),
  success: {
    status: 200,
    description: "The user's history",
    schema: UserHistory,
    example: {
      items: [
        {
          kind: "reversal",
          at: "2030-03-15T09:30:00.000Z",
          redemptionId: "52731",
          reversalId: "311",
          couponCode: "SPRING-7KQ2MX9A",
          campaignId: "SPRING-2030",
          failureReason: null,
          reversed: true,
          reason: "order 8812 cancelled",
        },
        {
          kind: "redemption",
          at: "2030-03-14T12:00:00.000Z",
          redemptionId: "52731",
          reversalId: null,
          couponCode: "SPRING-7KQ2MX9A",
          campaignId: "SPRING-2030",
          failureReason: null,
          reversed: true,
          reason: null,
        },
      ],
      nextCursor: null,
    },
  },
  problems: DATABASE_DOWN,
} as const satisfies Operation;

/** The same reversal (id and body, whatever their key order) hashes the same. */
function reversalHash(redemptionId: string, body: z.output<typeof reversalBody>): string {
  const canonical = { ipAddress: body.ipAddress ?? null, reason: body.reason ?? null, redemptionId };
  return createHash("sha256")
    .update(`POST /v1/redemptions/{redemptionId}/reversal\n${JSON.stringify(canonical)}`)
    .digest("hex");
}

/** The store's refusals of a reversal as problems of their own (other errors go to the common handler). */
function reversalProblem(err: unknown): unknown {
  if (!(err instanceof StoreError) || !err.expose) return err;
  if (err.code === "NOT_FOUND") return new HttpProblem(404, "REDEMPTION_NOT_FOUND", "No such redemption", err.message);
  if (err.code === "CONFLICT") return new HttpProblem(409, "REDEMPTION_NOT_REVERSIBLE", "The redemption cannot be reversed", err.message);
  return err;
}

export function reversalRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(reverseRedemption, async ({ params, headers, body }, req, res) => {
    const key = headers["Idempotency-Key"];
    let result: Awaited<ReturnType<typeof store.reverseRedemption>>;
    try {
      result = await store.reverseRedemption({
        redemptionId: params.redemptionId,
        clientId: clientIdOf(res),
        reason: body.reason ?? null,
        ipAddress: body.ipAddress ?? req.ip ?? null,
        userAgent: req.get("user-agent") ?? null,
        // scoped by API key, and apart from the redemptions' keys
        idempotencyKey: key === undefined ? null : `${callerOf(res).keyId}:reversal:${key}`,
        requestHash: key === undefined ? null : reversalHash(params.redemptionId, body),
      });
    } catch (err) {
      throw reversalProblem(err);
    }
    if (result.replayed) res.setHeader("Idempotent-Replayed", "true");
    const { replayed: _, ...reversal } = result;
    res.json(reversal);
  });

  register(listUserRedemptions, async ({ params, query }, _req, res) => {
    const limit = query.limit ?? 100;
    const items = await store.listUserRedemptions(params.userId, {
      limit,
      after: query.cursor,
      includeAttempts: query.include === "attempts",
    });
    res.json({
      items: items.map(({ cursor: _, ...item }) => item),
      nextCursor: items.length === limit ? (items.at(-1)?.cursor ?? null) : null,
    });
  });
}
