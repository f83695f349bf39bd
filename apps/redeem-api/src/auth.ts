// API keys: sent in the X-API-Key header, configured as SHA-256 hashes with scopes. Checked in memory
// (no database call per request), compared in constant time against every configured key.
import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ApiKey, Scope } from "./config.ts";
import { HttpProblem } from "./problems.ts";

export const API_KEY_HEADER = "x-api-key";

export type Caller = { keyId: string; scopes: ReadonlySet<Scope> };

export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Finds the key whose hash matches; looks at every key so timing does not tell which one matched. */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = createHash("sha256").update(presented, "utf8").digest();
  let found: ApiKey | undefined;
  for (const k of keys) {
    if (timingSafeEqual(digest, k.sha256) && found === undefined) found = k;
  }
  return found;
}

export function callerOf(res: Response): Caller {
  const c = res.locals.caller as Caller | undefined;
  if (!c) throw new Error("route reached without authentication");
  return c;
}

/** Middleware: a valid key with one of the scopes; 401 without a (valid) key, 403 without the scope. */
export function requireScope(keys: readonly ApiKey[], ...anyOf: Scope[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const presented = req.get(API_KEY_HEADER);
    if (!presented) {
      next(
        new HttpProblem(
          401,
          "UNAUTHENTICATED",
          "An API key is required",
          "send the API key in the X-API-Key header",
          {},
          {
            "WWW-Authenticate": 'ApiKey header="X-API-Key"',
          },
        ),
      );
      return;
    }
    const key = findKey(keys, presented);
    if (!key) {
      next(
        new HttpProblem(
          401,
          "UNAUTHENTICATED",
          "The API key is not valid",
          undefined,
          {},
          { "WWW-Authenticate": 'ApiKey header="X-API-Key"' },
        ),
      );
      return;
    }
    res.locals.caller = { keyId: key.id, scopes: key.scopes } satisfies Caller;
    if (anyOf.length > 0 && !anyOf.some((s) => key.scopes.has(s))) {
      next(new HttpProblem(403, "FORBIDDEN", "The API key lacks the scope this endpoint needs", `needs scope ${anyOf.join(" or ")}`));
      return;
    }
    next();
  };
}
