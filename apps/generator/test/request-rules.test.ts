// The rules behind every entry point, without a process: dates as people write them, the new request's
// own checks, the environment schema, and the one exit-code mapping (the CLI's and ops-main's).
import { GenerationRequestError, StoreError, checkNewGenerationRequest, parseDateText } from "@coupons/db";
import { expect } from "chai";
import { loadGeneratorConfig } from "../src/config.ts";
import { EXIT, exitCodeFor } from "../src/errors.ts";
import { opsMain } from "../src/ops-main.ts";

const NOW = new Date("2030-06-15T12:00:00Z");

function refusal(fn: () => unknown): GenerationRequestError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(GenerationRequestError);
    return err as GenerationRequestError;
  }
  throw new Error("expected a refusal");
}

describe("generation request rules", () => {
  it("When a date is a whole day, then it is that UTC day's first or last millisecond; with a zone, that instant", () => {
    expect(parseDateText("2031-02-28").toISOString()).to.equal("2031-02-28T00:00:00.000Z");
    expect(parseDateText("2031-02-28", "end").toISOString()).to.equal("2031-02-28T23:59:59.999Z");
    expect(parseDateText("2031-02-28T10:30:00+02:00").toISOString()).to.equal("2031-02-28T08:30:00.000Z");
    expect(parseDateText("2031-02-28T10:30Z", "end").toISOString()).to.equal("2031-02-28T10:30:00.000Z");
  });

  it("When a date-time has no zone, or the day does not exist, or it is not a date, then it is refused saying why", () => {
    expect(() => parseDateText("2031-02-28T10:30:00")).to.throw(RangeError, /zone/);
    expect(() => parseDateText("2031-02-29")).to.throw(RangeError, /ISO 8601/);
    expect(() => parseDateText("2031-02-30T10:00:00Z")).to.throw(RangeError, /ISO 8601/);
    expect(() => parseDateText("tomorrow")).to.throw(RangeError, /ISO 8601/);
  });

  it("When a request is checked, then the prefix is upper-cased, the length defaults to 12 and a date-only expiry is its day's end", () => {
    const r = checkNewGenerationRequest({ campaignId: "c1", requestedAmount: 5, prefix: " spring-", expirationDate: "2030-06-15" }, NOW);
    expect(r).to.include({ prefix: "SPRING-", codeLength: 12, requestedAmount: 5 });
    expect(r.expirationDate?.toISOString()).to.equal("2030-06-15T23:59:59.999Z");
  });

  it("When a field breaks a rule, then the refusal names that field first and is INVALID_INPUT", () => {
    const cases: [Parameters<typeof checkNewGenerationRequest>[0], string][] = [
      [{ campaignId: "c1", requestedAmount: 0 }, "requestedAmount"],
      [{ campaignId: "c1", requestedAmount: 2_147_483_648 }, "requestedAmount"],
      [{ campaignId: "c1", requestedAmount: 1.5 }, "requestedAmount"],
      [{ campaignId: "", requestedAmount: 1 }, "campaignId"],
      [{ campaignId: "c1", requestedAmount: 1, prefix: "A B" }, "prefix"],
      [{ campaignId: "c1", requestedAmount: 1, codeLength: 51 }, "codeLength"],
      [{ campaignId: "c1", requestedAmount: 1, expirationDate: "2030-06-14" }, "expirationDate"],
      [{ campaignId: "c1", requestedAmount: 1, expirationDate: new Date("2030-06-15T12:00:00Z") }, "expirationDate"],
    ];
    for (const [input, field] of cases) {
      const err = refusal(() => checkNewGenerationRequest(input, NOW));
      expect(err.field, JSON.stringify(input)).to.equal(field);
      expect(err.code).to.equal("INVALID_INPUT");
      expect(err.message.startsWith(`${field} `), err.message).to.equal(true);
    }
  });
});

describe("the exit-code mapping and the settings schema", () => {
  it("When a store error ends a command, then its code maps to one exit code (CONFLICT is refused, 3)", () => {
    expect(exitCodeFor(new StoreError("CONFLICT", "exists"))).to.equal(EXIT.REFUSED);
    expect(exitCodeFor(new StoreError("NOT_FOUND", "no"))).to.equal(EXIT.REFUSED);
    expect(exitCodeFor(new StoreError("INVALID_INPUT", "bad"))).to.equal(EXIT.USAGE);
    expect(exitCodeFor(new StoreError("REQUEST_BUSY", "held"))).to.equal(EXIT.BUSY);
    expect(exitCodeFor(new StoreError("UNAVAILABLE", "down"))).to.equal(EXIT.UNAVAILABLE);
    expect(exitCodeFor(new Error("boom"))).to.equal(EXIT.FAILED);
  });

  it("When ops-main gets a bad setting, then it exits 2 naming the variable and its flag, without echoing the value", async () => {
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await opsMain(["node", "ops-main", "archive"], {
        COUPONS_DATABASE_URL: "embedded:memory",
        COUPONS_ARCHIVE_BATCH_SIZE: "s3cret",
      });
    } finally {
      process.stdout.write = write;
    }
    expect(code).to.equal(EXIT.USAGE);
    const text = lines.join("");
    expect(text).to.contain("COUPONS_ARCHIVE_BATCH_SIZE (--batch-size)").and.not.contain("s3cret");
  });

  it("When the environment holds the generator's settings, then they come typed, an empty one counts as unset, and a bad one is CONFIG naming it and its flag", () => {
    const c = loadGeneratorConfig({
      COUPONS_BATCH_SIZE: "2000",
      COUPONS_CPU: "2.5",
      COUPONS_ARCHIVE_BEFORE: "2030-01-01",
      COUPONS_WORKER_ID: "",
    });
    expect(c).to.include({ COUPONS_BATCH_SIZE: 2000, COUPONS_CPU: 2.5, COUPONS_MEMORY_GB: 1.5 });
    expect(c.COUPONS_WORKER_ID).to.equal(undefined);
    expect(c.COUPONS_ARCHIVE_BEFORE?.toISOString()).to.equal("2030-01-01T00:00:00.000Z");
    expect(() => loadGeneratorConfig({ COUPONS_CONCURRENCY: "65" }))
      .to.throw(StoreError, "COUPONS_CONCURRENCY (--concurrency) must be an integer from 1 to 64")
      .with.property("code", "CONFIG");
  });
});
