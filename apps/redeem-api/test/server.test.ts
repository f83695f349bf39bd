// Process-level behaviour: configuration checks, graceful shutdown, trusted proxies, and that
// internal failures do not leak their text.
import type { CouponStore } from "@coupons/db";
import { StoreError, openStore } from "@coupons/db";
import { expect } from "chai";
import { ConfigError, loadConfig } from "../src/config.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, overrideStore, seedCampaign, testConfig, testEnv, unique } from "./helpers.ts";

describe("configuration", () => {
  const bad = (extra: Record<string, string>) => () => loadConfig(testEnv(extra));

  it("When the configuration is valid, then it is read with its defaults", () => {
    const c = loadConfig(testEnv());
    expect(c.port).to.equal(0);
    expect(c.apiKeys.map((k) => k.id)).to.deep.equal(["shop", "reader", "admin", "other"]);
    expect(c.trustProxy).to.equal(false);
    expect(c.throttle.redisUrl).to.equal(null);
    expect(c.throttle).to.include({ userFailures: 10, ipFailures: 50, clientFailures: 1000, windowSeconds: 900, flushSeconds: 5 });
  });

  it("When a value is bad, then loading stops with an error naming the variable and not echoing secrets", () => {
    expect(bad({ COUPONS_API_PORT: "http" })).to.throw(ConfigError, /^COUPONS_API_PORT /);
    expect(bad({ COUPONS_LOG_LEVEL: "loud" })).to.throw(ConfigError, /^COUPONS_LOG_LEVEL /);
    expect(bad({ COUPONS_API_KEYS: "not json" })).to.throw(ConfigError, /^COUPONS_API_KEYS must be valid JSON/);
    expect(bad({ COUPONS_API_KEYS: '[{"id":"a","sha256":"abc","scopes":["redeem"]}]' })).to.throw(ConfigError, /\[0\]\.\[sha256\]/);
    expect(bad({ COUPONS_API_KEYS: `[{"id":"a","sha256":"${"a".repeat(64)}","scopes":["root"]}]` })).to.throw(ConfigError, /scopes/);
    expect(bad({ COUPONS_TRUST_PROXY: "true" })).to.throw(ConfigError, /^COUPONS_TRUST_PROXY /);
    expect(bad({ COUPONS_THROTTLE_CLIENT_FAILURES: "0" })).to.throw(ConfigError, /^COUPONS_THROTTLE_CLIENT_FAILURES /);
    expect(bad({ COUPONS_THROTTLE_FLUSH_SECONDS: "soon" })).to.throw(ConfigError, /^COUPONS_THROTTLE_FLUSH_SECONDS /);
    expect(bad({ COUPONS_REDIS_URL: "http://secret:pw@host" }))
      .to.throw(ConfigError, /^COUPONS_REDIS_URL /)
      .and.not.to.match(/pw/);
    const env = testEnv();
    delete (env as Record<string, string | undefined>).COUPONS_API_KEYS;
    expect(() => loadConfig(env)).to.throw(ConfigError, /^COUPONS_API_KEYS is required/);
  });
});

describe("configured API keys", () => {
  const keys = (entries: { id: string; sha256: string }[]) =>
    testEnv({ COUPONS_API_KEYS: JSON.stringify(entries.map((e) => ({ ...e, scopes: ["read"] }))) });

  it("When the same key hash is listed twice (in any case), then loading stops naming both entries", () => {
    const h = "ab".repeat(32);
    expect(() =>
      loadConfig(
        keys([
          { id: "shop", sha256: h },
          { id: "ops", sha256: "cd".repeat(32) },
          { id: "admin", sha256: h.toUpperCase() },
        ]),
      ),
    ).to.throw(ConfigError, /^COUPONS_API_KEYS is invalid at \[2\]\.\[sha256\]: the key admin has the same sha256 as the key shop/);
  });

  it("When the same key id is listed twice, then loading stops naming the id", () => {
    expect(() =>
      loadConfig(
        keys([
          { id: "shop", sha256: "ab".repeat(32) },
          { id: "shop", sha256: "cd".repeat(32) },
        ]),
      ),
    ).to.throw(ConfigError, /^COUPONS_API_KEYS is invalid at \[1\]\.\[id\]: id shop appears twice/);
  });
});

describe("behind a trusted proxy", () => {
  let store: CouponStore;
  let running: RunningServer;
  before(async () => {
    store = await openStore("embedded:memory");
    running = await startServer({ store, config: testConfig({ COUPONS_TRUST_PROXY: "loopback" }) });
  });
  after(async () => {
    await stopServer(running);
  });

  it("When the proxy is trusted, then X-Forwarded-For names the end user's address", async () => {
    const code = unique("xff");
    await seedCampaign(store, { codes: [code] });
    const api = await ApiClient.connect(running.url);
    const r = await api.post("/v1/redemptions", { code, userId: "u1" }, KEYS.shop, { "x-forwarded-for": "198.51.100.23" });
    expect(r.status).to.equal(200);
    const [attempt] = await store.listRedemptionAttempts({ couponCode: code });
    expect(attempt?.ipAddress).to.equal("198.51.100.23");
  });
});

