// The redeem API's configuration: environment variables read once at start through one zod schema
// (@coupons/db readEnv, with its one set of number and boolean parsers). A bad value stops the
// process with a message naming the variable; secrets (key hashes, URLs) are never echoed.
import { StoreError, envBool, envInt, readEnv } from "@coupons/db";
import { z } from "zod";
import { type ApiKey, ConfigError, SCOPES, type Scope, apiKeysText, parseApiKeys } from "./config-keys.ts";
import { type AdmissionConfig, admissionEnv, admissionOf } from "./admission-config.ts";

export { type ApiKey, ConfigError, SCOPES, type Scope } from "./config-keys.ts";

/** Microsoft Entra ID access tokens accepted beside (or instead of) API keys. */
export type EntraConfig = {
  /** The directory (tenant) id: a GUID. */
  tenantId: string;
  /** The API's client id and/or App ID URI (v2.0 tokens carry the client id, v1.0 either). */
  audiences: string[];
  /** Where the tenant's keys are published: `<authority>/<tenant>/discovery/v2.0/keys`. */
  authority: string;
  /** The accepted `iss` values; null: the tenant's v2.0 and v1.0 issuers (entra.ts). */
  issuers: string[] | null;
  /** App role (the token's `roles`) -> the scopes it grants. */
  roles: Record<string, Scope[]>;
  clockToleranceSeconds: number;
};

export const DEFAULT_ENTRA_ROLES: Record<string, Scope[]> = {
  "Coupons.Redeem": ["redeem"],
  "Coupons.Read": ["read"],
  "Coupons.Admin": ["admin"],
};

export type ApiConfig = {
  port: number;
  host: string;
  /** Empty when only Entra ID tokens are accepted. */
  apiKeys: ApiKey[];
  /** null: no bearer tokens, API keys only. */
  entra: EntraConfig | null;
  /** The HTTP server's limits: slow or idle connections are closed, and their number is capped. */
  server: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
  /** Express `trust proxy`: false (ignore X-Forwarded-For), a hop count, or addresses/subnets. */
  trustProxy: boolean | number | string[];
  bodyLimitBytes: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  throttle: {
    /** Refused attempts (redemptions, validations) allowed per end user within the window. */
    userFailures: number;
    /** Refused attempts allowed per end-user address (body ipAddress; IPv6 by /64) within the window. */
    ipFailures: number;
    /** Refused attempts allowed per calling service (API key) within the window: codes that do not
     *  exist, by redemption, validation or lookup. */
    clientFailures: number;
    /** The window failures are counted in; a subject that used its allowance waits for the window's end. */
    windowSeconds: number;
    /** How often throttled attempts counted in memory are written to the store (for the fraud report). */
    flushSeconds: number;
    redisUrl: string | null;
    redisPrefix: string;
  };
  dbPoolSize: number | undefined;
  /** Apply pending migrations at start; undefined leaves the engine's default (embedded: yes). */
  migrateOnStart: boolean | undefined;
  shutdownTimeoutMs: number;
  /** Idempotency keys older than this are purged (hourly, by every replica; purges skip each other's rows). */
  idempotencyRetentionHours: number;
  /** On the embedded engine, run the generation worker in this process (one process owns the data
   *  folder, so nothing else could): a request made through the API gets generated. */
  embeddedWorker: boolean;
  /** How often Campaigns.CurrentRedemptions is refreshed from the slot sums (counter-sync.ts); 0: never. */
  counterSyncSeconds: number;
  /** Admission per campaign in front of redemptions, validations and lookups (admission.ts). */
  admission: AdmissionConfig;
};

const entraRolesSchema = z.record(
  z.string().regex(/^[\x21-\x7e]{1,120}$/, "a role name is 1-120 printable ASCII characters without spaces"),
  z.array(z.enum(SCOPES)).min(1, "each role must grant at least one of redeem, read, admin"),
);

const int = envInt;
const bool = envBool();

