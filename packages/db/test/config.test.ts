import { expect } from "chai";
import { StoreError, describeConfig, openStore, partitionCoupons, redact, storeConfigFromEnv, storeConfigFromUrl } from "../src/index.ts";
import { expectStoreError } from "./conformance.ts";

describe("store configuration", () => {
  it("defaults to the embedded engine in ./.coupons/db when nothing is configured", () => {
    expect(storeConfigFromEnv({})).to.deep.equal({ engine: "embedded", dataDir: ".coupons/db" });
    expect(storeConfigFromEnv({ COUPONS_DATA_DIR: "/data" })).to.deep.equal({ engine: "embedded", dataDir: "/data" });
  });

  it("reads each scheme", () => {
    expect(storeConfigFromUrl("embedded:memory")).to.deep.equal({ engine: "embedded", dataDir: "memory" });
    expect(storeConfigFromUrl("embedded:./x/y")).to.deep.equal({ engine: "embedded", dataDir: "./x/y" });
    expect(storeConfigFromUrl("pglite:///abs/path")).to.deep.equal({ engine: "embedded", dataDir: "/abs/path" });
    expect(storeConfigFromUrl("postgres://u@127.0.0.1:5432/db")).to.deep.equal({
      engine: "postgres",
      url: "postgres://u@127.0.0.1:5432/db",
    });
    expect(storeConfigFromUrl("postgresql://u@h/db").engine).to.equal("postgres");
    expect(storeConfigFromUrl("mssql://sa:x@localhost/db").engine).to.equal("mssql");
    expect(storeConfigFromUrl("sqlserver://localhost/db").engine).to.equal("mssql");
    expect(storeConfigFromEnv({ COUPONS_MSSQL_SERVER: "x.database.windows.net" }).engine).to.equal("mssql");
  });

  const bad: [string, RegExp][] = [
    ["redis://localhost", /unknown database scheme "redis:"/],
    ["localhost:5432", /unknown database scheme "localhost:"/],
    ["just-a-name", /has no scheme/],
    ["", /empty/],
    ["embedded:", /needs a folder or "memory"/],
    ["postgres://", /PostgreSQL URL is malformed/],
  ];
  for (const [url, message] of bad) {
    it(`refuses ${JSON.stringify(url)} with a clear CONFIG error`, () => {
      try {
        storeConfigFromUrl(url);
      } catch (err) {
        expect(err).to.be.instanceOf(StoreError);
        expect((err as StoreError).code).to.equal("CONFIG");
        expect((err as Error).message).to.match(message);
        return;
      }
      throw new Error("expected a CONFIG error");
    });
  }

  it("never shows a password in messages", async () => {
    expect(redact("postgres://user:s3cret@host/db")).to.equal("postgres://user:***@host/db");
    expect(redact("Server=x;Password=s3cret;")).to.not.include("s3cret");
    expect(describeConfig(storeConfigFromUrl("postgres://user:s3cret@host/db"))).to.not.include("s3cret");
    const err = await expectStoreError(openStore("mssql-ish://user:s3cret@host/db"), "CONFIG");
    expect(err.message).to.not.include("s3cret");
  });

  it("masks the whole password in every URL and connection-string form, whatever it holds", () => {
    const cases: [string, string][] = [
      ["postgres://user:p@ss@host:5432/db", "postgres://user:***@host:5432/db"],
      ["postgres://user:p@s:s/w?o#r@d@host/db?sslmode=require", "postgres://user:***@host/db?sslmode=require"],
      ["postgres://:p@ss@host/db", "postgres://:***@host/db"],
      ["postgres://admin@server:p@ss@host/db", "postgres://admin@server:***@host/db"],
      ["mssql://sa:Pa@@ss:w0rd@sql.example.com:1433/coupons", "mssql://sa:***@sql.example.com:1433/coupons"],
      ["postgres://user@host/db?password=p@ss&sslmode=require", "postgres://user@host/db?password=***&sslmode=require"],
      ["Server=x;User Id=sa;Password={p@ss;w}};rd};Encrypt=true", "Server=x;User Id=sa;Password=***;Encrypt=true"],
      ['Server=x;Password="p@ss;""word";Encrypt=true', "Server=x;Password=***;Encrypt=true"],
      ["Server=x;Pwd = p@ss;", "Server=x;Pwd = ***;"],
      ["cannot reach postgres://u:p@ss@h/db (ECONNREFUSED)", "cannot reach postgres://u:***@h/db (ECONNREFUSED)"],
      ["postgres://user@host:5432/db", "postgres://user@host:5432/db"],
    ];
    for (const [input, masked] of cases) expect(redact(input), input).to.equal(masked);
    expect(describeConfig(storeConfigFromUrl("postgres://user:p@ss@host/db"))).to.equal("postgres (postgres://user:***@host/db)");
  });

  it("refuses to partition an engine that keeps Coupons in one table, saying why", async () => {
    await expectStoreError(partitionCoupons("embedded:memory"), "CONFIG", /keeps Coupons in one table.*docs\/scaling\.md/);
    await expectStoreError(
      partitionCoupons("postgres://postgres@127.0.0.1:1/none"),
      "CONFIG",
      /postgres engine keeps Coupons in one table/,
    );
  });

  it("reports an unreachable PostgreSQL server as UNAVAILABLE", async () => {
    const store = await openStore("postgres://postgres@127.0.0.1:1/none");
    try {
      await expectStoreError(store.ping(), "UNAVAILABLE", /cannot be reached/);
    } finally {
      await store.close();
    }
  });
});
