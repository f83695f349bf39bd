// Test support for the redeem API: keys and configuration, seeding coupons through the store, and the
// one HTTP client of the tests, which checks every response against the OpenAPI document served.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { type ApiConfig, loadConfig } from "../src/config.ts";
import { hashKey } from "../src/auth.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const KEYS = {
  shop: "shop-key-0123456789abcdef",
  reader: "reader-key-0123456789abcdef",
  admin: "admin-key-0123456789abcdef",
  other: "other-shop-key-0123456789abcdef",
} as const;

export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    COUPONS_API_PORT: "0",
    COUPONS_API_HOST: "127.0.0.1",
    COUPONS_LOG_LEVEL: "silent",
    COUPONS_REDIS_PREFIX: `test:${randomBytes(4).toString("hex")}`,
    COUPONS_API_KEYS: JSON.stringify([
      { id: "shop", sha256: hashKey(KEYS.shop), scopes: ["redeem"] },
      { id: "reader", sha256: hashKey(KEYS.reader), scopes: ["read"] },
      { id: "admin", sha256: hashKey(KEYS.admin), scopes: ["admin", "read", "redeem"] },
      { id: "other", sha256: hashKey(KEYS.other), scopes: ["redeem", "read"] },
    ]),
    ...extra,
  };
}

