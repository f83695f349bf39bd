// Bad input to the CLI: every command with missing, malformed and out-of-range arguments exits 2
// (usage) with a message naming the argument, and writes nothing: the PostgreSQL database is
// unchanged (table digests) and an embedded data folder is not even created.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { EXIT } from "../../apps/generator/src/errors.ts";
import { type CliResult, createCampaign, finished, startCli, tempDir, withStore } from "../../apps/generator/test/helpers.ts";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../packages/db/test/support.ts";
import { changedTables, snapshot } from "./support.ts";

type Case = { args: string[]; names: RegExp; env?: Record<string, string> };

const REQUEST_FLAGS: Case[] = [
  { args: ["--amount", "10"], names: /--campaign/ },
  { args: ["--campaign", "c1"], names: /--amount/ },
  { args: ["--campaign", "c1", "--amount"], names: /--amount/ },
  ...["0", "2147483648", "1.5"].map((v) => ({
    args: ["--campaign", "c1", "--amount", v],
    names: /--amount/,
  })),
  ...["lower!", "A".repeat(21), "'; DROP TABLE Coupons; --"].map((v) => ({
    args: ["--campaign", "c1", "--amount", "10", "--prefix", v],
    names: /--prefix/,
  })),
  ...["3", "51"].map((v) => ({ args: ["--campaign", "c1", "--amount", "10", "--length", v], names: /--length/ })),
  { args: ["--campaign", "c1", "--amount", "10", "--prefix", "ABCDEFGHIJ", "--length", "45"], names: /--length/ },
  ...["notadate", "2026-13-45"].map((v) => ({ args: ["--campaign", "c1", "--amount", "10", "--expires", v], names: /--expires/ })),
  { args: ["--campaign", "c1", "--amount", "10", "--request-id", "x".repeat(101)], names: /request-?id/i },
  { args: ["--campaign", "c1", "--amount", "10", "--request-id", "bad\u0001id"], names: /request-?id/i },
  { args: ["--campaign", "c1", "--amount", "10", "--bogus"], names: /--bogus/ },
  { args: ["--campaign", "c1", "--amount", "10", "extra"], names: /extra/ },
];

const RUN_FLAGS: Case[] = [
  ...["0", "abc", "100001"].map((v) => ({ args: ["--batch-size", v], names: /--batch-size/ })),
  ...["65"].map((v) => ({ args: ["--concurrency", v], names: /--concurrency/ })),
  { args: [], names: /--batch-size/, env: { COUPONS_BATCH_SIZE: "lots" } },
];

