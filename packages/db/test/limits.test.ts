// The one table of input limits (src/limits.ts) against the columns that hold each value, in both
// dialects: a limit longer than its column would let a value through the store's check that the
// database then refuses or cuts; a shorter one refuses values the schema could hold.
import { readFileSync, readdirSync } from "node:fs";
import { expect } from "chai";
import { TEXT_LIMITS } from "../src/limits.ts";
import { databaseDir } from "../src/migrate.ts";

type Dialect = "postgres" | "mssql";

/** Table.Column -> declared character length, from every CREATE TABLE / ADD column in the schema text. */
function columnLengths(sql: string): Map<string, number> {
  const out = new Map<string, number>();
  const text = sql.replace(/--[^\n]*/g, "");
  for (const m of text.matchAll(/CREATE TABLE\s+(?:dbo\.)?(\w+)\s*\(([\s\S]*?)\n\);?/gi)) {
    const [, table, body] = m as unknown as [string, string, string];
    for (const c of body.matchAll(/^\s*(\w+)\s+n?varchar\((\d+)\)/gim)) out.set(`${table}.${c[1]}`, Number(c[2]));
  }
  for (const m of text.matchAll(/ALTER TABLE\s+(?:dbo\.)?(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)\s+n?varchar\((\d+)\)/gi)) {
    out.set(`${m[1]}.${m[2]}`, Number(m[3]));
  }
  return out;
}

function schemaText(dialect: Dialect): string {
  const dir = databaseDir(dialect);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()
    .map((f) => readFileSync(`${dir}/${f}`, "utf8"))
    .join("\n");
}

/** Every disagreement between the limits table and the columns, as sentences. */
function disagreements(columns: Map<string, number>, dialect: Dialect): string[] {
  const out: string[] = [];
  for (const [field, limit] of Object.entries(TEXT_LIMITS)) {
    for (const column of limit.columns) {
      const declared = columns.get(column);
      if (declared === undefined) out.push(`${dialect}: ${column} (limit ${field}) is not a character column of the schema`);
      else if (declared !== limit.max) out.push(`${dialect}: ${column} holds ${declared} characters, the ${field} limit is ${limit.max}`);
    }
  }
  return out;
}

describe("input limits match the columns of both dialects", () => {
  for (const dialect of ["postgres", "mssql"] as const) {
    it(`every text limit equals the length of each ${dialect} column that stores it`, () => {
      const columns = columnLengths(schemaText(dialect));
      expect(columns.size, "columns found").to.be.greaterThan(20);
      expect(disagreements(columns, dialect)).to.deep.equal([]);
    });
  }

  it("reports a column whose length was changed, and one that is missing (a broken copy of the schema)", () => {
    const text = schemaText("postgres");
    const widened = text.replace(/(CREATE TABLE Coupons \([\s\S]*?CouponCode\s+)varchar\(50\)/, "$1varchar(60)");
    expect(widened).to.not.equal(text);
    expect(disagreements(columnLengths(widened), "postgres")).to.deep.equal([
      "postgres: Coupons.CouponCode holds 60 characters, the couponCode limit is 50",
    ]);
    const dropped = text.replace(/\n\s*WorkerId\s+varchar\(100\)[^\n]*/, "");
    expect(disagreements(columnLengths(dropped), "postgres")).to.deep.equal([
      "postgres: GenerationRequests.WorkerId (limit workerId) is not a character column of the schema",
    ]);
  });
});
