// Terminal escapes only where they belong: the progress reporter on a terminal draws a bar (cursor
// and colour escapes), and with NO_COLOR set (or TERM=dumb) prints the same lines without it.
import { Writable } from "node:stream";
import { expect } from "chai";
import type { GenerationRequest } from "@coupons/db";
import { escapesAllowed } from "../src/output.ts";
import { createReporter } from "../src/progress.ts";

/** A stream that says it is a terminal and keeps what is written. */
function fakeTerminal(): NodeJS.WriteStream & { text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text(): string };
  Object.assign(stream, {
    isTTY: true,
    columns: 100,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    text: () => chunks.join(""),
  });
  return stream;
}

const request = {
  requestId: "r-tty",
  campaignId: "c1",
  requestedAmount: 10,
  generatedAmount: 0,
  status: "Generating",
} as GenerationRequest;

function runReporter(env: Record<string, string | undefined>): string {
  const saved = { NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM };
  Object.assign(process.env, { NO_COLOR: "", TERM: "xterm" }, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const tty = fakeTerminal();
    const reporter = createReporter({ stream: tty });
    reporter.event({ type: "start", request, remaining: 10, batchSize: 5, concurrency: 1, workerId: "w" });
    reporter.event({ type: "progress", requestId: "r-tty", generated: 5, requested: 10, inserted: 5, collisions: 0, elapsedMs: 10 });
    reporter.end({
      outcome: "generated",
      request: { ...request, generatedAmount: 10, status: "Generated" },
      inserted: 10,
      collisions: 0,
      batches: 2,
      elapsedMs: 20,
    });
    return tty.text();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("terminal escapes", () => {
  it("When the output is a terminal, then the progress bar draws with escapes; with NO_COLOR or TERM=dumb, the same lines come without any", () => {
    const plain = runReporter({});
    expect(plain, "a terminal gets the bar").to.contain("\u001b");
    for (const env of [{ NO_COLOR: "1" }, { TERM: "dumb" }]) {
      const text = runReporter(env);
      expect(text, JSON.stringify(env)).to.not.contain("\u001b");
      expect(text).to.contain("Generating 10 codes for request r-tty").and.contain("Generated 10 codes");
    }
  });

  it("When asked whether escapes are allowed, then only a terminal without NO_COLOR and not TERM=dumb says yes", () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
    expect(escapesAllowed(tty, {})).to.equal(true);
    expect(escapesAllowed(tty, { NO_COLOR: "1" })).to.equal(false);
    expect(escapesAllowed(tty, { NO_COLOR: "" }), "an empty NO_COLOR is unset (no-color.org)").to.equal(true);
    expect(escapesAllowed(tty, { TERM: "dumb" })).to.equal(false);
    expect(escapesAllowed(pipe, {})).to.equal(false);
  });
});
