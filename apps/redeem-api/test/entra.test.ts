// Microsoft Entra ID callers against a token issuer made here: a loopback HTTP server publishing the
// tenant's key set where Entra does (/<tenant>/discovery/v2.0/keys), and tokens signed with jose as
// Entra signs them (RS256, v2.0 and v1.0 claims). Nothing leaves loopback.
import { once } from "node:events";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from "jose";
import { ConfigError, loadConfig } from "../src/config.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, testEnv, unique } from "./helpers.ts";

const TENANT = "11111111-2222-4333-8444-555555555555";
const OTHER_TENANT = "99999999-2222-4333-8444-555555555555";
const API_CLIENT_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const APP_ID_URI = "api://coupons-test";
const SHOP_APP = "0f0f0f0f-1111-4222-8333-444444444444";
const KID = "test-key-1";

type Issuer = { server: Server; authority: string; fetches: number; close(): Promise<void> };

/** Serves the tenant's key set as Entra does; counts the fetches. */
async function startIssuer(jwks: { keys: JWK[] }): Promise<Issuer> {
  const issuer: Partial<Issuer> = { fetches: 0 };
  const server = createServer((req, res) => {
    if (req.url === `/${TENANT}/discovery/v2.0/keys`) {
      issuer.fetches = (issuer.fetches ?? 0) + 1;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    } else res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return Object.assign(issuer, {
    server,
    authority: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as Issuer;
}

const entraEnv = (authority: string, extra: Record<string, string> = {}) =>
  testEnv({
    COUPONS_API_ENTRA_TENANT_ID: TENANT,
    COUPONS_API_ENTRA_AUDIENCE: `${API_CLIENT_ID},${APP_ID_URI}`,
    COUPONS_API_ENTRA_AUTHORITY: authority,
    ...extra,
  });

describe("Entra ID callers (bearer tokens from a loopback tenant)", () => {
  let key: CryptoKey;
  let impostor: CryptoKey;
  let published: JWK;
  let issuer: Issuer;
  let store: CouponStore;
  let running: RunningServer;
  let api: ApiClient;
  let iss2: string;

  /** A v2.0 app-only access token as Entra issues for a managed identity, with claims overridden. */
  const token = async (claims: Record<string, unknown> = {}, opts: { signWith?: CryptoKey; alg?: string; ttl?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const body = {
      aud: API_CLIENT_ID,
      iss: iss2,
      iat: now - 10,
      nbf: now - 10,
      exp: now + (opts.ttl ?? 3600),
      azp: SHOP_APP,
      azpacr: "2",
      oid: randomUUID(),
      sub: randomUUID(),
      tid: TENANT,
      roles: ["Coupons.Redeem"],
      ver: "2.0",
      ...claims,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete (body as Record<string, unknown>)[k];
    return new SignJWT(body).setProtectedHeader({ alg: opts.alg ?? "RS256", typ: "JWT", kid: KID }).sign(opts.signWith ?? key);
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  before(async () => {
    const pair = await generateKeyPair("RS256");
    key = pair.privateKey;
    impostor = (await generateKeyPair("RS256")).privateKey;
    published = { ...(await exportJWK(pair.publicKey)), kid: KID, use: "sig", alg: "RS256" };
    issuer = await startIssuer({ keys: [published] });
    iss2 = `${issuer.authority}/${TENANT}/v2.0`;
    store = await openStore("embedded:memory");
    running = await startServer({ store, config: loadConfig(entraEnv(issuer.authority)) });
    api = await ApiClient.connect(running.url);
  });
  after(async () => {
    if (running) await stopServer(running);
    await issuer?.close();
  });

  it("When a v2.0 token carries Coupons.Redeem, then it redeems, and the caller is the client application", async () => {
    const code = unique("entra");
    await seedCampaign(store, { codes: [code] });
    const t = await token();
    const r = await api.call("POST", "/v1/redemptions", {
      body: { code, userId: "u1" },
      headers: { ...bearer(t), "idempotency-key": "k1" },
    });
    expect(r.status, r.text).to.equal(200);
    // the idempotency record is the caller's: the same key and body from the same app replays
    const again = await api.call("POST", "/v1/redemptions", {
      body: { code, userId: "u1" },
      headers: { ...bearer(t), "idempotency-key": "k1" },
    });
    expect(again.status, again.text).to.equal(200);
    expect(again.headers.get("idempotent-replayed")).to.equal("true");
  });

  it("When a v1.0 token (sts.windows.net issuer, appid, App ID URI audience) carries Coupons.Read, then it reads", async () => {
    const code = unique("entra");
    await seedCampaign(store, { codes: [code] });
    const t = await token({
      iss: `https://sts.windows.net/${TENANT}/`,
      aud: APP_ID_URI,
      azp: undefined,
      azpacr: undefined,
      appid: SHOP_APP,
      appidacr: "2",
      ver: "1.0",
      roles: ["Coupons.Read"],
    });
    const r = await api.call("GET", `/v1/coupons/${code}`, { headers: bearer(t) });
    expect(r.status, r.text).to.equal(200);
    expect(r.body.couponCode).to.equal(code);
  });

  it("When an admin token creates a campaign, then the campaign records the client application as its creator", async () => {
    const campaignId = unique("ENTRA-CAMP");
    const t = await token({ roles: ["Coupons.Admin"] });
    const r = await api.call("POST", "/v1/campaigns", {
      headers: bearer(t),
      body: { campaignId, name: "entra", startDate: "2030-03-01T00:00:00Z", endDate: "2030-05-31T23:59:59Z", discountPercentage: 15 },
    });
    expect(r.status, r.text).to.equal(201);
    expect((await store.getCampaign(campaignId))?.createdBy).to.equal(`entra:${SHOP_APP}`);
  });

  it("When a valid token's roles do not grant the endpoint's scope, or it has no roles, then it answers 403 FORBIDDEN", async () => {
    const reader = await token({ roles: ["Coupons.Read"] });
    const r = await api.call("POST", "/v1/redemptions", { body: { code: "ANY", userId: "u1" }, headers: bearer(reader) });
    expect(r.status, r.text).to.equal(403);
    expect(r.body.code).to.equal("FORBIDDEN");
    expect(r.body.detail).to.contain("redeem");
    for (const roles of [[], ["Some.Other.Role"], undefined]) {
      const none = await token({ roles });
      const n = await api.call("GET", "/v1/campaigns", { headers: bearer(none) });
      expect(n.status, `${JSON.stringify(roles)}: ${n.text}`).to.equal(403);
    }
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ["signed by a key the tenant did not publish (same kid)", () => token({}, { signWith: impostor }), /signature/],
    ["expired beyond the clock tolerance", () => token({ iat: 1, nbf: 1, exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    ["for another audience", () => token({ aud: "api://someone-else" }), /audience/],
    [
      "from another tenant (v2.0 issuer)",
      async () => token({ iss: `${issuer.authority}/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT }),
      /issuer/,
    ],
    ["from another tenant (v1.0 issuer)", () => token({ iss: `https://sts.windows.net/${OTHER_TENANT}/` }), /issuer/],
    ["not valid yet", () => token({ nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    ["without a client application", () => token({ azp: undefined }), /client application/],
    ["not a JWT", async () => "not.a.jwt", /well-formed/],
  ];
  for (const [what, make, reason] of refusals) {
    it(`When the token is ${what}, then it answers 401 UNAUTHENTICATED saying why`, async () => {
      const r = await api.call("POST", "/v1/redemptions", { body: { code: "ANY", userId: "u1" }, headers: bearer(await make()) });
      expect(r.status, r.text).to.equal(401);
      expect(r.body.code).to.equal("UNAUTHENTICATED");
      expect(r.body.detail).to.match(reason);
      expect(r.headers.get("www-authenticate")).to.match(/Bearer error="invalid_token"/);
    });
  }

  it("When a token is signed with HS256 using the published key's material as secret, then it is refused (RS256 only)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(published));
    const now = Math.floor(Date.now() / 1000);
    const t = await new SignJWT({ aud: API_CLIENT_ID, iss: iss2, exp: now + 600, azp: SHOP_APP, roles: ["Coupons.Admin"] })
      .setProtectedHeader({ alg: "HS256", kid: KID })
      .sign(secret);
    const r = await api.call("GET", "/v1/campaigns", { headers: bearer(t) });
    expect(r.status, r.text).to.equal(401);
  });

  it("When both an API key and a token are sent, then it answers 401 asking for one; a key alone still works", async () => {
    const r = await api.call("GET", "/v1/campaigns", { key: KEYS.reader, headers: bearer(await token({ roles: ["Coupons.Read"] })) });
    expect(r.status, r.text).to.equal(401);
    expect(r.body.detail).to.contain("not both");
    expect((await api.get("/v1/campaigns", KEYS.reader)).status).to.equal(200);
  });

  it("When the role mapping is configured, then the configured roles grant the scopes and the defaults no longer do", async () => {
    const custom = await startServer({
      store,
      config: loadConfig(entraEnv(issuer.authority, { COUPONS_API_ENTRA_ROLES: JSON.stringify({ "Shop.Reader": ["read"] }) })),
    });
    try {
      const c = await ApiClient.connect(custom.url);
      expect((await c.call("GET", "/v1/campaigns", { headers: bearer(await token({ roles: ["Shop.Reader"] })) })).status).to.equal(200);
      expect((await c.call("GET", "/v1/campaigns", { headers: bearer(await token({ roles: ["Coupons.Read"] })) })).status).to.equal(403);
    } finally {
      await stopServer(custom, { closeStore: false });
    }
  });

  it("When only tokens are configured, then a token works and an API key is refused with 401", async () => {
    const env = entraEnv(issuer.authority);
    delete (env as Record<string, string | undefined>).COUPONS_API_KEYS;
    const config = loadConfig(env);
    expect(config.apiKeys).to.deep.equal([]);
    const only = await startServer({ store, config });
    try {
      const c = await ApiClient.connect(only.url);
      const k = await c.get("/v1/campaigns", KEYS.reader);
      expect(k.status, k.text).to.equal(401);
      expect(k.body.title).to.match(/API keys are not accepted/);
      expect(k.headers.get("www-authenticate")).to.equal("Bearer");
      expect((await c.call("GET", "/v1/campaigns", { headers: bearer(await token({ roles: ["Coupons.Read"] })) })).status).to.equal(200);
    } finally {
      await stopServer(only, { closeStore: false });
    }
  });

  it("When the tenant's keys cannot be fetched, then a token answers 503 UNAVAILABLE with Retry-After, not 401", async () => {
    // a port that was just free: nothing listens there
    const gone = createServer();
    gone.listen(0, "127.0.0.1");
    await once(gone, "listening");
    const { port } = gone.address() as AddressInfo;
    await new Promise<void>((r) => gone.close(() => r()));
    const away = await startServer({ store, config: loadConfig(entraEnv(`http://127.0.0.1:${port}`)) });
    try {
      const c = await ApiClient.connect(away.url);
      const t = await token({ iss: `http://127.0.0.1:${port}/${TENANT}/v2.0`, roles: ["Coupons.Read"] });
      const r = await c.call("GET", "/v1/campaigns", { headers: bearer(t) });
      expect(r.status, r.text).to.equal(503);
      expect(r.headers.get("retry-after")).to.equal("5");
    } finally {
      await stopServer(away, { closeStore: false });
    }
  });

  it("When many requests carry tokens, then each server fetches the tenant's key set once (it is cached)", () => {
    // three servers used this issuer (the main one, custom roles, tokens only) for more than 15 tokens;
    // the impostor's token names a published kid, so it does not cause a refetch either
    expect(issuer.fetches).to.equal(3);
  });
});

describe("Entra ID configuration", () => {
  const env = (extra: Record<string, string>, withKeys = true) => {
    const e: Record<string, string | undefined> = testEnv(extra);
    if (!withKeys) delete e.COUPONS_API_KEYS;
    return e;
  };

  it("When neither API keys nor Entra ID are configured, then the API refuses to start naming both ways in", () => {
    expect(() => loadConfig(env({}, false)))
      .to.throw(ConfigError, /^COUPONS_API_KEYS is required/)
      .with.property("message")
      .that.contains("COUPONS_API_ENTRA_TENANT_ID");
  });

  it("When Entra ID settings are incomplete or unsafe, then loading names the variable at fault", () => {
    expect(() => loadConfig(env({ COUPONS_API_ENTRA_TENANT_ID: TENANT }, false))).to.throw(ConfigError, /^COUPONS_API_ENTRA_AUDIENCE /);
    expect(() => loadConfig(env({ COUPONS_API_ENTRA_AUDIENCE: API_CLIENT_ID }))).to.throw(ConfigError, /^COUPONS_API_ENTRA_TENANT_ID /);
    expect(() => loadConfig(env({ COUPONS_API_ENTRA_TENANT_ID: "contoso.com", COUPONS_API_ENTRA_AUDIENCE: API_CLIENT_ID }))).to.throw(
      ConfigError,
      /^COUPONS_API_ENTRA_TENANT_ID .*GUID/,
    );
    const both = { COUPONS_API_ENTRA_TENANT_ID: TENANT, COUPONS_API_ENTRA_AUDIENCE: API_CLIENT_ID };
    expect(() => loadConfig(env({ ...both, COUPONS_API_ENTRA_AUTHORITY: "http://login.example.com" }))).to.throw(
      ConfigError,
      /^COUPONS_API_ENTRA_AUTHORITY must be https/,
    );
    expect(() => loadConfig(env({ ...both, COUPONS_API_ENTRA_ROLES: '{"Coupons.Redeem":["root"]}' }))).to.throw(
      ConfigError,
      /^COUPONS_API_ENTRA_ROLES /,
    );
    expect(() => loadConfig(env({ COUPONS_API_ENTRA_ROLES: '{"A":["read"]}' }))).to.throw(ConfigError, /^COUPONS_API_ENTRA_ROLES is set/);
  });

  it("When only the tenant and audience are given, then the defaults are Entra's public cloud and the Coupons.* roles", () => {
    const c = loadConfig(
      env({ COUPONS_API_ENTRA_TENANT_ID: TENANT.toUpperCase(), COUPONS_API_ENTRA_AUDIENCE: ` ${API_CLIENT_ID} , ${APP_ID_URI}` }, false),
    );
    expect(c.entra).to.deep.include({
      tenantId: TENANT,
      audiences: [API_CLIENT_ID, APP_ID_URI],
      authority: "https://login.microsoftonline.com",
      issuers: null,
      roles: { "Coupons.Redeem": ["redeem"], "Coupons.Read": ["read"], "Coupons.Admin": ["admin"] },
    });
  });
});
