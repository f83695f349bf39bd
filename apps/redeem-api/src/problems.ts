// Every error answer of the API: RFC 9457 problem details (application/problem+json) with a stable
// `code`. Refusal codes and StoreError codes are mapped to HTTP statuses here, once.
import type { NextFunction, Request, Response } from "express";
import { type RefusalCode, StoreError, type StoreErrorCode } from "@coupons/db";
import type { ZodError } from "zod";

export const REFUSAL_STATUS: Record<RefusalCode, number> = {
  COUPON_NOT_FOUND: 404,
  CAMPAIGN_INACTIVE: 422,
  ALREADY_REDEEMED: 409,
  COUPON_EXPIRED: 422,
  NOT_ASSIGNED_TO_USER: 403,
  USER_LIMIT_REACHED: 409,
  CAMPAIGN_LIMIT_REACHED: 409,
};

const REFUSAL_TITLE: Record<RefusalCode, string> = {
  COUPON_NOT_FOUND: "The coupon does not exist",
  CAMPAIGN_INACTIVE: "The coupon's campaign is not active",
  ALREADY_REDEEMED: "The coupon has been redeemed already",
  COUPON_EXPIRED: "The coupon has expired",
  NOT_ASSIGNED_TO_USER: "The coupon is assigned to another user",
  USER_LIMIT_REACHED: "The user has reached the campaign's limit per user",
  CAMPAIGN_LIMIT_REACHED: "The campaign has reached its total limit",
};

const STORE_STATUS: Record<StoreErrorCode, number> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REQUEST_BUSY: 409,
  CAP_EXCEEDED: 409,
  IDEMPOTENCY_MISMATCH: 422,
  UNAVAILABLE: 503,
  CONFIG: 500,
  MIGRATION: 500,
  NOT_MIGRATED: 503,
  NO_DATABASE: 503,
};

/** Messages safe to show for store errors raised without our own text (driver errors mapped by the store). */
const STORE_GENERIC: Record<StoreErrorCode, string> = {
  INVALID_INPUT: "a value in the request is not acceptable",
  NOT_FOUND: "the resource does not exist",
  CONFLICT: "the change conflicts with the current state",
  REQUEST_BUSY: "the generation request is being worked by another worker",
  CAP_EXCEEDED: "the change would pass the generation request's amount",
  IDEMPOTENCY_MISMATCH: "the Idempotency-Key was used before with a different request body; use a new key for a new request",
  UNAVAILABLE: "the database cannot be reached; retry later",
  CONFIG: "the service is misconfigured",
  MIGRATION: "the service's database schema is not usable",
  NOT_MIGRATED: "the service's database is not migrated to this version; an operator runs `coupons migrate`",
  NO_DATABASE: "the service's database does not exist; an operator creates it and runs `coupons migrate`",
};

export type FieldError = { field: string; message: string };

export type Problem = {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
};

/** An answer, not a fault: made without a stack trace (capturing one cost more than the rest of a
 *  refusal's answer; a sold-out flash sale makes hundreds a second). What failed inside is logged
 *  from the original error (problemHandler). */
export class HttpProblem extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    title: string,
    detail?: string,
    extra: Partial<Problem> = {},
    headers: Record<string, string> = {},
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail ?? title);
    Error.stackTraceLimit = limit;
    this.problem = { type: typeFor(code), title, status, code, ...(detail === undefined ? {} : { detail }), ...extra };
    this.headers = headers;
  }
}

const TYPES = new Map<string, string>();

function typeFor(code: string): string {
  let type = TYPES.get(code);
  if (type === undefined) {
    type = `urn:coupons:problem:${code.toLowerCase().replaceAll("_", "-")}`;
    if (TYPES.size < 1000) TYPES.set(code, type);
  }
  return type;
}

export function refusalProblem(
  reason: RefusalCode,
  couponCode: string,
  campaignId: string | null,
  redemptionId?: string | null,
): HttpProblem {
  const extra = redemptionId === undefined ? { couponCode, campaignId } : { couponCode, campaignId, redemptionId };
  return new HttpProblem(REFUSAL_STATUS[reason], reason, REFUSAL_TITLE[reason], undefined, extra);
}

export function validationProblem(err: ZodError, where: "body" | "query" | "path" | "header"): HttpProblem {
  const errors: FieldError[] = err.issues.map((i) => ({
    field: i.path.length > 0 ? i.path.join(".") : where,
    message: i.message,
  }));
  const first = errors[0];
  return new HttpProblem(400, "VALIDATION_FAILED", "The request is not valid", first ? `${first.field}: ${first.message}` : undefined, {
    errors,
  });
}

export function notFound(what: string, code = "NOT_FOUND"): HttpProblem {
  return new HttpProblem(404, code, "Not found", what);
}

function fromStoreError(err: StoreError): HttpProblem {
  const status = STORE_STATUS[err.code] ?? 500;
  // The store says whether its message was written for callers (its own checks, the procedures' own
  // refusals on every engine); one mapped from a driver error may quote driver or SQL text: hide that.
  const detail = status < 500 && err.expose ? err.message : STORE_GENERIC[err.code];
  const headers: Record<string, string> = err.code === "UNAVAILABLE" ? { "Retry-After": "5" } : {};
  const title = status >= 500 ? "The service cannot answer now" : "The request cannot be carried out";
  return new HttpProblem(status, err.code, title, detail, {}, headers);
}

export function sendProblem(res: Response, p: HttpProblem): void {
  // the request's log line names the problem (app.ts)
  res.locals.problemCode = p.problem.code;
  for (const k in p.headers) res.setHeader(k, p.headers[k] as string);
  res.statusCode = p.problem.status;
  res.setHeader("Content-Type", "application/problem+json; charset=utf-8");
  res.send(JSON.stringify(p.problem));
}

/** Express error handler: the last middleware. Body-parser errors, our problems, store errors, the rest. */
export function problemHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const problem = toProblem(err);
  if (problem.problem.status >= 500) req.log?.error({ err }, "request failed");
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(res, problem);
}

export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof StoreError) return fromStoreError(err);
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown };
  switch (e?.type) {
    case "entity.too.large":
      return new HttpProblem(413, "PAYLOAD_TOO_LARGE", "The request body is too large", "send a smaller JSON body");
    case "entity.parse.failed":
      return new HttpProblem(400, "MALFORMED_JSON", "The request body is not valid JSON", "send a JSON object", {
        errors: [{ field: "body", message: "must be valid JSON" }],
      });
    case "encoding.unsupported":
    case "charset.unsupported":
      return new HttpProblem(415, "UNSUPPORTED_MEDIA_TYPE", "The body's encoding is not supported", "send UTF-8 JSON");
    case "request.aborted":
      return new HttpProblem(400, "REQUEST_ABORTED", "The request was aborted");
  }
  const status = typeof e?.status === "number" ? e.status : typeof e?.statusCode === "number" ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new HttpProblem(status, "BAD_REQUEST", "The request cannot be handled");
  return new HttpProblem(500, "INTERNAL", "Internal error", "the error was logged; retry later or report the X-Request-Id");
}
