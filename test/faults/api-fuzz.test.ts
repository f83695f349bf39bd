// (Over 350 lines on purpose: one fuzz suite per endpoint, sharing the generators at the top.)
// Bad input to every endpoint of the API, generated with fast-check: wrong types, huge strings,
// unicode, control characters, SQL metacharacters, negative and huge numbers, missing and extra
// fields, bad dates, wrong content types, malformed paths and headers. No answer is a 5xx, every
// refusal is an RFC 9457 problem document the OpenAPI document allows, and the database changes only
// where the contract says so (a refused redemption is logged; an accepted creation creates).
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import { KEYS, addCoupons, seedCampaign, unique } from "../../apps/redeem-api/test/helpers.ts";
import { REFUSAL_CODES } from "@coupons/db";
import { describePostgres } from "../../packages/db/test/support.ts";
import { type ApiHarness, type Snapshot, changedTables, figures, snapshot, startApi } from "./support.ts";

const DAY = 86_400_000;
const RUNS = Number(process.env.FAULTS_FUZZ_RUNS || 200);

// ---------------------------------------------------------------------------------------------
// hostile values

const SQLISH = [
  "'; DROP TABLE Coupons; --",
  "' OR '1'='1",
  "1; SELECT pg_sleep(5)",
  "\\'; --",
  "%",
  "_%_",
  "$1",
  "E'\\\\x00'",
  "'); TRUNCATE RedemptionHistory; --",
  '" OR ""="',
  "*/ /*",
  `$${"{"}7*7}`, // a template-injection probe
  "{{7*7}}",
  "../../etc/passwd",
  "<script>alert(1)</script>",
];
const WEIRD = [
  "",
  " ",
  "\t",
  "\u0000",
  "A\u0000B",
  "\u001b[31mred",
  "line\r\nbreak",
  "\u007f",
  "\u0085",
  "\u200b",
  "\u202e reversed",
  "\ufeff",
  "\ud800",
  "\udfff",
  "💥🎟️",
  "Ünïcödé ß ǅ",
  "ＡＢＣ",
  "ǰ",
  "İ",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "A".repeat(51),
  "A".repeat(101),
  "x".repeat(20_000),
  "é".repeat(60),
];

const hostileString = fc.oneof(
  fc.constantFrom(...SQLISH, ...WEIRD),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 120 }),
  fc.string({ unit: "binary-ascii", minLength: 90, maxLength: 600 }),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, 1.005, 0.29, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 100.001, 1e8),
  fc.integer(),
  fc.double(),
);
const hostileDate = fc.constantFrom(
  "2026-13-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "1899-12-31T23:59:59Z",
  "9999-12-31T23:59:59-14:00",
  "10000-01-01T00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "2026-01-01",
  "2026-01-01T00:00:00",
  "2026-01-01T25:61:61Z",
  "yesterday",
  "1700000000000",
  "2026-01-01T00:00:00.123456789Z",
  "2026-01-01T00:00:00+99:99",
);
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, [1, 2], { $gt: "" }, { __proto__: { admin: true } }),
  fc.jsonValue({ maxDepth: 3 }),
);
const hostile = fc.oneof(hostileString, hostileNumber, hostileDate, anyJson);

type Body = Record<string, unknown>;
/** A valid body with 1-3 fields replaced by hostile values, removed, or extra fields added. */
function mutated(valid: () => Body, fields: string[]): fc.Arbitrary<Body> {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), field: fc.constantFrom(...fields), value: hostile }),
    fc.record({ kind: fc.constant("drop" as const), field: fc.constantFrom(...fields), value: fc.constant(null) }),
    fc.record({
      kind: fc.constant("extra" as const),
      field: fc.oneof(fc.constantFrom("__proto__", "constructor", "isRedeemed", "campaignId", "admin"), fc.string({ maxLength: 20 })),
      value: hostile,
    }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    const b = valid();
    for (const m of ms) {
      if (m.kind === "drop") delete b[m.field];
      else if (m.kind === "extra" && !(m.field in b))
        Object.defineProperty(b, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
      else b[m.field] = m.value;
    }
    return b;
  });
}

