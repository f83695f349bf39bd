// Throttling of failed redemption attempts (brute-force guessing of codes), per user and per end-user
// IP, with rate-limiter-flexible: in memory for one replica, in Redis (COUPONS_REDIS_URL) for many.
// Only refusals count; a user or IP that used its allowance within the window gets 429 + Retry-After.
import { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import type { ApiConfig } from "./config.ts";

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number; by: "user" | "ip" };

export interface Throttle {
  readonly store: "memory" | "redis";
  /** Resolves when the state store is usable (Redis connected), or after timeoutMs with a warning. */
  ready(timeoutMs?: number): Promise<void>;
  /** Before an attempt: is this user or IP still allowed? */
  check(userId: string, ip: string | null): Promise<ThrottleVerdict>;
  /** After a refused attempt. */
  recordFailure(userId: string, ip: string | null): Promise<void>;
  close(): Promise<void>;
}

type Logger = { warn(obj: object, msg: string): void };

export function createThrottle(cfg: ApiConfig["throttle"], log: Logger): Throttle {
  let redis: Redis | null = null;
  let makeLimiter: (prefix: string, points: number) => RateLimiterAbstract;
  if (cfg.redisUrl) {
    // Fail fast when Redis is away (no offline queue): a throttle outage must not stall redemptions.
    const client = new Redis(cfg.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    client.on("error", (err) => log.warn({ err: { message: err.message } }, "redis error (throttling falls back to memory)"));
    redis = client;
    makeLimiter = (prefix, points) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${cfg.redisPrefix}:${prefix}`,
        points,
        duration: cfg.windowSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${cfg.redisPrefix}:${prefix}`, points, duration: cfg.windowSeconds }),
      });
  } else {
    makeLimiter = (prefix, points) =>
      new RateLimiterMemory({ keyPrefix: `${cfg.redisPrefix}:${prefix}`, points, duration: cfg.windowSeconds });
  }
  const byUser = makeLimiter("user", cfg.userFailures);
  const byIp = makeLimiter("ip", cfg.ipFailures);

  const used = async (limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> => {
    try {
      return await limiter.get(key);
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, "throttle state unreadable; allowing the attempt");
      return null;
    }
  };

  return {
    store: redis ? "redis" : "memory",
    async ready(timeoutMs = 5000) {
      const client = redis;
      if (!client || client.status === "ready") return;
      let timer: NodeJS.Timeout | undefined;
      const connected = new Promise<boolean>((resolve) => {
        client.once("ready", () => resolve(true));
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      if (!(await connected)) log.warn({}, "redis is not ready; throttling uses memory until it is");
      clearTimeout(timer);
    },
    async check(userId, ip) {
      const [u, i] = await Promise.all([used(byUser, userId), ip ? used(byIp, ip) : Promise.resolve(null)]);
      if (u && u.consumedPoints >= cfg.userFailures) return { allowed: false, by: "user", retryAfterSeconds: seconds(u.msBeforeNext) };
      if (i && i.consumedPoints >= cfg.ipFailures) return { allowed: false, by: "ip", retryAfterSeconds: seconds(i.msBeforeNext) };
      return { allowed: true };
    },
    async recordFailure(userId, ip) {
      // consume() rejects with a RateLimiterRes once past the points; that is expected, not an error
      const swallow = (p: Promise<unknown>) =>
        p.catch((err) => {
          if (err instanceof Error) log.warn({ err: { message: err.message } }, "throttle state not updated");
        });
      await Promise.all([swallow(byUser.consume(userId)), ip ? swallow(byIp.consume(ip)) : null]);
    },
    async close() {
      if (redis) {
        await redis.quit().catch(() => redis?.disconnect());
      }
    },
  };
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
