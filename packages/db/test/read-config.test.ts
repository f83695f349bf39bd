// The read replica settings: COUPONS_DATABASE_READ_URL and COUPONS_MSSQL_READ_INTENT, validated at
// start like every other setting; the SQL Server read pool asks for ApplicationIntent=ReadOnly.
import { expect } from "chai";
import { describeConfig, storeConfigFromEnv } from "../src/index.ts";
import { readReplicaSettings } from "../src/engines/mssql.ts";
import { expectStoreError } from "./conformance.ts";

const wrap = (f: () => unknown) => Promise.resolve().then(f);

describe("read replica configuration", () => {
  it("adds a PostgreSQL read URL to a PostgreSQL primary, and says where reads go without the password", () => {
    const c = storeConfigFromEnv({
      COUPONS_DATABASE_URL: "postgres://app:secret@primary:5432/coupons",
      COUPONS_DATABASE_READ_URL: "postgres://app:secret@replica:5432/coupons",
    });
    expect(c).to.deep.equal({
      engine: "postgres",
      url: "postgres://app:secret@primary:5432/coupons",
      readUrl: "postgres://app:secret@replica:5432/coupons",
    });
    expect(describeConfig(c)).to.equal(
      "postgres (postgres://app:***@primary:5432/coupons), analytics reads on postgres://app:***@replica:5432/coupons",
    );
    expect(storeConfigFromEnv({ COUPONS_DATABASE_URL: "postgres://p/db", COUPONS_DATABASE_READ_URL: "" })).to.deep.equal({
      engine: "postgres",
      url: "postgres://p/db",
    });
  });

  it("refuses a read URL the primary cannot use, naming the variable", async () => {
    await expectStoreError(
      wrap(() => storeConfigFromEnv({ COUPONS_DATABASE_READ_URL: "postgres://replica/db" })),
      "CONFIG",
      /COUPONS_DATABASE_READ_URL needs a server engine/,
    );
    await expectStoreError(
      wrap(() => storeConfigFromEnv({ COUPONS_DATABASE_URL: "postgres://p/db", COUPONS_DATABASE_READ_URL: "mssql://u:p@r/db" })),
      "CONFIG",
      /same engine as the primary \(postgres\)/,
    );
    await expectStoreError(
      wrap(() => storeConfigFromEnv({ COUPONS_DATABASE_URL: "postgres://p/db", COUPONS_MSSQL_READ_INTENT: "true" })),
      "CONFIG",
      /COUPONS_MSSQL_READ_INTENT is for SQL Server/,
    );
    await expectStoreError(
      wrap(() => storeConfigFromEnv({ COUPONS_MSSQL_SERVER: "s", COUPONS_MSSQL_READ_INTENT: "maybe" })),
      "CONFIG",
      /COUPONS_MSSQL_READ_INTENT must be true or false/,
    );
  });

  it("opens the SQL Server read pool with ApplicationIntent=ReadOnly, on the same server or the read URL's", () => {
    const env = {
      COUPONS_MSSQL_SERVER: "tcp:x.database.windows.net,1433",
      COUPONS_MSSQL_DATABASE: "coupons",
      COUPONS_MSSQL_READ_INTENT: "true",
    };
    const c = storeConfigFromEnv(env);
    expect(c).to.include({ engine: "mssql", readIntent: true });
    const same = readReplicaSettings(c as Extract<typeof c, { engine: "mssql" }>);
    expect(same?.server).to.equal("x.database.windows.net");
    expect(same?.config.options?.readOnlyIntent).to.equal(true);
    expect(same?.describe).to.match(/ApplicationIntent=ReadOnly$/);
    const other = storeConfigFromEnv({
      COUPONS_DATABASE_URL: "mssql://u:p@primary:1433/coupons",
      COUPONS_DATABASE_READ_URL: "mssql://u:p@secondary:1433/coupons",
    });
    const read = readReplicaSettings(other as Extract<typeof other, { engine: "mssql" }>);
    expect(read?.server).to.equal("secondary");
    expect(read?.config.options?.readOnlyIntent).to.equal(true);
    expect(readReplicaSettings({ engine: "mssql", url: "mssql://u:p@primary:1433/coupons" })).to.equal(null);
  });
});
