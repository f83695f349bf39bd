// One home for creating a generation request: the same cases through the `coupons request create` CLI
// (a real process) and POST /v1/generation-requests (the real server over HTTP, every answer checked
// against its OpenAPI document), on one PostgreSQL database. Both must accept and refuse exactly the
// same requests, name the same field when they refuse, and store the same request when they accept.
import { type CouponStore, type GenerationRequest, openStore } from "@coupons/db";
import { expect } from "chai";
import { type RunningServer, startServer, stopServer } from "../apps/redeem-api/src/server.ts";
import { ApiClient, testConfig } from "../apps/redeem-api/test/helpers.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../packages/db/test/support.ts";
import { EXIT } from "../apps/generator/src/errors.ts";
import { type CliResult, cli, createCampaign } from "../apps/generator/test/helpers.ts";

type Body = {
  campaignId?: string;
  requestedAmount: number;
  prefix?: string;
  codeLength?: number;
  expirationDate?: string;
  allowGuessable?: boolean;
};

type Case = {
  what: string;
  body: Body;
  /** accepted: what the stored request holds; refused: the field named, the CLI's exit code and the HTTP status. */
  expect:
    | { accepted: Partial<Pick<GenerationRequest, "prefix" | "codeLength">> & { expirationDate?: string | null } }
    | { field: string; exit: number; status: number };
};

const CAMPAIGN = "PARITY";

