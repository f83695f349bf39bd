// What the routes share of the throttle (issue 12): the subjects of an attempt, the end user's
// address as given by the calling service, and the 429 answer.
import type { Request, Response } from "express";
import type { ThrottleSubjectKind } from "@coupons/db";
import { type EndUserAddress, canonicalAddress } from "./address.ts";
import { callerOf } from "./auth.ts";
import type { Metrics } from "./metrics.ts";
import { HttpProblem } from "./problems.ts";
import type { Subject, Taken } from "./throttle.ts";

export const THROTTLED =
  "TOO_MANY_FAILED_ATTEMPTS: too many refused attempts for the user, the end user's address or the calling service (API key); retry after Retry-After seconds";

/** The body's ipAddress in canonical form; a 400 naming the field when it cannot be read as one. */
export function endUserAddress(given: string | undefined): EndUserAddress | null {
  if (given === undefined) return null;
  const a = canonicalAddress(given);
  if (!a) {
    throw new HttpProblem(400, "VALIDATION_FAILED", "The request is not valid", "ipAddress: must be an IPv4 or IPv6 address", {
      errors: [{ field: "ipAddress", message: "must be an IPv4 or IPv6 address" }],
    });
  }
  return a;
}

/** What the attempt log records as the address: the end user's, else the caller's own (req.ip). */
export function loggedAddress(req: Request, address: EndUserAddress | null): string | null {
  if (address) return address.address;
  return req.ip ? (canonicalAddress(req.ip)?.address ?? req.ip) : null;
}

/** The end user, the end user's address when the calling service sent one (never the service's own
 *  socket address: a service that omits it must not make its users share one allowance), and always
 *  the calling service itself. */
export function subjectsOf(res: Response, userId: string | null, address: EndUserAddress | null): Subject[] {
  const subjects: Subject[] = [];
  if (userId !== null) subjects.push({ kind: "user", key: userId });
  if (address) subjects.push({ kind: "ip", key: address.subject });
  subjects.push({ kind: "client", key: callerOf(res).keyId });
  return subjects;
}

const WHO: Record<ThrottleSubjectKind, string> = {
  user: "this user",
  ip: "this end-user address",
  client: "this API key (the calling service)",
};

/** The 429 of a throttled attempt, counted in the metrics. */
export function throttledProblem(
  metrics: Metrics,
  operation: "redeem" | "validate" | "lookup",
  t: Extract<Taken, { allowed: false }>,
): HttpProblem {
  metrics.throttled.inc({ operation, by: t.by });
  if (operation === "redeem") metrics.redemptions.inc({ outcome: "throttled" });
  return new HttpProblem(
    429,
    "TOO_MANY_FAILED_ATTEMPTS",
    "Too many failed attempts",
    `too many refused attempts for ${WHO[t.by]}; retry after ${t.retryAfterSeconds} s`,
    {},
    { "Retry-After": String(t.retryAfterSeconds) },
  );
}
