// The brute-force throttle (issue 12), with rate-limiter-flexible: in memory for one replica, in
// Redis (COUPONS_REDIS_URL) for many. An attempt TAKES one unit of each of its subjects' allowances
// before it reaches the store (consume: atomic per subject, in Redis too), and the route GIVES the
// units back when the attempt is accepted (reward). So N simultaneous refused attempts pass at most
// the allowance to the store, whatever their timing. Subjects: the end user, the end user's address
// when the calling service sends one (address.ts), and always the calling service itself (its API key
// id), each with its own allowance per window. An attempt stopped here is answered 429 and counted
// per refusing subject and minute (throttle-log.ts) for the fraud report, with no database write of
// its own.
import { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { CouponStore, ThrottleSubjectKind } from "@coupons/db";
import type { ApiConfig } from "./config.ts";
import { ThrottleLog } from "./throttle-log.ts";

export type Subject = { kind: ThrottleSubjectKind; key: string };

/** The units an allowed attempt holds, to give back when it is accepted. */
export type Held = { readonly subjects: readonly Subject[] };

export type Taken = { allowed: true; held: Held } | { allowed: false; by: ThrottleSubjectKind; retryAfterSeconds: number };

export interface Throttle {
  readonly store: "memory" | "redis";
  /** Resolves when the state store is usable (Redis connected), or after timeoutMs with a warning. */
  ready(timeoutMs?: number): Promise<void>;
  /** Takes one unit of every subject's allowance, before the attempt reaches the store. When one
   *  subject has none left, the others get theirs back, the attempt is counted as throttled against
   *  the subjects that had none left, and the answer says which subject refused and for how long. */
  take(subjects: readonly Subject[]): Promise<Taken>;
  /** Gives units back: the attempt was accepted (or refused for a reason that is not guessing). */
  giveBack(held: Held, kinds?: readonly ThrottleSubjectKind[]): Promise<void>;
  /** Writes the throttled attempts counted so far to the store (also every flushSeconds, and on close). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

type Logger = { warn(obj: object, msg: string): void };

/** Which subject a refusal names first when several have no allowance left. */
const ORDER: readonly ThrottleSubjectKind[] = ["user", "ip", "client"];

export function createThrottle(cfg: ApiConfig["throttle"], log: Logger, store?: CouponStore): Throttle {
  let redis: Redis | null = null;
  let makeLimiter: (prefix: string, points: number) => RateLimiterAbstract;
  if (cfg.redisUrl) {
    // Fail fast when Redis is away (no offline queue): a throttle outage must not stall redemptions;
    // the insurance limiter (memory) holds the allowances of this replica meanwhile.
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
  const limiters: Record<ThrottleSubjectKind, RateLimiterAbstract> = {
    user: makeLimiter("user", cfg.userFailures),
    ip: makeLimiter("ip", cfg.ipFailures),
    client: makeLimiter("client", cfg.clientFailures),
  };
  const throttled = new ThrottleLog(store, cfg.flushSeconds * 1000, log);

  const giveBack = async (subjects: readonly Subject[]) => {
    await Promise.all(
      subjects.map((s) =>
        limiters[s.kind].reward(s.key).catch((err: unknown) => {
          log.warn({ err: { message: (err as Error)?.message } }, "throttle allowance not given back");
        }),
      ),
    );
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
    async take(subjects) {
      const results = await Promise.allSettled(subjects.map((s) => limiters[s.kind].consume(s.key)));
      const held: Subject[] = [];
      const refused: { kind: ThrottleSubjectKind; ms: number }[] = [];
      results.forEach((r, i) => {
        const s = subjects[i] as Subject;
        if (r.status === "fulfilled") held.push(s);
        else if (r.reason instanceof RateLimiterRes) refused.push({ kind: s.kind, ms: r.reason.msBeforeNext });
        // neither Redis nor the insurance answered: let the attempt through rather than stall
        else log.warn({ err: { message: (r.reason as Error)?.message } }, "throttle state unreadable; allowing the attempt");
      });
      if (refused.length === 0) return { allowed: true, held: { subjects: held } };
      await giveBack(held);
      // counted against the subjects out of allowance only: a bot rotating user ids behind one
      // locked address adds one row (the address's), not one per invented user
      throttled.count(subjects.filter((s) => refused.some((r) => r.kind === s.kind)));
      const first = ORDER.find((k) => refused.some((r) => r.kind === k)) ?? "client";
      const ms = Math.max(...refused.map((r) => r.ms));
      return { allowed: false, by: first, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
    },
    async giveBack(held, kinds) {
      await giveBack(kinds ? held.subjects.filter((s) => kinds.includes(s.kind)) : held.subjects);
    },
    flush: () => throttled.flush(),
    async close() {
      await throttled.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
