// Test support for the redeem API: keys and configuration, seeding coupons through the store, and an
// HTTP client that checks every response against the OpenAPI document.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { type ApiConfig, loadConfig } from "../src/config.ts";
import { hashKey } from "../src/auth.ts";
import { openApiDocument } from "../src/openapi.ts";

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
  if (opts.codes.length > 0) await addCoupons(store, campaignId, opts.codes, opts.expirationDate ?? null);
  return campaignId;
}

export async function addCoupons(store: CouponStore, campaignId: string, codes: string[], expirationDate: Date | null = null) {
  const req = await store.createGenerationRequest({ campaignId, requestedAmount: codes.length, expirationDate });
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
// OpenAPI conformance of real responses

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { schema?: object }> }> };
type Doc = { paths: Record<string, Record<string, Operation>> };

export class OpenApiChecker {
  readonly seen = new Map<string, Set<number>>();
  #doc: Doc | undefined;
  #ajv = new Ajv2020({ strict: false, allErrors: true });
  #routes: { method: string; re: RegExp; op: Operation }[] = [];

  async init(): Promise<void> {
    // validate() checks the document against the OpenAPI 3.1 schema; it also dereferences
    await SwaggerParser.validate(structuredClone(openApiDocument) as never);
    this.#doc = (await SwaggerParser.dereference(structuredClone(openApiDocument) as never)) as unknown as Doc;
    this.#ajv.addFormat("date-time", {
      type: "string",
      validate: (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)),
    });
    this.#ajv.addFormat("uri", { type: "string", validate: (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s) });
    for (const [path, item] of Object.entries(this.#doc.paths)) {
      const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      for (const [method, op] of Object.entries(item)) this.#routes.push({ method: method.toUpperCase(), re, op });
    }
  }

  /** Fails when the response's status, content type or body is not what the document says. */
  check(method: string, path: string, status: number, contentType: string, body: unknown): void {
    const pathOnly = path.split("?")[0] ?? path;
    const route = this.#routes.find((r) => r.re.test(pathOnly) && r.method === (method === "HEAD" ? "GET" : method));
    if (!route) {
      // unknown routes and wrong methods: problem details, not in the document by design
      expect([404, 405, 415, 413, 400, 431], `${method} ${path} is not documented`).to.include(status);
      this.#validate(this.#problemSchema(), body, `${method} ${path} ${status}`);
      return;
    }
    const res = route.op.responses[String(status)];
    expect(res, `${route.op.operationId}: status ${status} is not documented`).to.not.equal(undefined);
    const mediaType = contentType.split(";")[0]?.trim() ?? "";
    const media = res?.content?.[mediaType];
    expect(media, `${route.op.operationId} ${status}: content type ${mediaType} is not documented`).to.not.equal(undefined);
    if (method !== "HEAD" && media?.schema) this.#validate(media.schema, body, `${route.op.operationId} ${status}`);
    const set = this.seen.get(route.op.operationId) ?? new Set<number>();
    set.add(status);
    this.seen.set(route.op.operationId, set);
  }

  operationIds(): string[] {
    return this.#routes.map((r) => r.op.operationId);
  }

  #problemSchema(): object {
    const op = this.#routes.find((r) => r.op.operationId === "getCampaign")?.op;
    return op?.responses["404"]?.content?.["application/problem+json"]?.schema ?? {};
  }

  #validate(schema: object, body: unknown, what: string): void {
    const ok = this.#ajv.validate(schema, body);
    expect(
      ok,
      `${what}: body does not match the OpenAPI schema: ${this.#ajv.errorsText()}\n${JSON.stringify(body).slice(0, 500)}`,
    ).to.equal(true);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked against the OpenAPI schema, then read freely
export type ApiResponse = { status: number; headers: Headers; body: any; text: string };

export class ApiClient {
  readonly baseUrl: string;
  readonly checker: OpenApiChecker | null;
  constructor(baseUrl: string, checker: OpenApiChecker | null = null) {
    this.baseUrl = baseUrl;
    this.checker = checker;
  }

  async call(
    method: string,
    path: string,
    opts: { key?: string | null; body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers["x-api-key"] = opts.key;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers["content-type"] = opts.contentType ?? "application/json";
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = opts.contentType ?? "application/json";
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    const parsed = /json/.test(type) && text ? JSON.parse(text) : text;
    if (/json/.test(type) === false && res.status >= 400)
      throw new Error(`${method} ${path}: error without problem+json (${type}): ${text}`);
    if (res.status >= 400) {
      expect(type, `${method} ${path} ${res.status}`).to.match(/^application\/problem\+json/);
      expect(parsed.status).to.equal(res.status);
      expect(JSON.stringify(parsed)).to.not.match(/\bat .+\.(ts|js):\d+|SELECT |sp_[A-Z]/);
    }
    this.checker?.check(method, path, res.status, type, parsed);
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