const CASES: Case[] = [
  {
    what: "a valid request",
    body: { requestedAmount: 10, prefix: "OK-", codeLength: 8 },
    expect: { accepted: { prefix: "OK-", codeLength: 8 } },
  },
  { what: "a lower-case prefix", body: { requestedAmount: 10, prefix: "low-" }, expect: { accepted: { prefix: "LOW-", codeLength: 12 } } },
  {
    what: "a date-only expiry (the end of that day, UTC)",
    body: { requestedAmount: 5, expirationDate: "2099-06-30" },
    expect: { accepted: { expirationDate: "2099-06-30T23:59:59.999Z" } },
  },
  {
    what: "an expiry with an offset",
    body: { requestedAmount: 5, expirationDate: "2099-06-30T12:00:00+02:00" },
    expect: { accepted: { expirationDate: "2099-06-30T10:00:00.000Z" } },
  },
  {
    what: "an expiry without a zone",
    body: { requestedAmount: 5, expirationDate: "2099-06-30T12:00:00" },
    expect: { field: "expirationDate", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "an expiry in the past",
    body: { requestedAmount: 5, expirationDate: "2020-01-01" },
    expect: { field: "expirationDate", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "a day that does not exist",
    body: { requestedAmount: 5, expirationDate: "2099-02-30" },
    expect: { field: "expirationDate", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "codes easy to guess (100 codes of 5 random characters: one guess in 286,291 hits)",
    body: { requestedAmount: 100, prefix: "GUESS-", codeLength: 5 },
    expect: { field: "codeLength", exit: EXIT.REFUSED, status: 400 },
  },
  {
    what: "codes easy to guess, allowed explicitly",
    body: { requestedAmount: 100, prefix: "GUESSOK-", codeLength: 5, allowGuessable: true },
    expect: { accepted: { prefix: "GUESSOK-", codeLength: 5 } },
  },
  {
    what: "an amount the code space cannot take",
    body: { requestedAmount: 20_000, prefix: "INF", codeLength: 4 },
    expect: { field: "requestedAmount", exit: EXIT.REFUSED, status: 400 },
  },
  { what: "a zero amount", body: { requestedAmount: 0 }, expect: { field: "requestedAmount", exit: EXIT.USAGE, status: 400 } },
  { what: "a length below 4", body: { requestedAmount: 5, codeLength: 3 }, expect: { field: "codeLength", exit: EXIT.USAGE, status: 400 } },
  {
    what: "a length that does not fit 50 characters with the prefix",
    body: { requestedAmount: 5, prefix: "ABCDEFGHIJ", codeLength: 45 },
    expect: { field: "codeLength", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "a prefix with forbidden characters",
    body: { requestedAmount: 5, prefix: "bad!" },
    expect: { field: "prefix", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "a prefix over 20 characters",
    body: { requestedAmount: 5, prefix: "A".repeat(21) },
    expect: { field: "prefix", exit: EXIT.USAGE, status: 400 },
  },
  {
    what: "a campaign that does not exist",
    body: { campaignId: "NO-SUCH-CAMPAIGN", requestedAmount: 5 },
    expect: { field: "campaignId", exit: EXIT.REFUSED, status: 404 },
  },
];

/** The CLI flags that ask for the same request as the body. */
function flags(body: Body, requestId: string): string[] {
  const args = ["--campaign", body.campaignId ?? CAMPAIGN, "--requested-amount", String(body.requestedAmount), "--request-id", requestId];
  if (body.prefix !== undefined) args.push("--prefix", body.prefix);
  if (body.codeLength !== undefined) args.push("--length", String(body.codeLength));
  if (body.expirationDate !== undefined) args.push("--expires", body.expirationDate);
  if (body.allowGuessable === true) args.push("--allow-guessable");
  return args;
}

const explain = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 800)}`;

describePostgres("creating a generation request: the CLI and the HTTP API accept and refuse the same requests", function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let store: CouponStore;
  let running: RunningServer;
  let api: ApiClient;
  before(async () => {
    db = await createPostgresDatabase();
    store = await openStore(db.url);
    await createCampaign(store, CAMPAIGN);
    running = await startServer({ store, config: testConfig() });
    api = await ApiClient.connect(running.url);
  });
  after(async () => {
    if (running) await stopServer(running, { closeStore: false });
    await store?.close();
    await db?.drop();
  });

  CASES.forEach((c, i) => {
    const outcome = "accepted" in c.expect ? "both accept it and store the same request" : `both refuse it naming ${c.expect.field}`;
    it(`When asked for ${c.what}, then ${outcome}`, async () => {
      const viaCli = `cli-${i}`;
      const viaApi = `api-${i}`;
      const r = await cli(["request", "create", ...flags(c.body, viaCli)], { env: { COUPONS_DATABASE_URL: db.url } });
      const h = await api.post("/v1/generation-requests", { campaignId: CAMPAIGN, ...c.body, requestId: viaApi });
      const stored = async (id: string) => store.getGenerationRequest(id);
      if ("accepted" in c.expect) {
        expect(r.code, explain(r)).to.equal(EXIT.OK);
        expect(h.status, h.text).to.equal(201);
        const [a, b] = [await stored(viaCli), await stored(viaApi)];
        const shape = (x: GenerationRequest | null) => ({
          requestedAmount: x?.requestedAmount,
          prefix: x?.prefix,
          codeLength: x?.codeLength,
          expirationDate: x?.expirationDate?.toISOString() ?? null,
        });
        expect(shape(a), "the request the CLI stored").to.deep.equal(shape(b));
        const want = c.expect.accepted;
        for (const [k, v] of Object.entries(want)) expect(shape(a)[k as keyof ReturnType<typeof shape>], k).to.equal(v);
      } else {
        const { field, exit, status } = c.expect;
        expect(r.code, explain(r)).to.equal(exit);
        expect(r.stderr, explain(r)).to.contain(field);
        expect(h.status, h.text).to.equal(status);
        expect(h.body.detail, h.text).to.contain(field);
        if (c.what.startsWith("codes easy to guess")) {
          // the odds, in the same words through both
          for (const text of [r.stderr, h.body.detail]) expect(text).to.contain("one random guess in 286,291 would hit a valid code");
        }
        if (status === 400) expect(h.body.errors?.[0]?.field, h.text).to.equal(field);
        expect(await stored(viaCli), "the CLI wrote a refused request").to.equal(null);
        expect(await stored(viaApi), "the API wrote a refused request").to.equal(null);
      }
    });
  });

  it("When --amount (the alias kept for existing scripts) is given, then it asks for the same requestedAmount", async () => {
    const r = await cli(["request", "create", "--campaign", CAMPAIGN, "--amount", "7", "--request-id", "alias"], {
      env: { COUPONS_DATABASE_URL: db.url },
    });
    expect(r.code, explain(r)).to.equal(EXIT.OK);
    expect((await store.getGenerationRequest("alias"))?.requestedAmount).to.equal(7);
    const both = await cli(["request", "create", "--campaign", CAMPAIGN, "--amount", "7", "--requested-amount", "8"], {
      env: { COUPONS_DATABASE_URL: db.url },
    });
    expect(both.code, explain(both)).to.equal(EXIT.USAGE);
    expect(both.stderr).to.contain("--requested-amount").and.contain("--amount");
  });
});
