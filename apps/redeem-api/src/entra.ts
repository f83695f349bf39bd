// Microsoft Entra ID callers: `Authorization: Bearer <access token>` issued by the configured tenant
// for this API's app registration. The signature is checked against the tenant's published keys
// (JWKS, fetched and cached by jose; an unknown key id refetches, at most once per cooldown), then
// the issuer (v2.0 `https://login.microsoftonline.com/<tenant>/v2.0` or v1.0
// `https://sts.windows.net/<tenant>/`), the audience (the API's client id or App ID URI), expiry and
// not-before with a small clock tolerance. App roles (`roles`) map to the API's scopes; the caller is
// the client application (`azp` in v2.0 tokens, `appid` in v1.0), e.g. a service's managed identity.
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import type { EntraConfig, Scope } from "./config.ts";

/** The scopes of a verified token and the application that presented it. */
export type EntraCaller = { appId: string; scopes: Set<Scope> };

/** Why a token was refused: `unavailable` when the keys could not be fetched (not the caller's fault). */
export class TokenRefused extends Error {
  readonly unavailable: boolean;
  constructor(message: string, unavailable = false) {
    super(message);
    this.name = "TokenRefused";
    this.unavailable = unavailable;
  }
}

export type EntraVerifier = { verify(token: string): Promise<EntraCaller> };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The issuers a tenant's access tokens carry (v2.0 and v1.0), unless the configuration names them. */
export function entraIssuers(c: Pick<EntraConfig, "tenantId" | "authority" | "issuers">): string[] {
  return c.issuers ?? [`${c.authority}/${c.tenantId}/v2.0`, `https://sts.windows.net/${c.tenantId}/`];
}

export function entraJwksUrl(c: Pick<EntraConfig, "tenantId" | "authority">): URL {
  return new URL(`${c.authority}/${c.tenantId}/discovery/v2.0/keys`);
}

export function createEntraVerifier(c: EntraConfig): EntraVerifier {
  const keys = createRemoteJWKSet(entraJwksUrl(c), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
  const issuer = entraIssuers(c);
  return {
    async verify(token: string): Promise<EntraCaller> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer,
          audience: c.audiences,
          algorithms: ["RS256"],
          clockTolerance: c.clockToleranceSeconds,
          requiredClaims: ["exp", "iss", "aud"],
        }));
      } catch (err) {
        throw refusal(err);
      }
      // v2.0 tokens name the client in azp, v1.0 in appid
      const appId = typeof payload.azp === "string" ? payload.azp : payload.appid;
      if (typeof appId !== "string" || !GUID.test(appId)) {
        throw new TokenRefused("the token names no client application (azp or appid)");
      }
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === "string") : [];
      const scopes = new Set<Scope>();
      for (const role of roles) for (const s of c.roles[role] ?? []) scopes.add(s);
      return { appId: appId.toLowerCase(), scopes };
    },
  };
}

/** A jose failure as a sentence for the caller (no token content is echoed). */
function refusal(err: unknown): TokenRefused {
  if (err instanceof errors.JWTExpired) return new TokenRefused("the token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "aud":
        return new TokenRefused("the token is not for this API (audience)");
      case "iss":
        return new TokenRefused("the token was not issued by this API's tenant (issuer)");
      case "nbf":
        return new TokenRefused("the token is not valid yet (nbf)");
      default:
        return new TokenRefused(`the token's ${err.claim} claim is missing or not valid`);
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRefused("the token's signature is not valid");
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenRefused("the token is signed with a key the tenant does not publish");
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRefused("the token's signing algorithm is not accepted (RS256 only)");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenRefused("the token is not a well-formed JWT");
  // the key set could not be fetched or read (timeout, network, a non-200 answer, bad JSON)
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof TypeError || isJoseGeneric(err)) {
    return new TokenRefused("the tenant's signing keys cannot be fetched", true);
  }
  return new TokenRefused("the token is not valid");
}

function isJoseGeneric(err: unknown): boolean {
  return err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC";
}
