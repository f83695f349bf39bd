// How a generation run reports itself: on a terminal a progress bar with rate and ETA (stderr);
// otherwise pino JSON lines on stdout (start, periodic progress, end, failure) for Log Analytics.
import { escapesAllowed } from "./output.ts";
import cliProgress from "cli-progress";
import { logOptions } from "@coupons/db";
import { pino, type Logger } from "pino";
import type { GenerateResult, GenerationEvent } from "./pipeline.ts";

export interface Reporter {
  event(e: GenerationEvent): void;
  end(result: GenerateResult): void;
  failure(requestId: string, err: unknown): void;
  /** A line for a person (TTY) or an info log line (JSON). */
  info(message: string, fields?: Record<string, unknown>): void;
}

/** The generator's logger: the shape every process logs in (@coupons/db logOptions). */
export function createLogger(
  destination: NodeJS.WritableStream = process.stdout,
  service: "coupons-generator" | "coupons-ops" = "coupons-generator",
): Logger {
  return pino(logOptions(service), pino.destination({ dest: destination === process.stdout ? 1 : 2, sync: true }));
}

const rate = (n: number, ms: number) => (ms > 0 ? Math.round((n * 1000) / ms) : 0);

/** JSON lines: progress at most every `intervalMs` (default 5 s), start/end/failure always. */
export function jsonReporter(logger: Logger, intervalMs = 5_000): Reporter {
  let last = 0;
  return {
    event(e) {
      switch (e.type) {
        case "start":
          logger.info(
            {
              event: "generation.start",
              requestId: e.request.requestId,
              campaignId: e.request.campaignId,
              requested: e.request.requestedAmount,
              generated: e.request.generatedAmount,
              remaining: e.remaining,
              batchSize: e.batchSize,
              concurrency: e.concurrency,
              workerId: e.workerId,
            },
            "generation started",
          );
          return;
        case "progress": {
          const now = Date.now();
          if (now - last < intervalMs) return;
          last = now;
          logger.info(
            {
              event: "generation.progress",
              requestId: e.requestId,
              generated: e.generated,
              requested: e.requested,
              insertedThisRun: e.inserted,
              collisions: e.collisions,
              codesPerSecond: rate(e.inserted, e.elapsedMs),
            },
            "generation progress",
          );
          return;
        }
        case "stopping":
          logger.warn({ event: "generation.stopping", requestId: e.requestId, reason: e.reason }, "stopping: no new batches");
          return;
      }
    },
    end(r) {
      logger.info(
        {
          event: "generation.end",
          requestId: r.request.requestId,
          outcome: r.outcome,
          status: r.request.status,
          generated: r.request.generatedAmount,
          requested: r.request.requestedAmount,
          insertedThisRun: r.inserted,
          collisions: r.collisions,
          batches: r.batches,
          elapsedMs: r.elapsedMs,
          codesPerSecond: rate(r.inserted, r.elapsedMs),
        },
        r.outcome === "stopped" ? "generation stopped; the request is resumable" : "generation finished",
      );
    },
    failure(requestId, err) {
      const e = err as { code?: unknown; message?: unknown };
      logger.error(
        { event: "generation.failure", requestId, code: e?.code ?? null, error: typeof e?.message === "string" ? e.message : String(err) },
        "generation failed",
      );
    },
    info(message, fields) {
      logger.info({ event: "info", ...fields }, message);
    },
  };
}

/** A progress bar on stderr and readable lines for a person at a terminal. */
export function ttyReporter(out: NodeJS.WritableStream = process.stderr, opts: { bar?: boolean } = {}): Reporter {
  let bar: cliProgress.SingleBar | null = null;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  const line = (s: string) => out.write(`${s}\n`);
  return {
    event(e) {
      switch (e.type) {
        case "start":
          line(
            `Generating ${e.remaining.toLocaleString("en-US")} codes for request ${e.request.requestId} ` +
              `(campaign ${e.request.campaignId}, ${e.request.generatedAmount.toLocaleString("en-US")} of ${e.request.requestedAmount.toLocaleString("en-US")} exist)`,
          );
          // NO_COLOR (or TERM=dumb): the lines without the bar, which draws with escape codes
          if (opts.bar === false) return;
          bar = new cliProgress.SingleBar(
            {
              stream: out,
              format: " {bar} {percentage}% | {value}/{total} codes | {rate} codes/s | ETA {eta_formatted}",
              hideCursor: true,
              etaBuffer: 50,
              fps: 5,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.request.requestedAmount, e.request.generatedAmount, { rate: 0 });
          return;
        case "progress":
          bar?.update(e.generated, { rate: rate(e.inserted, e.elapsedMs).toLocaleString("en-US") });
          return;
        case "stopping":
          stopBar();
          line(`Stopping (${e.reason}): no new batches; waiting for those in flight...`);
          return;
      }
    },
    end(r) {
      stopBar();
      const q = r.request;
      if (r.outcome === "stopped") {
        line(
          `Stopped: ${q.generatedAmount.toLocaleString("en-US")} of ${q.requestedAmount.toLocaleString("en-US")} codes exist; ` +
            `resume with: coupons run --request-id ${q.requestId}`,
        );
      } else if (r.outcome === "already-generated") {
        line(`Request ${q.requestId} is Generated already (${q.generatedAmount.toLocaleString("en-US")} codes); nothing to do.`);
      } else {
        line(
          `Generated ${r.inserted.toLocaleString("en-US")} codes in ${(r.elapsedMs / 1000).toFixed(1)} s ` +
            `(${rate(r.inserted, r.elapsedMs).toLocaleString("en-US")} codes/s, ${r.collisions} collisions replaced); ` +
            `request ${q.requestId} is ${q.status} with ${q.generatedAmount.toLocaleString("en-US")} codes.`,
        );
      }
    },
    failure(_requestId, err) {
      stopBar();
      line(`Error: ${err instanceof Error ? err.message : String(err)}`);
    },
    info(message) {
      line(message);
    },
  };
}

/** The reporter for this process: a bar on a terminal, JSON lines otherwise (or when asked). */
export function createReporter(opts: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Reporter {
  const stream = opts.stream ?? process.stderr;
  if (!opts.json && stream.isTTY) return ttyReporter(stream, { bar: escapesAllowed(stream) });
  return jsonReporter(createLogger());
}
