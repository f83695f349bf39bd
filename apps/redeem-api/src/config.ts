// The redeem API's configuration: environment variables read once at start through one zod schema
// (@coupons/db readEnv, with its one set of number and boolean parsers). A bad value stops the
// process with a message naming the variable; secrets (key hashes, URLs) are never echoed.
import { StoreError, envBool, envInt, readEnv } from "@coupons/db";
import { z } from "zod";

export const SCOPES = ["redeem", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type ApiKey = { id: string; sha256: Buffer; scopes: ReadonlySet<Scope> };

export type ApiConfig = {
  port: number;
  host: string;
  apiKeys: ApiKey[];
  /** Express `trust proxy`: false (ignore X-Forwarded-For), a hop count, or addresses/subnets. */
  trustProxy: boolean | number | string[];
  bodyLimitBytes: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  throttle: {
    /** Failed redemption attempts allowed per user within the window. */
    userFailures: number;
    /** Failed redemption attempts allowed per end-user IP within the window. */
    ipFailures: number;
    /** The window failures are counted in; a user or IP that used its allowance waits for the window's end. */
    windowSeconds: number;
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
};

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable} ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

const apiKeysSchema = z
  .array(
    z
      .object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,50}$/, "id must be 1-50 letters, digits, '.', '_' or '-'"),
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "sha256 must be 64 hex digits (the SHA-256 of the key)"),
        scopes: z.array(z.enum(SCOPES)).min(1, "scopes must name at least one of redeem, read, admin"),
      })
      .strict(),
  )
  .superRefine((keys, ctx) => {
    const seen = new Set<string>();
    for (const [i, k] of keys.entries()) {
      if (seen.has(k.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `id ${k.id} appears twice` });
      seen.add(k.id);
    }
  });

const int = envInt;
const bool = envBool();

const envSchema = {
  COUPONS_API_PORT: int(0, 65535).default(8080),
  COUPONS_API_HOST: z.string().min(1).default("0.0.0.0"),
  COUPONS_API_KEYS: z.string().optional(),
  COUPONS_TRUST_PROXY: z.string().optional(),
  COUPONS_BODY_LIMIT_BYTES: int(256, 1_048_576).default(16_384),
  COUPONS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  COUPONS_THROTTLE_USER_FAILURES: int(1, 1_000_000).default(10),
  COUPONS_THROTTLE_IP_FAILURES: int(1, 1_000_000).default(50),
  COUPONS_THROTTLE_WINDOW_SECONDS: int(1, 86_400).default(900),
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
  COUPONS_COUNTER_SYNC_SECONDS: int(0, 3600).default(5),
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
  return {
    port: v.COUPONS_API_PORT as number,
    host: v.COUPONS_API_HOST as string,
    apiKeys: parseApiKeys(v.COUPONS_API_KEYS as string | undefined),
    trustProxy: parseTrustProxy(v.COUPONS_TRUST_PROXY as string | undefined),
    bodyLimitBytes: v.COUPONS_BODY_LIMIT_BYTES as number,
    logLevel: v.COUPONS_LOG_LEVEL as ApiConfig["logLevel"],
    throttle: {
      userFailures: v.COUPONS_THROTTLE_USER_FAILURES as number,
      ipFailures: v.COUPONS_THROTTLE_IP_FAILURES as number,
      windowSeconds: v.COUPONS_THROTTLE_WINDOW_SECONDS as number,
      redisUrl: (v.COUPONS_REDIS_URL as string | undefined) ?? null,
      redisPrefix: v.COUPONS_REDIS_PREFIX as string,
    },
    dbPoolSize: v.COUPONS_DB_POOL_SIZE as number | undefined,
    idempotencyRetentionHours: v.COUPONS_IDEMPOTENCY_RETENTION_HOURS as number,
    migrateOnStart: v.COUPONS_MIGRATE_ON_START as boolean | undefined,
    shutdownTimeoutMs: v.COUPONS_SHUTDOWN_TIMEOUT_MS as number,
    embeddedWorker: v.COUPONS_API_WORKER as boolean,
    counterSyncSeconds: v.COUPONS_COUNTER_SYNC_SECONDS as number,
  };
}

function parseApiKeys(raw: string | undefined): ApiKey[] {
  const name = "COUPONS_API_KEYS";
  if (raw === undefined) {
    throw new ConfigError(
      name,
      'is required: a JSON array like [{"id":"shop","sha256":"<hex of sha256(key)>","scopes":["redeem","read"]}]',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, "must be valid JSON (an array of {id, sha256, scopes})");
  }
  const r = apiKeysSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at [${issue.path.join("].[")}]` : "";
    throw new ConfigError(name, `is invalid${where}: ${issue?.message ?? "bad value"}`);
  }
  if (r.data.length === 0) throw new ConfigError(name, "must list at least one key");
  return r.data.map((k) => ({ id: k.id, sha256: Buffer.from(k.sha256.toLowerCase(), "hex"), scopes: new Set(k.scopes) }));
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