/** A path segment from any string; strings that cannot be percent-encoded (lone surrogates) go as raw junk. */
function segment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
}
const hostileSegment = fc.oneof(
  hostileString.filter((s) => s.length > 0).map(segment),
  fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "%2F", "%20", "..", "%2e%2e", "a%0Ab", "%C0%AF", "x".repeat(3000)),
);

/** What fetch lets through in a header value: latin-1, no control characters but tab. */
const headerSafe = (s: string) =>
  Array.from(s, (ch) => {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return "";
    return c > 0xff ? "?" : ch;
  }).join("");
const idemKey = fc.option(
  fc.oneof(fc.string({ unit: "binary-ascii", maxLength: 200 }).map(headerSafe), fc.constantFrom("", " ", "k".repeat(129), "ok-key", "é")),
  { nil: undefined },
);

// ---------------------------------------------------------------------------------------------

type Sent = { method: string; path: string; status: number; body: unknown; contentType: string; replayed: boolean; keyed: boolean };

describePostgres("faults: fuzzed requests to every endpoint", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let inactiveCodes: string[];
  let redeemedCode: string;
  let liveCampaign: string;

  before(async () => {
    h = await startApi({
      COUPONS_THROTTLE_USER_FAILURES: "1000000",
      COUPONS_THROTTLE_IP_FAILURES: "1000000",
      COUPONS_THROTTLE_CLIENT_FAILURES: "100000000",
    });
    // coupons no fuzzed request can redeem: an inactive campaign's, and one redeemed already
    inactiveCodes = Array.from({ length: 5 }, (_, i) => `FZ${randomBytes(3).toString("hex").toUpperCase()}I${i}`);
    await seedCampaign(h.store, { codes: inactiveCodes, isActive: false });
    redeemedCode = `FZ${randomBytes(3).toString("hex").toUpperCase()}R`;
    liveCampaign = await seedCampaign(h.store, { codes: [redeemedCode], maxRedemptionsPerUser: 1 });
    const r = await h.store.redeemCoupon({ code: redeemedCode, userId: "first", ipAddress: null, userAgent: null });
    expect(r.ok).to.equal(true);
    await addCoupons(h.store, liveCampaign, [`FZ${randomBytes(3).toString("hex").toUpperCase()}A`]);
  });
  after(async () => {
    await h?.close();
  });

  /** Sends one request as given (raw bytes, any content type) through the checking client, which
   *  requires every refusal to be a problem document without internals that the served document
   *  allows; here no answer may be a 5xx either. */
  async function send(
    method: string,
    path: string,
    opts: {
      key?: string | null;
      json?: unknown;
      raw?: string | Uint8Array;
      contentType?: string | null;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Sent> {
    figures.fuzzedRequests++;
    const res = await h.api.call(method, path, {
      key: opts.key === null ? null : (opts.key ?? KEYS.admin),
      body: opts.json,
      raw: opts.json === undefined ? opts.raw : undefined,
      contentType: opts.contentType,
      headers: opts.headers,
    });
    const what = `${method} ${path.slice(0, 200)} ${JSON.stringify(opts.json ?? String(opts.raw ?? "")).slice(0, 300)} -> ${res.status} ${res.text.slice(0, 300)}`;
    if (res.status >= 500) figures.serverErrors++;
    expect(res.status, what).to.be.below(500);
    return {
      method,
      path,
      status: res.status,
      body: res.body,
      contentType: res.headers.get("content-type") ?? "",
      replayed: res.headers.get("idempotent-replayed") === "true",
      keyed: opts.headers?.["idempotency-key"] !== undefined,
    };
  }

  /** Runs a bounded property and checks that the database changed only as `allowed` says. */
  async function fuzz<T>(
    arb: fc.Arbitrary<T>,
    act: (v: T) => Promise<Sent>,
    allowed: (sent: Sent[]) => Partial<Record<string, number>>,
    runs = RUNS,
  ): Promise<Sent[]> {
    const before: Snapshot = await snapshot(h.db.url);
    const sent: Sent[] = [];
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        sent.push(await act(v));
      }),
      { numRuns: runs, interruptAfterTimeLimit: 20_000, endOnFailure: true },
    );
    const after = await snapshot(h.db.url);
    const deltas = allowed(sent);
    const unexpected = changedTables(before, after);
    for (const [table, delta] of Object.entries(deltas)) {
      expect((after[table]?.rows ?? 0) - (before[table]?.rows ?? 0), `${table} rows added`).to.equal(delta);
      delete unexpected[table];
    }
    expect(unexpected, "tables changed that no request may change").to.deep.equal({});
    return sent;
  }

  const storeReached = (s: Sent) => (REFUSAL_CODES as readonly string[]).includes((s.body as { code?: string })?.code ?? "");
  const codeChoice = () =>
    fc.oneof(
      fc.constantFrom(...inactiveCodes, redeemedCode, redeemedCode.toLowerCase(), ` ${redeemedCode} `),
      hostileString,
      hostileNumber,
      anyJson,
    );

  it("When POST /v1/redemptions gets hostile bodies and idempotency keys, then no 5xx, and only refused attempts are logged", async () => {
    const arb = fc.record({
      body: fc.oneof(
        mutated(() => ({ code: redeemedCode, userId: "fuzz-user" }), ["code", "userId", "ipAddress", "userAgent"]),
        fc.record(
          {
            code: codeChoice(),
            userId: fc.oneof(hostileString, fc.constant("u1")),
            ipAddress: fc.oneof(hostileString, fc.ipV4(), fc.ipV6()),
            userAgent: hostileString,
          },
          { requiredKeys: ["code", "userId"] },
        ),
      ),
      key: idemKey,
    });
    const sent = await fuzz(
      arb,
      ({ body, key }) =>
        send("POST", "/v1/redemptions", { key: KEYS.shop, json: body, headers: key === undefined ? {} : { "idempotency-key": key } }),
      (s) => {
        const logged = s.filter((x) => storeReached(x) && !x.replayed);
        return { RedemptionHistory: logged.length, IdempotencyKeys: logged.filter((x) => x.keyed).length };
      },
      RUNS * 2,
    );
    expect(sent.some((s) => s.status === 400)).to.equal(true);
    expect(sent.some(storeReached), "some attempts reach the store").to.equal(true);
    expect(
      sent.every((s) => s.status !== 200),
      "nothing here is redeemable",
    ).to.equal(true);
  });

  it("When POST /v1/validations gets hostile bodies, then no 5xx and nothing changes", async () => {
    const arb = fc.oneof(
      mutated(() => ({ code: redeemedCode, userId: "fuzz-user" }), ["code", "userId", "ipAddress"]),
      fc.record({ code: codeChoice(), userId: hostileString }),
    );
    await fuzz(
      arb,
      (body) => send("POST", "/v1/validations", { key: KEYS.shop, json: body }),
      () => ({}),
    );
  });

  it("When the coupon and assignment endpoints get hostile codes and bodies, then no 5xx and nothing changes", async () => {
    const arb = fc.record({
      code: fc.oneof(hostileSegment, fc.constantFrom(redeemedCode, "NOPE")),
      op: fc.constantFrom("GET", "PUT", "DELETE", "HEAD"),
      body: fc.oneof(
        mutated(() => ({ userId: "fuzz-user" }), ["userId"]),
        anyJson,
      ),
    });
    await fuzz(
      arb,
      ({ code, op, body }) =>
        op === "GET" || op === "HEAD"
          ? send(op, `/v1/coupons/${code}`, { key: KEYS.reader })
          : send(op, `/v1/coupons/${code}/assignment`, { json: op === "PUT" ? body : undefined }),
      () => ({}),
    );
  });

  it("When POST /v1/campaigns gets hostile bodies, then no 5xx, and only the ones accepted create a campaign (and read back the same)", async () => {
    const valid = () => ({
      campaignId: unique("fz"),
      name: "Fuzz campaign",
      description: "made by the fault suite",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + DAY).toISOString(),
      discountPercentage: 10,
      maxRedemptionsPerUser: 1,
      maxTotalRedemptions: 100,
      isActive: true,
    });
    const fields = Object.keys(valid()).concat("discountAmount");
    const sent = await fuzz(
      mutated(valid, fields),
      (body) => send("POST", "/v1/campaigns", { json: body }),
      (s) => {
        const created = s.filter((x) => x.status === 201).length;
        return { Campaigns: created, CampaignCounterSlots: created * 16 };
      },
    );
    for (const s of sent.filter((x) => x.status === 201)) {
      const c = s.body as { campaignId: string; name: string; description: string | null };
      const back = await send("GET", `/v1/campaigns/${segment(c.campaignId)}`, { key: KEYS.reader });
      expect(back.status).to.equal(200);
      expect(back.body).to.include({ campaignId: c.campaignId, name: c.name, description: c.description });
    }
  });

  it("When POST /v1/generation-requests gets hostile bodies, then no 5xx, and only the ones accepted create a request", async () => {
    const valid = () => ({ campaignId: liveCampaign, requestedAmount: 10, prefix: "FZ", codeLength: 8, expirationDate: null });
    await fuzz(
      mutated(valid, [...Object.keys(valid()), "requestId"]),
      (body) => send("POST", "/v1/generation-requests", { json: body }),
      (s) => ({ GenerationRequests: s.filter((x) => x.status === 201).length }),
    );
  });

  it("When the read endpoints get hostile path segments and query strings, then no 5xx and nothing changes", async () => {
    const arb = fc.record({
      seg: fc.oneof(hostileSegment, fc.constant(liveCampaign)),
      query: fc.oneof(
        fc.constant(""),
        hostileString.map((s) => `?${segment(s)}=${segment(s)}&x[]=1&x[a]=2`),
      ),
      which: fc.constantFrom("campaign", "stats", "request", "list", "health", "ready", "metrics", "openapi"),
    });
    await fuzz(
      arb,
      ({ seg, query, which }) => {
        const path = {
          campaign: `/v1/campaigns/${seg}`,
          stats: `/v1/campaigns/${seg}/stats`,
          request: `/v1/generation-requests/${seg}`,
          list: "/v1/campaigns",
          health: "/healthz",
          ready: "/readyz",
          metrics: "/metrics",
          openapi: "/openapi.json",
        }[which];
        return send("GET", `${path}${query}`, { key: KEYS.admin });
      },
      () => ({}),
    );
  });

  it("When bodies come with wrong content types, encodings, sizes and malformed JSON, then each is a 4xx problem and nothing changes", async () => {
    const targets = [
      ["POST", "/v1/redemptions", KEYS.shop],
      ["POST", "/v1/validations", KEYS.shop],
      ["POST", "/v1/campaigns", KEYS.admin],
      ["POST", "/v1/generation-requests", KEYS.admin],
      ["PUT", `/v1/coupons/${redeemedCode}/assignment`, KEYS.admin],
    ] as const;
    const contentType = fc.constantFrom(
      null,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/xml",
      "application/json; charset=utf-16",
      "application/json; charset=latin1",
      "application/json; charset=nonsense",
      "application/merge-patch+json",
      "application/json",
      "application/jsonx",
      "*/*",
      "",
    );
    const validish = JSON.stringify({ code: redeemedCode, userId: "ct-user" });
    const raw = fc.oneof(
      fc.constantFrom(
        validish,
        `\ufeff${validish}`,
        "{",
        "}",
        '{"code":',
        "[]",
        "null",
        "0",
        '"str"',
        "code=A&userId=B",
        "<xml/>",
        '{"code":"A","code":"B","userId":"u"}',
        '{"__proto__":{"isAdmin":true},"code":"A","userId":"u"}',
        `{"code":"${"A".repeat(20_000)}","userId":"u"}`,
        `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`,
        "\u0000\u0001\u0002",
      ),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }),
    );
    const arb = fc.record({ target: fc.constantFrom(...targets), contentType, raw, gzip: fc.boolean() });
    await fuzz(
      arb,
      ({ target: [method, path, key], contentType: ct, raw: r, gzip }) =>
        send(method, path, { key, raw: r, contentType: ct, headers: gzip ? { "content-encoding": "gzip" } : {} }),
      (s) => {
        // a well-formed redemption of the redeemed coupon is refused by the store, and logged
        const logged = s.filter((x) => storeReached(x) && x.path === "/v1/redemptions");
        return { RedemptionHistory: logged.length };
      },
      RUNS * 2,
    );
  });

  it("When unknown routes and methods are called with hostile paths, then each is a 404/405 problem", async () => {
    const arb = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
      path: fc.oneof(
        hostileSegment.map((s) => `/${s}`),
        hostileSegment.map((s) => `/v1/${s}/x`),
        fc.constantFrom("/v1", "/v2/redemptions", "/v1/redemptions/1", "/V1/REDEMPTIONS", "/v1//campaigns", "/metrics/x"),
      ),
    });
    await fuzz(
      arb,
      ({ method, path }) => send(method, path, { key: KEYS.admin }),
      () => ({}),
    );
  });
  it("When the URL or the headers pass the server's 16 KB, or the request line is not HTTP, then the answer is still a problem document", async () => {
    const long = await send("GET", `/v1/campaigns/${"x".repeat(20_000)}`, { key: KEYS.reader });
    expect(long.status).to.equal(431);
    expect(long.body).to.include({ code: "HEADERS_TOO_LARGE", status: 431 });
    const fat = await send("GET", "/healthz", { key: null, headers: { "x-padding": "p".repeat(20_000) } });
    expect(fat.status).to.equal(431);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.running.port, "127.0.0.1", () => socket.write("GARBAGE /\u0001 HTTP/9.9\r\n\r\n"));
      let data = "";
      socket.on("data", (d) => {
        data += d;
      });
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
      socket.setTimeout(5000, () => socket.destroy(new Error("no answer")));
    });
    figures.fuzzedRequests++;
    expect(raw).to.match(/^HTTP\/1\.1 400 /);
    expect(raw).to.match(/content-type: application\/problem\+json/i);
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).to.include({ status: 400, code: "BAD_REQUEST" });
  });
  // Found while fuzzing numbers: "at most 2 decimals" was checked float-exact, which is false for most
  // 2-decimal values in binary floating point (19.99 * 100 = 1998.9999999999998); both the API and the
  // store now use hasAtMostTwoDecimals from @coupons/db.
  it("When a campaign is created with a 2-decimal discount such as 19.99 or 0.29, then it is accepted, and 0.295 is refused", async () => {
    for (const [field, value] of [
      ["discountPercentage", 19.99],
      ["discountAmount", 0.29],
    ] as const) {
      const r = await send("POST", "/v1/campaigns", {
        json: {
          campaignId: unique("dec"),
          name: "decimals",
          startDate: new Date(Date.now() - DAY).toISOString(),
          endDate: new Date(Date.now() + DAY).toISOString(),
          [field]: value,
        },
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      expect((r.body as Record<string, unknown>)[field]).to.equal(value);
    }
    const third = await send("POST", "/v1/campaigns", {
      json: {
        campaignId: unique("dec"),
        name: "three decimals",
        startDate: new Date(Date.now() - DAY).toISOString(),
        endDate: new Date(Date.now() + DAY).toISOString(),
        discountAmount: 0.295,
      },
    });
    expect(third.status, JSON.stringify(third.body)).to.equal(400);
    expect(JSON.stringify(third.body)).to.include("discountAmount");
  });
});