export function testConfig(extra: Record<string, string> = {}): ApiConfig {
  return loadConfig(testEnv(extra));
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`.toUpperCase();

const DAY = 86_400_000;

/** A campaign (active unless said otherwise) with the given codes, made through the store as the generator would. */
export async function seedCampaign(
  store: CouponStore,
  opts: {
    codes: string[];
    campaignId?: string;
    isActive?: boolean;
    startDate?: Date;
    maxRedemptionsPerUser?: number | null;
    maxTotalRedemptions?: number | null;
    expirationDate?: Date | null;
    discountPercentage?: number;
    /** The generation request's code prefix, as generated codes have (the API's admission reads it). */
    prefix?: string;
  },
): Promise<string> {
  const campaignId = opts.campaignId ?? unique("camp");
  await store.createCampaign({
    campaignId,
    name: `test ${campaignId}`,
    startDate: opts.startDate ?? new Date(Date.now() - DAY),
    endDate: new Date(Date.now() + 30 * DAY),
    discountPercentage: opts.discountPercentage ?? 10,
    maxRedemptionsPerUser: opts.maxRedemptionsPerUser ?? null,
    maxTotalRedemptions: opts.maxTotalRedemptions ?? null,
    isActive: opts.isActive ?? true,
  });
  if (opts.codes.length > 0) await addCoupons(store, campaignId, opts.codes, opts.expirationDate ?? null, opts.prefix);
  return campaignId;
}

export async function addCoupons(
  store: CouponStore,
  campaignId: string,
  codes: string[],
  expirationDate: Date | null = null,
  prefix?: string,
) {
  const req = await store.createGenerationRequest({
    campaignId,
    requestedAmount: codes.length,
    expirationDate,
    ...(prefix === undefined ? {} : { prefix }),
  });
  const claim = await store.claimGenerationRequest(req.requestId, "test-seeder");
  try {
    for (let i = 0; i < codes.length; i += 5000) {
      const r = await store.bulkInsertCoupons(req.requestId, codes.slice(i, i + 5000));
      if (r.existing.length > 0) throw new Error(`seed codes exist already: ${r.existing.slice(0, 3).join(", ")}`);
    }
    await store.updateGenerationRequest(req.requestId, "Generated");
  } finally {
    await claim.release();
  }
}

// ---------------------------------------------------------------------------------------------
// The one HTTP client of the tests: every response is checked against the document the server serves

type Header = { required?: boolean; schema?: object };
type Media = { schema?: object };
type Operation = { operationId: string; responses: Record<string, { content?: Record<string, Media>; headers?: Record<string, Header> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

/** Stack frames, driver and SQL text: never in an answer (fuzzed input echoed back may hold SQL-ish words). */
export const LEAKS =
  /\bat .+\.(ts|js):\d+|node_modules|\bsp_[A-Z][A-Za-z]+\(|syntax error at|duplicate key value|violates [a-z ]*constraint|invalid input syntax|PL\/pgSQL|SQLSTATE|relation "/;

export class OpenApiChecker {
  readonly seen = new Map<string, Set<number>>();
  readonly document: Doc;
  #ajv = new Ajv2020({ strict: false, allErrors: true });
  #compiled = new WeakMap<object, ValidateFunction>();
  #routes: { method: string; re: RegExp; op: Operation }[] = [];
  #problem: object;

  private constructor(served: Doc, dereferenced: Doc) {
    this.document = served;
    this.#problem = dereferenced.components.schemas.Problem ?? {};
    this.#ajv.addFormat("date-time", {
      type: "string",
      validate: (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)),
    });
    for (const f of ["ipv4", "ipv6", "uri"]) this.#ajv.addFormat(f, true);
    for (const [path, item] of Object.entries(dereferenced.paths)) {
      const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      for (const [method, op] of Object.entries(item)) this.#routes.push({ method: method.toUpperCase(), re, op });
    }
  }

  /** The document the server at baseUrl serves, checked to be valid OpenAPI 3.1. */
  static async load(baseUrl: string): Promise<OpenApiChecker> {
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status, "GET /openapi.json").to.equal(200);
    const served = (await res.json()) as Doc;
    // validate() checks the document against the OpenAPI 3.1 schema (and resolves every $ref)
    await SwaggerParser.validate(structuredClone(served) as never);
    const dereferenced = (await SwaggerParser.dereference(structuredClone(served) as never)) as unknown as Doc;
    return new OpenApiChecker(served, dereferenced);
  }

  /** Fails when the response's status, content type, declared headers or body are not what the document says. */
  check(method: string, path: string, res: { status: number; headers: Headers; body: unknown }): void {
    const pathOnly = path.split("?")[0] ?? path;
    const contentType = res.headers.get("content-type") ?? "";
    const what = `${method} ${pathOnly.slice(0, 200)} ${res.status}`;
    const route = this.#routes.find((r) => r.re.test(pathOnly) && r.method === (method === "HEAD" ? "GET" : method));
    if (!route) {
      // unknown routes and wrong methods: problem details, not in the document by design
      expect([404, 405, 415, 413, 400, 431], `${method} ${path} is not documented`).to.include(res.status);
      expect(contentType, what).to.match(/^application\/problem\+json/);
      if (method !== "HEAD") this.#validate(this.#problem, res.body, what);
      return;
    }
    const documented = route.op.responses[String(res.status)];
    expect(documented, `${route.op.operationId}: status ${res.status} is not documented`).to.not.equal(undefined);
    const mediaType = contentType.split(";")[0]?.trim() ?? "";
    const media = documented?.content?.[mediaType];
    expect(media, `${route.op.operationId} ${res.status}: content type ${mediaType} is not documented`).to.not.equal(undefined);
    for (const [name, header] of Object.entries(documented?.headers ?? {})) {
      const value = res.headers.get(name);
      if (header.required) expect(value, `${route.op.operationId} ${res.status}: header ${name} is required`).to.not.equal(null);
      if (value !== null && header.schema) this.#validate(header.schema, value, `${route.op.operationId} ${res.status} header ${name}`);
    }
    if (method !== "HEAD" && media?.schema) this.#validate(media.schema, res.body, `${route.op.operationId} ${res.status}`);
    const set = this.seen.get(route.op.operationId) ?? new Set<number>();
    set.add(res.status);
    this.seen.set(route.op.operationId, set);
  }

  operationIds(): string[] {
    return this.#routes.map((r) => r.op.operationId);
  }

  #validate(schema: object, value: unknown, what: string): void {
    let validate = this.#compiled.get(schema);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(schema, validate);
    }
    expect(
      validate(value),
      `${what}: does not match the OpenAPI schema: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`,
    ).to.equal(true);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked against the OpenAPI schema, then read freely
export type ApiResponse = { status: number; headers: Headers; body: any; text: string };

export type CallOptions = {
  key?: string | null;
  body?: unknown;
  raw?: string | Uint8Array;
  /** null: send no Content-Type. */
  contentType?: string | null;
  headers?: Record<string, string>;
};

export class ApiClient {
  readonly baseUrl: string;
  readonly checker: OpenApiChecker;
  private constructor(baseUrl: string, checker: OpenApiChecker) {
    this.baseUrl = baseUrl;
    this.checker = checker;
  }

  /** A client of the server at baseUrl, checking every answer against the document that server serves. */
  static async connect(baseUrl: string): Promise<ApiClient> {
    return new ApiClient(baseUrl, await OpenApiChecker.load(baseUrl));
  }

  async call(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers["x-api-key"] = opts.key;
    let body: string | Uint8Array | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && opts.contentType !== null) headers["content-type"] = opts.contentType ?? "application/json";
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    const what = `${method} ${path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
    const parsed = /json/.test(type) && text ? JSON.parse(text) : text;
    if (res.status >= 400) {
      expect(type, what).to.match(/^application\/problem\+json/);
      if (method !== "HEAD") {
        expect(parsed.status, what).to.equal(res.status);
        expect(parsed.type, what).to.equal(`urn:coupons:problem:${String(parsed.code).toLowerCase().replaceAll("_", "-")}`);
      }
      expect(text, `${what}: leaks internals`).to.not.match(LEAKS);
    }
    this.checker.check(method, path, { status: res.status, headers: res.headers, body: parsed });
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(path: string, key: string | null = KEYS.admin) {
    return this.call("GET", path, { key });
  }
  post(path: string, body: unknown, key: string | null = KEYS.admin, headers: Record<string, string> = {}) {
    return this.call("POST", path, { key, body, headers });
  }
  put(path: string, body: unknown, key: string | null = KEYS.admin) {
    return this.call("PUT", path, { key, body });
  }
  delete(path: string, key: string | null = KEYS.admin) {
    return this.call("DELETE", path, { key });
  }
}

/** The store with some methods replaced (the rest bound to the real store: it has private fields). */
export function overrideStore(store: CouponStore, overrides: Partial<CouponStore>): CouponStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<string | symbol, unknown>)[prop];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Starts the API as a real process (args after node, env added to PATH) and waits for its
 *  "listening" log line; `output()` is everything it wrote to stdout so far. */
export async function startApiProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcessWithoutNullStreams; port: number; output(): string; errors(): string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in 60 s; stdout: ${out} stderr: ${err}`)), 60_000);
      child.stdout.on("data", (d) => {
        out += d;
        const m = /"port":(\d+)[^\n]*"msg":"redeem API listening"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${err}`)));
    });
    return { child, port, output: () => out, errors: () => err };
  } catch (e) {
    if (child.exitCode === null) child.kill("SIGKILL");
    throw e;
  }
}
