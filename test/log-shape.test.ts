// One log shape for every process: the generator CLI (`coupons run`), the ACI operations entry
// point (ops-main) and the redeem API, each run as a real child process on one embedded database,
// and every line each writes to stdout parsed with ONE zod schema. The API's request lines carry the
// request id, the key id, the route pattern, the status and the problem code, and never the key, a
// whole coupon code or a query string.
import { once } from "node:events";
import { join } from "node:path";
import { expect } from "chai";
import { z } from "zod";
import { KEYS, startApiProcess, testEnv } from "../apps/redeem-api/test/helpers.ts";
import { ROOT, cli, codesOf, createCampaign, finished, tempDir, track, withStore } from "../apps/generator/test/helpers.ts";
import { spawn } from "node:child_process";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/** THE log line: what every process writes, whatever it is about. */
const LogLine = z
  .object({
    level: z.enum(LEVELS),
    time: z.iso.datetime({ offset: false }),
    service: z.enum(["redeem-api", "coupons-generator", "coupons-ops"]),
    pid: z.number().int().positive(),
    hostname: z.string().min(1),
    msg: z.string().min(1),
    // an API request's line (pino-http): all of these together, never the URL
    req: z.strictObject({ id: z.string().min(1), method: z.string(), remoteAddress: z.string().optional() }).optional(),
    res: z.strictObject({ statusCode: z.number().int() }).optional(),
    route: z.string().startsWith("/").optional(),
    keyId: z.string().optional(),
    problem: z
      .string()
      .regex(/^[A-Z_]+$/)
      .optional(),
    responseTime: z.number().optional(),
    event: z.string().optional(),
  })
  .loose()
  .refine((l) => (l.res === undefined) === (l.route === undefined) && (l.res === undefined || l.req !== undefined), {
    message: "a request line has req, res and route together",
  });

type Line = z.infer<typeof LogLine>;

function parseAll(stdout: string, who: string): Line[] {
  const lines = stdout.split("\n").filter((l) => l !== "");
  expect(lines.length, `${who} wrote no log line`).to.be.greaterThan(0);
  return lines.map((l) => {
    const r = LogLine.safeParse(JSON.parse(l));
    expect(r.success, `${who}: ${l}\n${r.error?.message}`).to.equal(true);
    return r.data as Line;
  });
}

describe("one log shape: the generator, the operations entry point and the API, parsed with one schema", function () {
  this.timeout(120_000);

  it("When the three run as processes on one database, then every stdout line parses with the one schema and request lines say route, key id, status and problem only", async () => {
    const dir = tempDir();
    const url = `embedded:${join(dir.path, "db")}`;
    const env = { COUPONS_DATABASE_URL: url };
    try {
      const requestId = await withStore(url, async (store) => {
        await createCampaign(store);
        return (await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 40 })).requestId;
      });

      // 1. the generator's ACI command (not a terminal: JSON lines)
      const gen = await cli(["run", "--request-id", requestId], { env });
      expect(gen.code, gen.stderr).to.equal(0);
      const genLines = parseAll(gen.stdout, "coupons run");
      expect(new Set(genLines.map((l) => l.service))).to.deep.equal(new Set(["coupons-generator"]));
      expect(genLines.map((l) => l.event)).to.include("generation.end");

      // 2. the operations entry point
      const ops = await finished(
        track(
          spawn(process.execPath, ["--conditions=source", join(ROOT, "apps/generator/src/ops-main.ts"), "status"], {
            env: { PATH: process.env.PATH, ...env },
            stdio: ["ignore", "pipe", "pipe"],
          }),
        ),
      );
      expect(ops.code, ops.stderr).to.equal(0);
      const opsLines = parseAll(ops.stdout, "ops-main status");
      expect(opsLines.map((l) => [l.service, l.event])).to.deep.equal([["coupons-ops", "status.result"]]);
      expect(opsLines[0]).to.include({ couponsTotal: 40 });

      // 3. the API: a redemption, a lookup typed in upper case with a query string, refusals
      const code = [...(await withStore(url, (s) => codesOf(s, requestId)))][0] as string;
      const api = await startApiProcess(
        ["--conditions=source", join(ROOT, "apps/redeem-api/src/main.ts")],
        testEnv({ ...env, COUPONS_LOG_LEVEL: "info" }),
      );
      track(api.child);
      const base = `http://127.0.0.1:${api.port}`;
      const post = (path: string, body: unknown, key?: string) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
          body: JSON.stringify(body),
        });
      expect((await post("/v1/redemptions", { code, userId: "u1" }, KEYS.shop)).status).to.equal(200);
      expect((await post("/v1/redemptions", { code, userId: "u2" }, KEYS.shop)).status).to.equal(409);
      expect((await post("/v1/redemptions", { code, userId: "u2" })).status).to.equal(401);
      const lookup = await fetch(`${base}/V1/COUPONS/${code.toLowerCase()}?api_key=${KEYS.reader}`, {
        headers: { "x-api-key": KEYS.reader },
      });
      expect(lookup.status).to.equal(200);
      expect((await fetch(`${base}/v1/nothing/${code}?token=abc`)).status).to.equal(404);
      // a path under /v1/coupons that no route takes, typed in mixed case: its code is masked all the same
      const mixed = `${code.slice(0, 6).toLowerCase()}${code.slice(6)}`;
      expect((await fetch(`${base}/V1/Coupons/${mixed}/nothing?token=abc`, { headers: { "x-api-key": KEYS.reader } })).status).to.equal(
        404,
      );
      const exited = once(api.child, "exit");
      api.child.kill("SIGTERM");
      expect((await exited)[0], api.errors()).to.equal(0);

      const apiLines = parseAll(api.output(), "redeem API");
      const requests = apiLines.filter((l) => l.res !== undefined);
      expect(requests.map((l) => [l.req?.method, l.route, l.res?.statusCode, l.keyId ?? null, l.problem ?? null])).to.deep.equal([
        ["POST", "/v1/redemptions", 200, "shop", null],
        ["POST", "/v1/redemptions", 409, "shop", "ALREADY_REDEEMED"],
        ["POST", "/v1/redemptions", 401, null, "UNAUTHENTICATED"],
        ["GET", "/v1/coupons/:code", 200, "reader", null],
        ["GET", `/v1/nothing/${code}`, 404, null, "ROUTE_NOT_FOUND"],
        ["GET", `/V1/Coupons/${mixed.slice(0, 4)}…/nothing`, 404, null, "ROUTE_NOT_FOUND"],
      ]);
      expect(new Set(requests.map((l) => l.req?.id)).size, "a request id each").to.equal(requests.length);
      // nothing secret: no key, no query string, no whole coupon code in a path it can be guessed from
      const text = api.output();
      for (const key of Object.values(KEYS)) expect(text).to.not.contain(key);
      expect(text).to.not.match(/api_key|token=/);
      expect(text.toUpperCase()).to.not.contain(`/V1/COUPONS/${code}`);
    } finally {
      dir.remove();
    }
  });
});
