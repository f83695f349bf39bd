// Who is calling: an API key (X-API-Key, configured as SHA-256 hashes with scopes, checked in memory
// in constant time against every configured key), or a Microsoft Entra ID access token
// (Authorization: Bearer, entra.ts), whichever the configuration accepts. Either way the route sees
// one Caller: its id (the key's id, or `entra:<client app id>`) keys idempotency records and
// per-caller budgets, and its principal is what audit columns record.
import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ApiConfig, ApiKey, Scope } from "./config.ts";
import { type EntraVerifier, TokenRefused, createEntraVerifier } from "./entra.ts";
import { HttpProblem } from "./problems.ts";

export const API_KEY_HEADER = "x-api-key";

export type Caller = {
  /** The key's id, or `entra:<app id>` for a token (key ids cannot hold ':', so the two never meet). */
  keyId: string;
  /** For audit columns (createdBy, requestedBy): `apikey:<id>` or `entra:<app id>`. */
  principal: string;
  scopes: ReadonlySet<Scope>;
};

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

/** Checks credentials as the configuration says: API keys, Entra ID tokens, or both. */
export type Authenticator = { keys: readonly ApiKey[]; entra: EntraVerifier | null };

export function createAuthenticator(config: Pick<ApiConfig, "apiKeys" | "entra">): Authenticator {
  return { keys: config.apiKeys, entra: config.entra ? createEntraVerifier(config.entra) : null };
}

const unauthenticated = (auth: Authenticator, title: string, detail: string, bearerError?: string) => {
  const challenges: string[] = [];
  if (auth.keys.length > 0) challenges.push('ApiKey header="X-API-Key"');
  if (auth.entra) challenges.push(`Bearer${bearerError ? ` error="${bearerError}"` : ""}`);
  return new HttpProblem(401, "UNAUTHENTICATED", title, detail, {}, { "WWW-Authenticate": challenges.join(", ") });
};

/** What to send, as this API is configured. */
function howTo(auth: Authenticator): string {
  const ways = [
    ...(auth.keys.length > 0 ? ["the API key in the X-API-Key header"] : []),
    ...(auth.entra ? ["an Entra ID access token for this API in Authorization: Bearer"] : []),
  ];
  return `send ${ways.join(", or ")}`;
}

/** What a request presents, checked as far as it can be without waiting: a known API key's caller,
 *  or a bearer token still to verify. Throws the 401 of credentials that are missing, doubled,
 *  malformed or an unknown key. */
export function presentedCredential(auth: Authenticator, req: Request): { caller: Caller } | { bearer: string } {
  const presented = req.get(API_KEY_HEADER);
  const authorization = req.get("authorization");
  if (presented !== undefined && authorization !== undefined) {
    throw unauthenticated(auth, "Send one credential", "send either X-API-Key or Authorization, not both");
  }
  if (authorization !== undefined) {
    const bearer = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
    if (!auth.entra) throw unauthenticated(auth, "Bearer tokens are not accepted", howTo(auth));
    if (!bearer?.[1]) throw unauthenticated(auth, "The Authorization header is not a bearer token", howTo(auth), "invalid_request");
    return { bearer: bearer[1] };
  }
  if (presented === undefined) throw unauthenticated(auth, "Credentials are required", howTo(auth));
  if (auth.keys.length === 0) throw unauthenticated(auth, "API keys are not accepted", howTo(auth));
  const key = findKey(auth.keys, presented);
  if (!key) throw unauthenticated(auth, "The API key is not valid", howTo(auth));
  return { caller: { keyId: key.id, principal: `apikey:${key.id}`, scopes: key.scopes } };
}

async function authenticate(auth: Authenticator, req: Request, res: Response): Promise<Caller> {
  // the fair intake may have checked it already (intake.ts)
  const credential = (res.locals.credential as ReturnType<typeof presentedCredential> | undefined) ?? presentedCredential(auth, req);
  if ("caller" in credential) return credential.caller;
  if (!auth.entra) throw unauthenticated(auth, "Bearer tokens are not accepted", howTo(auth));
  let token: Awaited<ReturnType<EntraVerifier["verify"]>>;
  try {
    token = await auth.entra.verify(credential.bearer);
  } catch (err) {
    if (!(err instanceof TokenRefused)) throw err;
    if (err.unavailable) {
      throw new HttpProblem(
        503,
        "UNAVAILABLE",
        "The token cannot be checked now",
        `${err.message}; retry later`,
        {},
        { "Retry-After": "5" },
      );
    }
    throw unauthenticated(auth, "The access token is not valid", err.message, "invalid_token");
  }
  const keyId = `entra:${token.appId}`;
  return { keyId, principal: keyId, scopes: token.scopes };
}

/** Middleware: valid credentials with one of the scopes; 401 without (valid) credentials, 403 without the scope. */
export function requireScope(auth: Authenticator, ...anyOf: Scope[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    authenticate(auth, req, res).then((caller) => {
      res.locals.caller = caller;
      if (anyOf.length > 0 && !anyOf.some((s) => caller.scopes.has(s))) {
        const what = caller.principal.startsWith("entra:") ? "The token's app roles do not grant" : "The API key lacks";
        next(new HttpProblem(403, "FORBIDDEN", `${what} the scope this endpoint needs`, `needs scope ${anyOf.join(" or ")}`));
        return;
      }
      next();
    }, next);
  };
}
