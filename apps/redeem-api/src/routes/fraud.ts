// The fraud report over HTTP (admin): GET /v1/fraud-report?by=ip|user|campaign&since=&until=&top=,
// the same store call as `coupons fraud-report`: refused attempts per subject in a window, the top
// offenders first. The operator console's Fraud page reads it.
import { FRAUD_DIMENSIONS, type FraudDimension } from "@coupons/db";
import { z } from "zod";
import { HttpProblem } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { isoDate } from "../validation.ts";

const DAY = 86_400_000;
const int = z.number().int();

const FraudReportRow = z
  .object({
    subject: z.string().describe("the ip address, user id or campaign id"),
    attempts: int.describe("attempts in the window, accepted or refused"),
    refusals: int,
    distinctCodes: int.describe("distinct codes among the refused attempts"),
    reasons: z.array(z.object({ reason: z.string(), count: int })).describe("refusal reasons, most frequent first"),
    throttled: int.optional().describe("attempts refused 429 by the failed-attempt throttle, where recorded"),
    firstSeen: z.iso.datetime(),
    lastSeen: z.iso.datetime(),
  })
  .meta({ id: "FraudReportRow", description: "One subject's attempts and refusals in the window" });

const FraudReport = z
  .object({
    by: z.enum(FRAUD_DIMENSIONS as [FraudDimension, ...FraudDimension[]]),
    since: z.iso.datetime(),
    until: z.iso.datetime(),
    rows: z.array(FraudReportRow).describe("most refusals first"),
  })
  .meta({ id: "FraudReport" });

export const getFraudReport = {
  operationId: "getFraudReport",
  method: "get",
  path: "/v1/fraud-report",
  tag: "Redemptions",
  summary: "Who is guessing codes: refused attempts per IP, user or campaign over a window",
  description:
    "The top offenders of [since, until), most refusals first, each with its refusal reasons. Defaults: by ip, the last 24 hours, top 20. May be served by a read replica a moment behind the primary.",
  access: ["admin"],
  query: z
    .object({
      by: z
        .enum(FRAUD_DIMENSIONS as [FraudDimension, ...FraudDimension[]], `must be one of ${FRAUD_DIMENSIONS.join(", ")}`)
        .optional()
        .describe("group by (default ip)"),
      since: isoDate.optional().describe("start of the window (default: 24 hours before until)"),
      until: isoDate.optional().describe("end of the window, exclusive (default: now)"),
      top: z
        .string("must be a string")
        .regex(/^\d{1,4}$/, "must be a whole number from 1 to 1000")
        .transform(Number)
        .refine((n) => n >= 1 && n <= 1000, "must be a whole number from 1 to 1000")
        .optional()
        .describe("how many offenders (default 20)"),
    })
    .strict(),
  success: {
    status: 200,
    description: "The offenders",
    schema: FraudReport,
    example: {
      by: "ip",
      since: "2030-03-01T00:00:00.000Z",
      until: "2030-03-02T00:00:00.000Z",
      rows: [
        {
          subject: "203.0.113.7",
          attempts: 412,
          refusals: 410,
          distinctCodes: 405,
          reasons: [{ reason: "COUPON_NOT_FOUND", count: 410 }],
          firstSeen: "2030-03-01T02:10:00.000Z",
          lastSeen: "2030-03-01T02:14:31.000Z",
        },
      ],
    },
  },
  problems: { ...DATABASE_DOWN },
} as const satisfies Operation;

export function fraudRoutes(register: Register, deps: Deps): void {
  register(getFraudReport, async ({ query }, _req, res) => {
    const until = query.until ?? new Date();
    const since = query.since ?? new Date(until.getTime() - DAY);
    if (until <= since)
      throw new HttpProblem(400, "VALIDATION_FAILED", "The request is not valid", "until: must be after since", {
        errors: [{ field: "until", message: "must be after since" }],
      });
    const by = query.by ?? "ip";
    const rows = await deps.store.fraudReport({ since, until, by, top: query.top ?? 20 });
    res.json({ by, since: since.toISOString(), until: until.toISOString(), rows });
  });
}