const CASES: Case[] = [
  { args: [], names: /command|usage/i },
  { args: ["frobnicate"], names: /frobnicate/ },
  { args: ["--database", "nonsense://x", "request", "list"], names: /--database|URL|scheme/i },
  { args: ["--database"], names: /--database/ },
  { args: ["run"], names: /--request-id/ },
  { args: ["run", "--request-id"], names: /--request-id/ },
  { args: ["run", "--request-id", "r1", "extra"], names: /extra/ },
  { args: ["run", "--request-id", "r1", "--retry-failed=yes"], names: /--retry-failed/ },
  ...RUN_FLAGS.map((c) => ({ ...c, args: ["run", "--request-id", "r1", ...c.args] })),
  ...REQUEST_FLAGS.map((c) => ({ ...c, args: ["generate", ...c.args] })),
  ...RUN_FLAGS.slice(0, 1).map((c) => ({ ...c, args: ["generate", "--campaign", "c1", "--amount", "10", ...c.args] })),
  // request create shares generate's flags: a sample of them
  ...REQUEST_FLAGS.filter((_, i) => i % 5 === 1).map((c) => ({ ...c, args: ["request", "create", ...c.args] })),
  { args: ["campaign"], names: /command|usage/i },
  { args: ["campaign", "create", "--name", "N", "--end", "2030-01-01", "--discount-percent", "5"], names: /--id/ },
  { args: ["campaign", "create", "--id", "x", "--end", "2030-01-01", "--discount-percent", "5"], names: /--name/ },
  { args: ["campaign", "create", "--id", "x", "--name", "N", "--discount-percent", "5"], names: /--end/ },
  ...["2030-02-30"].map((v) => ({
    args: ["campaign", "create", "--id", "x", "--name", "N", "--end", v, "--discount-percent", "5"],
    names: /--end/,
  })),
  {
    args: ["campaign", "create", "--id", "x", "--name", "N", "--start", "soon", "--end", "2030-01-01", "--discount-percent", "5"],
    names: /--start/,
  },
  {
    args: ["campaign", "create", "--id", "x", "--name", "N", "--start", "2031-01-01", "--end", "2030-01-01", "--discount-percent", "5"],
    names: /--end/,
  },
  ...["101", "1.234"].map((v) => ({
    args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01", "--discount-percent", v],
    names: /--discount-percent/,
  })),
  ...["100000000"].map((v) => ({
    args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01", "--discount-amount", v],
    names: /--discount-amount/,
  })),
  { args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01"], names: /--discount-percent/ },
  {
    args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01", "--discount-percent", "5", "--discount-amount", "5"],
    names: /--discount-amount/,
  },
  ...["0"].flatMap((v) => [
    {
      args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01", "--discount-percent", "5", "--max-per-user", v],
      names: /--max-per-user/,
    },
    {
      args: ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01", "--discount-percent", "5", "--max-total", v],
      names: /--max-total/,
    },
  ]),
  { args: ["campaign", "create", "--id", "", "--name", "N", "--end", "2030-01-01", "--discount-percent", "5"], names: /id/i },
  { args: ["campaign", "create", "--id", "x".repeat(101), "--name", "N", "--end", "2030-01-01", "--discount-percent", "5"], names: /id/i },
  { args: ["campaign", "create", "--id", "x", "--name", "N\u0007", "--end", "2030-01-01", "--discount-percent", "5"], names: /name/i },
  {
    args: [
      "campaign",
      "create",
      "--id",
      "x",
      "--name",
      "N",
      "--end",
      "2030-01-01",
      "--discount-percent",
      "5",
      "--description",
      "d".repeat(1001),
    ],
    names: /description/i,
  },
  { args: ["campaign", "show"], names: /id/ },
  { args: ["campaign", "show", "a", "b"], names: /b|argument/ },
  { args: ["request"], names: /command|usage/i },
  { args: ["request", "show"], names: /id/ },
  { args: ["request", "list", "--status", "Bogus"], names: /--status/ },
  ...["0", "1001"].map((v) => ({ args: ["request", "list", "--limit", v], names: /--limit/ })),
  { args: ["export"], names: /--campaign|--request/ },
  { args: ["export", "--campaign", "c1", "--request", "r1"], names: /--campaign|--request/ },
  { args: ["export", "--campaign"], names: /--campaign/ },
  { args: ["migrate", "now"], names: /now|argument/ },
  ...["0", "10000001"].map((v) => ({ args: ["demo", "--amount", v], names: /--amount/ })),
  { args: ["demo", "--batch-size", "0"], names: /--batch-size/ },
];

const explain = (args: string[], r: CliResult) =>
  `coupons ${args.map((a) => JSON.stringify(a).slice(0, 60)).join(" ")}\nexit ${r.code}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 800)}`;

/** Runs the cases a few at a time (each is its own Node process). */
async function runAll(cases: Case[], env: Record<string, string>): Promise<{ c: Case; r: CliResult }[]> {
  const results: { c: Case; r: CliResult }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as Case;
      results.push({ c, r: await finished(startCli(c.args, { env: { ...env, ...c.env } })) });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return results;
}

describePostgres("faults: bad input to the CLI", function () {
  this.timeout(180_000);
  let db: TestDatabase;
  before(async () => {
    db = await createPostgresDatabase();
    await withStore(db.url, async (store) => {
      await createCampaign(store, "c1");
      await store.createGenerationRequest({ campaignId: "c1", requestedAmount: 5, requestId: "r1" });
    });
  });
  after(async () => {
    await db?.drop();
  });

  it(`When each command gets missing, malformed or out-of-range arguments (${CASES.length} cases), then it exits 2 naming the argument and the database is unchanged`, async () => {
    const before = await snapshot(db.url);
    const results = await runAll(CASES, { COUPONS_DATABASE_URL: db.url });
    const wrong: string[] = [];
    for (const { c, r } of results) {
      const text = r.stdout + r.stderr;
      if (r.code !== EXIT.USAGE || !c.names.test(text))
        wrong.push(`expected exit 2 and a message matching ${c.names}:\n${explain(c.args, r)}`);
      if (/\bat .+\.(ts|js):\d+/.test(text)) wrong.push(`a stack trace reached the user:\n${explain(c.args, r)}`);
    }
    expect(wrong, wrong.join("\n\n")).to.deep.equal([]);
    expect(changedTables(before, await snapshot(db.url)), "tables written by refused commands").to.deep.equal({});
  });

  it("When commands with bad arguments run on the embedded engine, then they exit 2 and no data folder is created", async () => {
    const dir = tempDir();
    try {
      const data = join(dir.path, "db");
      const picks = [
        ["run"],
        ["generate", "--campaign", "c1", "--amount", "0"],
        ["request", "create", "--campaign", "c1", "--amount", "10", "--prefix", "bad!"],
        ["campaign", "create", "--id", "x", "--name", "N", "--end", "2030-01-01"],
        ["request", "list", "--limit", "0"],
        ["export"],
        ["demo", "--amount", "0"],
      ].map((args) => ({ args, names: /./ }));
      const results = await runAll(picks, { COUPONS_DATABASE_URL: `embedded:${data}` });
      for (const { c, r } of results) expect(r.code, explain(c.args, r)).to.equal(EXIT.USAGE);
      expect(existsSync(data), "the embedded data folder").to.equal(false);
    } finally {
      dir.remove();
    }
  });
});