const envSchema = {
  COUPONS_API_PORT: int(0, 65535).default(8080),
  COUPONS_API_HOST: z.string().min(1).default("0.0.0.0"),
  COUPONS_API_KEYS: z.string().optional(),
  COUPONS_API_KEYS_FILE: z.string().min(1).optional(),
  COUPONS_TRUST_PROXY: z.string().optional(),
  COUPONS_BODY_LIMIT_BYTES: int(256, 1_048_576).default(16_384),
  COUPONS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  COUPONS_THROTTLE_USER_FAILURES: int(1, 1_000_000).default(10),
  COUPONS_THROTTLE_IP_FAILURES: int(1, 1_000_000).default(50),
  COUPONS_THROTTLE_CLIENT_FAILURES: int(1, 100_000_000).default(1000),
  COUPONS_THROTTLE_WINDOW_SECONDS: int(1, 86_400).default(900),
  COUPONS_THROTTLE_FLUSH_SECONDS: int(1, 3600).default(5),
  COUPONS_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .optional(),
  COUPONS_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,100}$/)
    .default("coupons:throttle"),
  COUPONS_DB_POOL_SIZE: int(1, 200).optional(),
  COUPONS_IDEMPOTENCY_RETENTION_HOURS: int(1, 24 * 365).default(168),
  COUPONS_MIGRATE_ON_START: bool.optional(),
  COUPONS_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  COUPONS_API_WORKER: bool.default(true),
  COUPONS_API_ENTRA_TENANT_ID: z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be the tenant's id (a GUID)")
    .optional(),
  COUPONS_API_ENTRA_AUDIENCE: z.string().optional(),
  COUPONS_API_ENTRA_AUTHORITY: z.string().default("https://login.microsoftonline.com"),
  COUPONS_API_ENTRA_ISSUERS: z.string().optional(),
  COUPONS_API_ENTRA_ROLES: z.string().optional(),
  COUPONS_API_ENTRA_CLOCK_TOLERANCE_SECONDS: int(0, 300).default(60),
  COUPONS_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  COUPONS_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  COUPONS_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  COUPONS_MAX_CONNECTIONS: int(1, 1_000_000).default(1_024),
  COUPONS_COUNTER_SYNC_SECONDS: int(0, 3600).default(5),
  ...admissionEnv,
} as const;

