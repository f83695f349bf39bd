// The CLI on a PostgreSQL database that is not ready: never migrated, or missing. Each command says
// what to do (run `coupons migrate`; create the database) and exits 7, which its --help lists; no
// driver text or stack trace. After `coupons migrate` the same command works.
import { expect } from "chai";
import { type TestDatabase, createPostgresDatabase, describePostgres } from "../../../packages/db/test/support.ts";
import { EXIT } from "../src/index.ts";
import { cli, explain } from "./helpers.ts";

describePostgres("coupons on a database that is not migrated or missing (PostgreSQL)", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createPostgresDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  it("When the database was never migrated, then read and write commands exit 7 saying to run `coupons migrate`, and work after it", async () => {
    for (const args of [["campaign", "show", "c1"], ["request", "list"], ["export", "--campaign", "c1"], ["status"]]) {
      const r = await cli(["--database", db.url, ...args]);
      expect(r.code, `${args.join(" ")}: ${explain(r)}`).to.equal(EXIT.NOT_MIGRATED);
      expect(r.stderr).to.contain(`the database "${db.name}" has no schema`).and.contain("run `coupons migrate`");
      expect(r.stderr, "no driver text or stack").to.not.match(/does not exist \(|\bat .+\.ts:\d+/);
    }
    const migrated = await cli(["--database", db.url, "migrate"]);
    expect(migrated.code, explain(migrated)).to.equal(EXIT.OK);
    const after = await cli(["--database", db.url, "campaign", "show", "c1"]);
    expect(after.code, explain(after)).to.equal(EXIT.REFUSED);
    expect(after.stderr).to.contain("campaign c1 does not exist");
  });

  it("When the database does not exist, then a command exits 7 naming the database and how to create it", async () => {
    await db.drop();
    const r = await cli(["--database", db.url, "request", "list"]);
    expect(r.code, explain(r)).to.equal(EXIT.NOT_MIGRATED);
    expect(r.stderr).to.contain(`database "${db.name}" does not exist on 127.0.0.1:5432: create it (createdb ${db.name}`);
  });

  it("When --help is asked of a database command, then it lists exit code 7", async () => {
    for (const args of [["request", "list"], ["campaign", "show"], ["export"], ["migrate"], ["worker"], ["run"]]) {
      const r = await cli([...args, "--help"]);
      expect(r.stdout, args.join(" ")).to.contain("7  not migrated: the database has no schema or an older one");
    }
  });
});
