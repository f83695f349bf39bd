// Auth: every route of the OpenAPI document the server serves, with no key, with bad keys and with each
// scope alone. Only health, readiness and the documentation answer without a valid key; each scope
// reaches exactly the operations whose security names it; a refused call writes nothing, even when
// its body would have been accepted.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hashKey } from "../../apps/redeem-api/src/auth.ts";
import { seedCampaign } from "../../apps/redeem-api/test/helpers.ts";
import { describePostgres } from "../../packages/db/test/support.ts";
import { type ApiHarness, changedTables, figures, snapshot, startApi } from "./support.ts";

const SCOPE_KEYS = {
  redeem: "only-redeem-0123456789abcdef",
  read: "only-read-0123456789abcdef",
  admin: "only-admin-0123456789abcdef",
} as const;
type Scope = keyof typeof SCOPE_KEYS;

type Route = { method: string; path: string; operationId: string; scopes: Scope[] | "public" | "any-key" };

/** Every operation of the served document with the scopes its security names. */
function routes(document: object): Route[] {
  const doc = document as {
    security?: { apiKey: string[] }[];
    paths: Record<string, Record<string, { operationId: string; security?: { apiKey?: string[] }[] }>>;
  };
  const out: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const security = op.security ?? doc.security ?? [];
      const scopes = security.flatMap((s) => s.apiKey ?? []) as Scope[];
      out.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        scopes: security.length === 0 ? "public" : scopes.length === 0 ? "any-key" : scopes,
      });
    }
  }
  return out;
}

describePostgres("faults: authentication and scopes on every route of the OpenAPI document", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  let code: string;
  let campaignId: string;
  let all: Route[];

  before(async () => {
    h = await startApi({
      COUPONS_API_KEYS: JSON.stringify(
        (Object.keys(SCOPE_KEYS) as Scope[]).map((s) => ({ id: `only-${s}`, sha256: hashKey(SCOPE_KEYS[s]), scopes: [s] })),
      ),
    });
    code = `AUTH${randomBytes(4).toString("hex").toUpperCase()}`;
    campaignId = await seedCampaign(h.store, { codes: [code] });
    all = routes(h.api.checker.document);
  });
  after(async () => {
    await h?.close();
  });

  /** A request that would be carried out if the key were let through (so a leak would write). */
  function concrete(r: Route): { path: string; body?: unknown } {
    const path = r.path.replace("{code}", code).replace("{campaignId}", campaignId).replace("{requestId}", "no-such-request");
    const bodies: Record<string, unknown> = {
      redeemCoupon: { code, userId: "intruder" },
      validateCoupon: { code, userId: "intruder" },
      assignCoupon: { userId: "intruder" },
      createCampaign: {
        campaignId: `intruder-${randomBytes(3).toString("hex")}`,
        name: "n",
        startDate: "2020-01-01T00:00:00Z",
        endDate: "2040-01-01T00:00:00Z",
        discountPercentage: 5,
      },
      createGenerationRequest: { campaignId, requestedAmount: 5 },
    };
    return { path, body: bodies[r.operationId] };
  }

  async function call(r: Route, key: string | null, method = r.method) {
    const { path, body } = concrete(r);
    figures.fuzzedRequests++;
    const res = await h.api.call(method, path, { key, body: method === "GET" || method === "HEAD" ? undefined : body });
    if (res.status >= 500) figures.serverErrors++;
    return res;
  }

  it("When the document is read, then it lists every route the app serves, and only health, readiness and the documentation are public", () => {
    expect(all.length).to.be.at.least(16);
    expect(all.filter((r) => r.scopes === "public").map((r) => r.operationId)).to.have.members([
      "health",
      "ready",
      "getOpenApiDocument",
      "getDocs",
    ]);
  });

  it("When any route but health is called without a key or with a bad key, then it answers 401 and nothing changes", async () => {
    const before = await snapshot(h.db.url);
    const badKeys = [
      "",
      "not-a-key",
      SCOPE_KEYS.admin.toUpperCase(),
      `${SCOPE_KEYS.admin}x`, // (surrounding spaces are not part of a header value in HTTP: not a bad key)
      SCOPE_KEYS.admin.slice(0, -1),
      hashKey(SCOPE_KEYS.admin), // the stored hash is not the key
      "x".repeat(4000),
    ];
    for (const r of all) {
      for (const method of r.method === "GET" ? ["GET", "HEAD"] : [r.method]) {
        const none = await call(r, null, method);
        if (r.scopes === "public") {
          expect(none.status, `${method} ${r.path}`).to.equal(200);
          continue;
        }
        expect(none.status, `${method} ${r.path} without a key`).to.equal(401);
        if (method !== "HEAD") expect(none.body.code).to.equal("UNAUTHENTICATED");
        for (const bad of badKeys) {
          // an empty header is the same as none; the rest are unknown keys
          const res = await h.api.call(method, concrete(r).path, {
            headers: { "x-api-key": bad },
            body: method === "GET" || method === "HEAD" ? undefined : concrete(r).body,
          });
          figures.fuzzedRequests++;
          expect(res.status, `${method} ${r.path} with key ${JSON.stringify(bad.slice(0, 20))}`).to.equal(401);
        }
      }
    }
    expect(changedTables(before, await snapshot(h.db.url)), "written by unauthenticated calls").to.deep.equal({});
  });

  it("When each scope alone calls every route, then it is let in exactly where the document names it, and refusals write nothing", async () => {
    const before = await snapshot(h.db.url);
    const matrix: string[] = [];
    for (const scope of Object.keys(SCOPE_KEYS) as Scope[]) {
      for (const r of all) {
        if (r.scopes === "public") continue;
        const allowed = r.scopes === "any-key" || r.scopes.includes(scope);
        if (allowed) continue; // the allowed calls would write: checked below, after the snapshot
        const res = await call(r, SCOPE_KEYS[scope]);
        matrix.push(`${scope} ${r.method} ${r.path}: ${res.status}`);
        expect(res.status, `${scope} must not reach ${r.method} ${r.path}`).to.equal(403);
        expect(res.body.code).to.equal("FORBIDDEN");
      }
    }
    expect(changedTables(before, await snapshot(h.db.url)), `written by forbidden calls:\n${matrix.join("\n")}`).to.deep.equal({});
    for (const scope of Object.keys(SCOPE_KEYS) as Scope[]) {
      for (const r of all) {
        if (r.scopes === "public" || !(r.scopes === "any-key" || r.scopes.includes(scope))) continue;
        const res = await call(r, SCOPE_KEYS[scope]);
        expect(res.status, `${scope} must reach ${r.method} ${r.path}`).to.not.be.oneOf([401, 403]);
      }
    }
  });

  it("When methods the document does not list are sent to its paths without a key, then nothing but a refusal comes back", async () => {
    for (const r of all) {
      for (const method of ["PATCH", "PUT", "DELETE", "POST"]) {
        if (all.some((x) => x.path === r.path && x.method === method)) continue;
        const res = await call(r, null, method);
        expect(res.status, `${method} ${r.path}`).to.be.oneOf([401, 404, 405]);
      }
    }
  });
});
