// Throttling of failed attempts per user and per client IP, in memory and in Redis (shared by replicas).
import { Redis } from "ioredis";
import type { CouponStore } from "@coupons/db";
import { openStore } from "@coupons/db";
import { expect } from "chai";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, testConfig, unique } from "./helpers.ts";

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on("error", () => {});
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function throttleScenarios(kind: "memory" | "redis") {
  let store: CouponStore;
  const servers: RunningServer[] = [];
  let prefix: string;
  const env = () => ({
    COUPONS_THROTTLE_USER_FAILURES: "3",
    COUPONS_THROTTLE_IP_FAILURES: "5",
    COUPONS_THROTTLE_WINDOW_SECONDS: "60",
    COUPONS_REDIS_PREFIX: prefix,
    ...(kind === "redis" ? { COUPONS_REDIS_URL: REDIS_URL } : {}),
  });
  const start = async () => {
    const s = await startServer({ store, config: testConfig(env()) });
    servers.push(s);
    return ApiClient.connect(s.url);
  };

  before(async () => {
    prefix = `test:throttle:${unique("p").toLowerCase()}`;
    store = await openStore("embedded:memory");
  });
  after(async () => {
    for (const s of servers) await stopServer(s, { closeStore: false });
    await store.close();
    if (kind === "redis") {
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length > 0) await r.del(...keys);
      await r.quit();
    }
  });

  it("When a user has 3 refused attempts, then the next is the documented 429 with Retry-After, and other users still get through", async () => {
    const api = await start();
    const user = unique("guesser");
    for (let i = 0; i < 3; i++) {
      const r = await api.post("/v1/redemptions", { code: unique("guess"), userId: user, ipAddress: `192.0.2.${i + 1}` }, KEYS.shop);
      expect(r.status).to.equal(404);
    }
    const blocked = await api.post("/v1/redemptions", { code: unique("guess"), userId: user, ipAddress: "192.0.2.99" }, KEYS.shop);
    expect(blocked.status).to.equal(429);
    expect(blocked.body.code).to.equal("TOO_MANY_FAILED_ATTEMPTS");
    const retry = Number(blocked.headers.get("retry-after"));
    expect(retry).to.be.greaterThan(0).and.at.most(60);
    // validate is throttled too: it would otherwise be a free oracle
    const v = await api.post("/v1/validations", { code: unique("guess"), userId: user, ipAddress: "192.0.2.98" }, KEYS.shop);
    expect(v.status).to.equal(429);
    // both 429s were checked against the document's Throttled answer: a problem with Retry-After
    expect([...(api.checker.seen.get("redeemCoupon") ?? [])]).to.include(429);
    expect([...(api.checker.seen.get("validateCoupon") ?? [])]).to.include(429);
    const code = unique("fine");
    await seedCampaign(store, { codes: [code] });
    expect((await api.post("/v1/redemptions", { code, userId: unique("honest"), ipAddress: "192.0.2.50" }, KEYS.shop)).status).to.equal(
      200,
    );
  });

  it("When one client IP has 5 refused attempts across users, then that IP gets 429", async () => {
    const api = await start();
    const ip = "198.51.100.77";
    for (let i = 0; i < 5; i++) {
      const r = await api.post("/v1/validations", { code: unique("guess"), userId: unique("u"), ipAddress: ip }, KEYS.shop);
      expect(r.body.valid).to.equal(false);
    }
    const r = await api.post("/v1/redemptions", { code: unique("guess"), userId: unique("fresh"), ipAddress: ip }, KEYS.shop);
    expect(r.status).to.equal(429);
    expect(r.body.detail).to.contain("end-user address");
    const other = await api.post(
      "/v1/redemptions",
      { code: unique("guess"), userId: unique("fresh"), ipAddress: "198.51.100.78" },
      KEYS.shop,
    );
    expect(other.status).to.equal(404);
  });

  it("When successful redemptions repeat, then they are not throttled", async () => {
    const api = await start();
    const codes = Array.from({ length: 6 }, () => unique("ok"));
    await seedCampaign(store, { codes });
    for (const code of codes) {
      expect((await api.post("/v1/redemptions", { code, userId: "loyal", ipAddress: "203.0.113.200" }, KEYS.shop)).status).to.equal(200);
    }
  });

  if (kind === "redis") {
    it("When two replicas share Redis, then failures seen by one throttle the user on the other", async () => {
      const a = await start();
      const b = await start();
      const user = unique("roamer");
      for (let i = 0; i < 3; i++) {
        await (i % 2 ? a : b).post("/v1/redemptions", { code: unique("g"), userId: user, ipAddress: `192.0.2.${10 + i}` }, KEYS.shop);
      }
      expect((await a.post("/v1/redemptions", { code: unique("g"), userId: user, ipAddress: "192.0.2.30" }, KEYS.shop)).status).to.equal(
        429,
      );
      expect((await b.post("/v1/redemptions", { code: unique("g"), userId: user, ipAddress: "192.0.2.31" }, KEYS.shop)).status).to.equal(
        429,
      );
    });
  }
}

describe("throttling of failed attempts, in memory", () => {
  throttleScenarios("memory");
});

describe("throttling of failed attempts, in Redis", () => {
  before(async function () {
    if (!(await redisReachable())) {
      if (process.env.CI === "true") throw new Error(`Redis is not reachable at ${REDIS_URL}`);
      this.skip();
    }
  });
  throttleScenarios("redis");
});
