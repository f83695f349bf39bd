// The throttle under concurrency (issue 12), in memory and in Redis: simultaneous refused attempts
// pass at most the allowance to the store (counted in the real store: its RedemptionHistory rows,
// and the calls it received), lookups and validations are counted, a replay after lock-out gets its
// original outcome, end-user addresses are canonicalised, a service that sends no address does not
// make its users share one allowance, and throttled attempts reach the fraud report after a flush.
import { Redis } from "ioredis";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, overrideStore, seedCampaign, testConfig, unique } from "./helpers.ts";

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const N = 100;
const HOUR = 3_600_000;

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

const statuses = (rs: { status: number }[]) =>
  rs.reduce<Record<number, number>>((acc, r) => {
    acc[r.status] = (acc[r.status] ?? 0) + 1;
    return acc;
  }, {});

function concurrencyScenarios(kind: "memory" | "redis") {
  let base: CouponStore;
  /** Calls of validateCoupon and getCouponDetails that reached the (real) store. */
  const reached = { validate: 0, lookup: 0 };
  let store: CouponStore;
  const servers: RunningServer[] = [];
  const prefixes: string[] = [];

  const start = async (env: Record<string, string>) => {
    const prefix = `test:throttle-c:${unique("p").toLowerCase()}`;
    prefixes.push(prefix);
    const config = testConfig({
      COUPONS_THROTTLE_USER_FAILURES: "5",
      COUPONS_THROTTLE_IP_FAILURES: "8",
      COUPONS_THROTTLE_CLIENT_FAILURES: "1000",
      COUPONS_THROTTLE_WINDOW_SECONDS: "300",
      COUPONS_THROTTLE_FLUSH_SECONDS: "3600", // flushed by the tests, when they say so
      COUPONS_REDIS_PREFIX: prefix,
      ...(kind === "redis" ? { COUPONS_REDIS_URL: REDIS_URL } : {}),
      ...env,
    });
    const s = await startServer({ store, config });
    servers.push(s);
    return { server: s, api: await ApiClient.connect(s.url) };
  };
  /** A second replica sharing the first one's throttle state (same Redis prefix). */
  const replicaOf = async (first: RunningServer) => {
    const s = await startServer({ store, config: first.built.deps.config });
    servers.push(s);
    return { server: s, api: await ApiClient.connect(s.url) };
  };

  before(async () => {
    base = await openStore("embedded:memory");
    store = overrideStore(base, {
      validateCoupon: (input) => {
        reached.validate++;
        return base.validateCoupon(input);
      },
      getCouponDetails: (code) => {
        reached.lookup++;
        return base.getCouponDetails(code);
      },
    });
  });
  after(async () => {
    for (const s of servers) await stopServer(s, { closeStore: false });
    await base.close();
    if (kind === "redis") {
      const r = new Redis(REDIS_URL);
      for (const p of prefixes) {
        const keys = await r.keys(`${p}:*`);
        if (keys.length > 0) await r.del(...keys);
      }
      await r.quit();
    }
  });

  it(`When one user makes ${N} simultaneous refused redemptions, then exactly the allowance (5) reach the store and the rest are 429`, async () => {
    const { api } = await start({});
    const user = unique("burst-user");
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api.post("/v1/redemptions", { code: unique("guess"), userId: user, ipAddress: `198.18.${i}.1` }, KEYS.shop),
      ),
    );
    const history = await base.listRedemptionAttempts({ userId: user, limit: 1000 });
    expect(history.length, "attempts that reached the store").to.equal(5);
    expect(statuses(rs)).to.deep.equal({ 404: 5, 429: N - 5 });
    const blocked = rs.find((r) => r.status === 429);
    expect(blocked?.body.code).to.equal("TOO_MANY_FAILED_ATTEMPTS");
    expect(Number(blocked?.headers.get("retry-after"))).to.be.within(1, 300);
  });

  it(`When ${N} simultaneous refused redemptions come from one end-user address, then exactly its allowance (8) reach the store, and the throttled ones are in the fraud report after a flush`, async () => {
    const { server, api } = await start({});
    const ip = "203.0.113.201";
    const users = Array.from({ length: N }, () => unique("u"));
    const rs = await Promise.all(
      users.map((userId) => api.post("/v1/redemptions", { code: unique("guess"), userId, ipAddress: ip }, KEYS.shop)),
    );
    expect(statuses(rs)).to.deep.equal({ 404: 8, 429: N - 8 });
    const window = { since: new Date(Date.now() - HOUR), until: new Date(Date.now() + HOUR) };
    const before = (await base.fraudReport({ ...window, by: "ip" })).find((r) => r.subject === ip);
    expect(before, "history rows of the address: what reached the store").to.deep.include({ refusals: 8, throttled: 0 });
    await server.built.deps.throttle.flush();
    const after = (await base.fraudReport({ ...window, by: "ip" })).find((r) => r.subject === ip);
    expect(after).to.deep.include({ refusals: 8, throttled: N - 8 });
    // counted against the address that refused, not against each invented user
    const byUser = await base.fraudReport({ ...window, by: "user", top: 1000 });
    expect(byUser.filter((r) => users.includes(r.subject) && r.throttled > 0)).to.deep.equal([]);
    const metrics = await api.get("/metrics", KEYS.admin);
    expect(metrics.text).to.match(/coupons_throttled_total\{operation="redeem",by="ip"\} 92\b/);
  });

  it(`When one user makes ${N} simultaneous validations of unknown codes, then exactly the allowance reach the store`, async () => {
    const { api } = await start({});
    const user = unique("validator");
    const from = reached.validate;
    const rs = await Promise.all(
      Array.from({ length: N }, () => api.post("/v1/validations", { code: unique("guess"), userId: user }, KEYS.shop)),
    );
    expect(reached.validate - from, "validations that reached the store").to.equal(5);
    expect(statuses(rs)).to.deep.equal({ 200: 5, 429: N - 5 });
    expect(rs.filter((r) => r.status === 200).every((r) => r.body.valid === false)).to.equal(true);
  });

  it(`When a calling service makes ${N} simultaneous lookups of unknown codes, then its allowance (20) reach the store, and another service is not affected`, async () => {
    const { api } = await start({ COUPONS_THROTTLE_CLIENT_FAILURES: "20" });
    const code = unique("known");
    await seedCampaign(store, { codes: [code] });
    const from = reached.lookup;
    const rs = await Promise.all(Array.from({ length: N }, () => api.get(`/v1/coupons/${unique("guess")}`, KEYS.reader)));
    expect(reached.lookup - from, "lookups that reached the store").to.equal(20);
    expect(statuses(rs)).to.deep.equal({ 404: 20, 429: N - 20 });
    expect(rs.find((r) => r.status === 429)?.body.detail).to.contain("API key");
    // the reader key is spent, also for a code that exists; another key still looks up
    expect((await api.get(`/v1/coupons/${code}`, KEYS.reader)).status).to.equal(429);
    expect((await api.get(`/v1/coupons/${code}`, KEYS.other)).status).to.equal(200);
  });

  it("When a found lookup or an accepted redemption gives its allowance back, then honest traffic never locks a service out", async () => {
    const { api } = await start({ COUPONS_THROTTLE_CLIENT_FAILURES: "3", COUPONS_THROTTLE_USER_FAILURES: "3" });
    const codes = Array.from({ length: 10 }, () => unique("ok"));
    await seedCampaign(store, { codes });
    for (const code of codes) {
      expect((await api.get(`/v1/coupons/${code}`, KEYS.other)).status).to.equal(200);
      expect((await api.post("/v1/redemptions", { code, userId: "regular" }, KEYS.other)).status).to.equal(200);
    }
  });

  it("When a user is locked out, then a retry with a stored Idempotency-Key still gets its original outcome", async () => {
    const { api } = await start({});
    const user = unique("retrier");
    const code = unique("paid");
    await seedCampaign(store, { codes: [code] });
    const body = { code, userId: user, ipAddress: "192.0.2.77" };
    const first = await api.post("/v1/redemptions", body, KEYS.shop, { "Idempotency-Key": "order-1" });
    expect(first.status).to.equal(200);
    const refusedBody = { code: unique("nope"), userId: user };
    const refused = await api.post("/v1/redemptions", refusedBody, KEYS.shop, { "Idempotency-Key": "order-2" });
    expect(refused.status).to.equal(404);
    for (let i = 0; i < 4; i++) await api.post("/v1/redemptions", { code: unique("g"), userId: user }, KEYS.shop);
    expect((await api.post("/v1/redemptions", { code: unique("g"), userId: user }, KEYS.shop)).status).to.equal(429);
    const replay = await api.post("/v1/redemptions", body, KEYS.shop, { "Idempotency-Key": "order-1" });
    expect(replay.status).to.equal(200);
    expect(replay.headers.get("idempotent-replayed")).to.equal("true");
    expect(replay.body).to.deep.equal(first.body);
    const replayedRefusal = await api.post("/v1/redemptions", refusedBody, KEYS.shop, { "Idempotency-Key": "order-2" });
    expect(replayedRefusal.status).to.equal(404);
    expect(replayedRefusal.headers.get("idempotent-replayed")).to.equal("true");
    // a new key for the locked-out user is still throttled
    const fresh = await api.post("/v1/redemptions", { ...body, code: unique("n") }, KEYS.shop, { "Idempotency-Key": "order-3" });
    expect(fresh.status).to.equal(429);
  });

  it("When an address is given as IPv4-mapped IPv6, or as another host of the same IPv6 /64, then it is the same subject", async () => {
    const { api } = await start({ COUPONS_THROTTLE_IP_FAILURES: "3", COUPONS_THROTTLE_USER_FAILURES: "100" });
    const guess = (ipAddress: string) => api.post("/v1/redemptions", { code: unique("g"), userId: unique("u"), ipAddress }, KEYS.shop);
    for (const ip of ["203.0.113.9", "::ffff:203.0.113.9", "::FFFF:cb00:7109"]) expect((await guess(ip)).status).to.equal(404);
    expect((await guess("203.0.113.9")).status).to.equal(429);
    for (const ip of ["2001:db8:1:2::1", "2001:DB8:1:2::2", "2001:db8:1:2:ffff::3"]) expect((await guess(ip)).status).to.equal(404);
    expect((await guess("2001:db8:1:2:0:0:0:99")).status).to.equal(429);
    expect((await guess("2001:db8:1:3::1")).status, "another /64").to.equal(404);
    // the attempt log records the canonical address
    const user = unique("mapped");
    await api.post("/v1/redemptions", { code: unique("g"), userId: user, ipAddress: "::ffff:198.51.100.4" }, KEYS.shop);
    expect((await base.listRedemptionAttempts({ userId: user }))[0]?.ipAddress).to.equal("198.51.100.4");
    const bad = await api.post("/v1/redemptions", { code: "X", userId: "u", ipAddress: "fe80::1%eth0" }, KEYS.shop);
    expect(bad.status).to.equal(400);
    expect(bad.body.errors[0].field).to.equal("ipAddress");
  });

  it("When a service sends no ipAddress and 50 of its users are refused, then the next honest user is not locked out", async () => {
    const { api } = await start({ COUPONS_THROTTLE_IP_FAILURES: "5" });
    for (let i = 0; i < 50; i++) {
      expect((await api.post("/v1/redemptions", { code: unique("g"), userId: `svc-user-${i}` }, KEYS.shop)).status).to.equal(404);
    }
    const code = unique("honest");
    await seedCampaign(store, { codes: [code] });
    expect((await api.post("/v1/redemptions", { code, userId: "svc-honest" }, KEYS.shop)).status).to.equal(200);
  });

  it("When the server stops, then the throttled attempts counted since the last flush are written", async () => {
    const { server, api } = await start({ COUPONS_THROTTLE_USER_FAILURES: "1" });
    const user = unique("leaving");
    await api.post("/v1/redemptions", { code: unique("g"), userId: user }, KEYS.shop);
    for (let i = 0; i < 3; i++)
      expect((await api.post("/v1/redemptions", { code: unique("g"), userId: user }, KEYS.shop)).status).to.equal(429);
    await stopServer(server, { closeStore: false });
    servers.splice(servers.indexOf(server), 1);
    const rows = await base.fraudReport({ since: new Date(Date.now() - HOUR), until: new Date(Date.now() + HOUR), by: "user" });
    expect(rows.find((r) => r.subject === user)).to.deep.include({ refusals: 1, throttled: 3 });
  });

  if (kind === "redis") {
    it(`When ${N} simultaneous refused attempts by one user are spread over two replicas, then exactly the allowance reach the store`, async () => {
      const a = await start({});
      const b = await replicaOf(a.server);
      const user = unique("spread");
      const rs = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          (i % 2 ? a.api : b.api).post("/v1/redemptions", { code: unique("g"), userId: user }, KEYS.shop),
        ),
      );
      expect((await base.listRedemptionAttempts({ userId: user, limit: 1000 })).length).to.equal(5);
      expect(statuses(rs)).to.deep.equal({ 404: 5, 429: N - 5 });
    });
  }
}

describe("throttle under concurrency, in memory", function () {
  this.timeout(120_000);
  concurrencyScenarios("memory");
});

describe("throttle under concurrency, in Redis", function () {
  this.timeout(120_000);
  before(async function () {
    if (!(await redisReachable())) {
      if (process.env.CI === "true") throw new Error(`Redis is not reachable at ${REDIS_URL}`);
      this.skip();
    }
  });
  concurrencyScenarios("redis");
});