describe("failures inside", () => {
  it("When the store throws a driver error or is unreachable, then the answer is a problem without its text", async () => {
    const store = await openStore("embedded:memory");
    const leaky = overrideStore(store, {
      getCampaign: async () => {
        throw new Error('relation "campaigns" does not exist: SELECT * FROM sp_GetCampaign($1)');
      },
      getRedemptionStats: async () => {
        throw new StoreError("UNAVAILABLE", "the database cannot be reached: connect ECONNREFUSED 10.1.2.3:5432", {
          cause: new Error("x"),
        });
      },
      getCouponDetails: async () => {
        throw new StoreError("INVALID_INPUT", "a value is too long for its column: value too long for type character varying(100)", {
          cause: Object.assign(new Error("value too long"), { code: "22001" }),
        });
      },
    });
    const running = await startServer({ store: leaky, config: testConfig() });
    try {
      const api = await ApiClient.connect(running.url);
      const r = await api.get("/v1/campaigns/x", KEYS.reader);
      expect(r.status).to.equal(500);
      expect(r.body.code).to.equal("INTERNAL");
      expect(r.text).to.not.match(/relation|SELECT|sp_Get|\.ts:/);
      const u = await api.get("/v1/campaigns/x/stats", KEYS.reader);
      expect(u.status).to.equal(503);
      expect(u.headers.get("retry-after")).to.equal("5");
      expect(u.text).to.not.match(/ECONNREFUSED|10\.1\.2\.3/);
      const i = await api.get("/v1/coupons/ANY", KEYS.reader);
      expect(i.status).to.equal(400);
      expect(i.body.detail).to.equal("a value in the request is not acceptable");
      expect(i.text).to.not.match(/character varying/);
    } finally {
      await stopServer(running);
    }
  });
});

describe("store refusals written for callers", () => {
  it("When the store refuses an input with its own message (expose), then the client reads that message; the same code from a driver error is generic", async () => {
    const store = await openStore("embedded:memory");
    const own = "userId must be at most 100 characters";
    const refusing = overrideStore(store, {
      assignCoupon: async () => {
        throw new StoreError("INVALID_INPUT", own);
      },
      unassignCoupon: async () => {
        throw new StoreError("INVALID_INPUT", own, { cause: new Error("from the driver"), expose: false });
      },
    });
    const running = await startServer({ store: refusing, config: testConfig() });
    try {
      const api = await ApiClient.connect(running.url);
      const shown = await api.put("/v1/coupons/ANY/assignment", { userId: "u1" });
      expect(shown.status).to.equal(400);
      expect(shown.body).to.include({ code: "INVALID_INPUT", detail: own });
      const hidden = await api.delete("/v1/coupons/ANY/assignment");
      expect(hidden.status).to.equal(400);
      expect(hidden.body).to.include({ code: "INVALID_INPUT", detail: "a value in the request is not acceptable" });
    } finally {
      await stopServer(running);
    }
  });
});

describe("graceful shutdown", () => {
  it("When the server stops with a request in flight, then that request completes, new ones are refused, and the store closes", async () => {
    const store = await openStore("embedded:memory");
    const code = unique("slow");
    await seedCampaign(store, { codes: [code] });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered: () => void = () => {};
    const inFlight = new Promise<void>((r) => {
      entered = r;
    });
    let closed = false;
    const slow = overrideStore(store, {
      redeemCoupon: async (input) => {
        entered();
        await gate;
        return store.redeemCoupon(input);
      },
      close: async () => {
        closed = true;
        await store.close();
      },
    });
    const running = await startServer({ store: slow, config: testConfig() });
    const api = await ApiClient.connect(running.url);
    const pending = api.post("/v1/redemptions", { code, userId: "late" }, KEYS.shop);
    await inFlight;
    const stopping = stopServer(running);
    await new Promise((r) => setTimeout(r, 50));
    expect(running.server.listening).to.equal(false);
    let refused = false;
    try {
      await api.get("/healthz", null);
    } catch {
      refused = true;
    }
    expect(refused, "a new connection is refused while draining").to.equal(true);
    expect(closed, "the store stays open while a request is in flight").to.equal(false);
    release();
    const r = await pending;
    expect(r.status).to.equal(200);
    await stopping;
    expect(closed).to.equal(true);
  });
});