/** Reads and checks the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  let v: Record<string, unknown>;
  try {
    v = readEnv(envSchema, env);
  } catch (err) {
    // readEnv names the variable first and never echoes the value (it may be a secret)
    if (!(err instanceof StoreError)) throw err;
    const [name = "a setting", ...rest] = err.message.split(" ");
    throw new ConfigError(name, `is invalid: ${rest.join(" ")}`);
  }
  const entra = parseEntra(v);
  const headersTimeoutMs = v.COUPONS_HEADERS_TIMEOUT_MS as number;
  const requestTimeoutMs = v.COUPONS_REQUEST_TIMEOUT_MS as number;
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError("COUPONS_HEADERS_TIMEOUT_MS", `must be at most COUPONS_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  return {
    port: v.COUPONS_API_PORT as number,
    host: v.COUPONS_API_HOST as string,
    apiKeys: parseApiKeys(
      apiKeysText(v.COUPONS_API_KEYS as string | undefined, v.COUPONS_API_KEYS_FILE as string | undefined),
      entra !== null,
    ),
    entra,
    server: {
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: v.COUPONS_KEEP_ALIVE_TIMEOUT_MS as number,
      maxConnections: v.COUPONS_MAX_CONNECTIONS as number,
    },
    trustProxy: parseTrustProxy(v.COUPONS_TRUST_PROXY as string | undefined),
    bodyLimitBytes: v.COUPONS_BODY_LIMIT_BYTES as number,
    logLevel: v.COUPONS_LOG_LEVEL as ApiConfig["logLevel"],
    throttle: {
      userFailures: v.COUPONS_THROTTLE_USER_FAILURES as number,
      ipFailures: v.COUPONS_THROTTLE_IP_FAILURES as number,
      clientFailures: v.COUPONS_THROTTLE_CLIENT_FAILURES as number,
      windowSeconds: v.COUPONS_THROTTLE_WINDOW_SECONDS as number,
      flushSeconds: v.COUPONS_THROTTLE_FLUSH_SECONDS as number,
      redisUrl: (v.COUPONS_REDIS_URL as string | undefined) ?? null,
      redisPrefix: v.COUPONS_REDIS_PREFIX as string,
    },
    dbPoolSize: v.COUPONS_DB_POOL_SIZE as number | undefined,
    idempotencyRetentionHours: v.COUPONS_IDEMPOTENCY_RETENTION_HOURS as number,
    migrateOnStart: v.COUPONS_MIGRATE_ON_START as boolean | undefined,
    shutdownTimeoutMs: v.COUPONS_SHUTDOWN_TIMEOUT_MS as number,
    embeddedWorker: v.COUPONS_API_WORKER as boolean,
    counterSyncSeconds: v.COUPONS_COUNTER_SYNC_SECONDS as number,
    admission: admissionOf(v),
  };
}

const list = (raw: string) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** Entra ID settings: none of them (tokens not accepted), or at least the tenant and the audience. */
function parseEntra(v: Record<string, unknown>): EntraConfig | null {
  const tenantId = v.COUPONS_API_ENTRA_TENANT_ID as string | undefined;
  const audience = v.COUPONS_API_ENTRA_AUDIENCE as string | undefined;
  if (tenantId === undefined && audience === undefined) {
    for (const other of ["COUPONS_API_ENTRA_ISSUERS", "COUPONS_API_ENTRA_ROLES"]) {
      if (v[other] !== undefined)
        throw new ConfigError(
          other,
          "is set, but Entra ID tokens are off: set COUPONS_API_ENTRA_TENANT_ID and COUPONS_API_ENTRA_AUDIENCE too",
        );
    }
    return null;
  }
  if (tenantId === undefined) throw new ConfigError("COUPONS_API_ENTRA_TENANT_ID", "is required when COUPONS_API_ENTRA_AUDIENCE is set");
  if (audience === undefined) {
    throw new ConfigError(
      "COUPONS_API_ENTRA_AUDIENCE",
      "is required when COUPONS_API_ENTRA_TENANT_ID is set: the API's client id and/or App ID URI",
    );
  }
  const audiences = list(audience);
  if (audiences.length === 0) throw new ConfigError("COUPONS_API_ENTRA_AUDIENCE", "must name the API's client id and/or App ID URI");
  const authority = (v.COUPONS_API_ENTRA_AUTHORITY as string).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    throw new ConfigError("COUPONS_API_ENTRA_AUTHORITY", "must be a URL like https://login.microsoftonline.com");
  }
  const loopback = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new ConfigError("COUPONS_API_ENTRA_AUTHORITY", "must be https:// (plain http only on loopback, for tests)");
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new ConfigError("COUPONS_API_ENTRA_AUTHORITY", "must be the authority's host (and path), without query, fragment or credentials");
  }
  const issuersRaw = v.COUPONS_API_ENTRA_ISSUERS as string | undefined;
  const issuers = issuersRaw === undefined ? null : list(issuersRaw);
  if (issuers?.length === 0) throw new ConfigError("COUPONS_API_ENTRA_ISSUERS", "must list at least one issuer");
  let roles = DEFAULT_ENTRA_ROLES;
  const rolesRaw = v.COUPONS_API_ENTRA_ROLES as string | undefined;
  if (rolesRaw !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(rolesRaw);
    } catch {
      throw new ConfigError("COUPONS_API_ENTRA_ROLES", 'must be valid JSON: an object like {"Coupons.Redeem":["redeem"]}');
    }
    const r = entraRolesSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
      throw new ConfigError("COUPONS_API_ENTRA_ROLES", `is invalid${where}: ${issue?.message ?? "bad value"}`);
    }
    if (Object.keys(r.data).length === 0) throw new ConfigError("COUPONS_API_ENTRA_ROLES", "must map at least one role");
    roles = r.data;
  }
  return {
    tenantId: tenantId.toLowerCase(),
    audiences,
    authority,
    issuers,
    roles,
    clockToleranceSeconds: v.COUPONS_API_ENTRA_CLOCK_TOLERANCE_SECONDS as number,
  };
}

function parseTrustProxy(raw: string | undefined): ApiConfig["trustProxy"] {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") {
    throw new ConfigError(
      "COUPONS_TRUST_PROXY",
      "must not be true (that trusts any client's X-Forwarded-For); give a hop count or proxy addresses",
    );
  }
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10) throw new ConfigError("COUPONS_TRUST_PROXY", "must be a hop count from 1 to 10");
    return hops;
  }
  const parts = raw.split(",").map((s) => s.trim());
  const named = new Set(["loopback", "linklocal", "uniquelocal"]);
  for (const p of parts) {
    if (!named.has(p) && !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(p)) {
      throw new ConfigError("COUPONS_TRUST_PROXY", `must be false, a hop count, or a comma list of IPs/subnets/loopback (bad entry: ${p})`);
    }
  }
  return parts;
}
