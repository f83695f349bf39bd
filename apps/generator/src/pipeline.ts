// The generation pipeline: claim a request, plan what is left, insert batches of fresh codes with a
// few in flight, replace collided codes until each batch is full, and leave the request Generated,
// Failed with a reason, or resumable. The request row (GeneratedAmount, capped by the database) is
// the truth; this process only ever asks for what is left minus what it has in flight.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pLimit from "p-limit";
import { type CouponStore, type EngineName, type GenerationClaim, type GenerationRequest, StoreError } from "@coupons/db";
import { checkFeasibility, codeSource, drawDistinct, MAX_COLLISION_RATE } from "./codes.ts";
import { GeneratorError } from "./errors.ts";
import { type BatchCounts, traceBatch, traceRun } from "./tracing.ts";

/**
 * Codes per bulk-insert call. Measured on PostgreSQL 15 (2 cores shared with the server): 2k to 20k
 * per call are within a few percent of each other; 5k keeps memory per batch under ~2 MB and makes
 * a SIGTERM drain in well under a second.
 */
export const DEFAULT_BATCH_SIZE = 5_000;
export const MAX_BATCH_SIZE = 100_000;

/** Batches in flight. PGlite runs in this thread, so more than one only queues; a server gains up to two. */
export function defaultConcurrency(engine: EngineName): number {
  return engine === "embedded" ? 1 : engine === "postgres" ? 2 : 4;
}

/** Calls in a row that insert nothing before the code space is declared exhausted. */
const MAX_FRUITLESS_CALLS = 5;

export type GenerationEvent =
  | { type: "start"; request: GenerationRequest; remaining: number; batchSize: number; concurrency: number; workerId: string }
  | { type: "progress"; requestId: string; generated: number; requested: number; inserted: number; collisions: number; elapsedMs: number }
  | { type: "stopping"; requestId: string; reason: string };

export type GenerateOptions = {
  batchSize?: number;
  concurrency?: number;
  workerId?: string;
  /** Aborting it (SIGTERM/SIGINT) stops new batches; those in flight finish; the request stays resumable. */
  stopSignal?: AbortSignal;
  /** Work a request that is Failed from an earlier run (a plain run refuses it, so a crash loop cannot hide it). */
  retryFailed?: boolean;
  maxCollisionRate?: number;
  onEvent?: (event: GenerationEvent) => void;
  /** Replaces the random source (tests force collisions with it). */
  nextCode?: () => string;
};

export type GenerateResult = {
  /** generated: this run completed it; already-generated: nothing to do; stopped: interrupted, resumable. */
  outcome: "generated" | "already-generated" | "stopped";
  request: GenerationRequest;
  /** Codes this run inserted. */
  inserted: number;
  /** Codes this run drew that existed already and were replaced. */
  collisions: number;
  batches: number;
  elapsedMs: number;
};

function checkCount(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new GeneratorError("INVALID_ARGUMENT", `${name} must be an integer from 1 to ${max} (got ${value})`);
  }
  return value;
}

export function defaultWorkerId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`.slice(0, 100);
}

/** Generates what is left of a request; see the file header. Throws GeneratorError for every refusal. */
export async function generate(store: CouponStore, requestId: string, options: GenerateOptions = {}): Promise<GenerateResult> {
  const batchSize = checkCount("batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE);
  const concurrency = checkCount("concurrency", options.concurrency ?? defaultConcurrency(store.engine), 64);
  const workerId = options.workerId ?? defaultWorkerId();
  const started = performance.now();

  const before = await read(store, requestId);
  if (before.status === "Generated")
    return { outcome: "already-generated", request: before, inserted: 0, collisions: 0, batches: 0, elapsedMs: 0 };
  if (before.status === "Failed" && !options.retryFailed) {
    throw new GeneratorError(
      "REQUEST_FAILED",
      `generation request ${requestId} Failed earlier (${before.failureReason}); fix the cause, then run it again with --retry-failed`,
    );
  }

  // the run continues the trace of the operation that created the request (its stored traceparent)
  return traceRun(before, workerId, async (span) => {
    let claim: GenerationClaim;
    try {
      claim = await store.claimGenerationRequest(requestId, workerId);
    } catch (err) {
      throw translate(err, requestId);
    }
    try {
      const r = await work(store, claim, { batchSize, concurrency, workerId, started, options });
      span.setAttributes({
        "coupons.outcome": r.outcome,
        "coupons.codes.inserted": r.inserted,
        "coupons.codes.existing": r.collisions,
        "coupons.batches": r.batches,
      });
      return r;
    } finally {
      await claim.release().catch(() => {});
    }
  });
}

async function read(store: CouponStore, requestId: string): Promise<GenerationRequest> {
  let request: GenerationRequest | null;
  try {
    request = await store.getGenerationRequest(requestId);
  } catch (err) {
    throw translate(err, requestId);
  }
  if (!request) throw new GeneratorError("NOT_FOUND", `generation request ${requestId} does not exist`);
  return request;
}

/** Store errors as the generator's: busy, missing and unreachable are named; the rest pass through. */
function translate(err: unknown, requestId: string): unknown {
  if (!(err instanceof StoreError)) return err;
  switch (err.code) {
    case "REQUEST_BUSY":
      return new GeneratorError("BUSY", `generation request ${requestId} is being worked by another worker: ${err.message}`, {
        cause: err,
      });
    case "NOT_FOUND":
      return new GeneratorError("NOT_FOUND", err.message, { cause: err });
    case "INVALID_INPUT":
      return new GeneratorError("INVALID_ARGUMENT", err.message, { cause: err });
    case "UNAVAILABLE":
      return new GeneratorError(
        "UNAVAILABLE",
        `${err.message}; generation request ${requestId} is resumable: run it again when the database is back`,
        { cause: err },
      );
    default:
      return err;
  }
}

type WorkContext = { batchSize: number; concurrency: number; workerId: string; started: number; options: GenerateOptions };

async function work(store: CouponStore, claim: GenerationClaim, ctx: WorkContext): Promise<GenerateResult> {
  const { batchSize, concurrency, options } = ctx;
  const request = claim.request;
  const requestId = request.requestId;
  const emit = options.onEvent ?? (() => {});
  const elapsed = () => Math.round(performance.now() - ctx.started);
  const result = (outcome: GenerateResult["outcome"], r: GenerationRequest): GenerateResult => ({
    outcome,
    request: r,
    inserted,
    collisions,
    batches,
    elapsedMs: elapsed(),
  });
  let inserted = 0;
  let collisions = 0;
  let batches = 0;
  if (request.status === "Generated") return result("already-generated", request);

  const markFailed = async (reason: string) => {
    await store.updateGenerationRequest(requestId, "Failed", reason).catch(() => {});
  };

  // Feasibility before the first code is written.
  const remaining = request.requestedAmount - request.generatedAmount;
  if (remaining > 0) {
    const existing = await store.countCouponsWithPrefix(request.prefix);
    const f = checkFeasibility({
      amount: remaining,
      existing,
      prefix: request.prefix,
      length: request.codeLength,
      maxCollisionRate: options.maxCollisionRate ?? MAX_COLLISION_RATE,
    });
    if (!f.ok) {
      await markFailed(f.message);
      throw new GeneratorError("INFEASIBLE", f.message);
    }
  }
  emit({ type: "start", request, remaining, batchSize, concurrency, workerId: ctx.workerId });

  const next = options.nextCode ?? codeSource(request.prefix, request.codeLength);
  const requested = request.requestedAmount;
  let confirmed = request.generatedAmount; // GeneratedAmount as last reported by the database
  let reserved = 0; // codes in flight: asked for, not yet inserted
  let fatal: unknown;
  let stopReason: string | null = null;
  const stop = (reason: string) => {
    if (stopReason) return;
    stopReason = reason;
    emit({ type: "stopping", requestId, reason });
  };
  const onStopSignal = () => stop("stop requested (signal)");
  const onClaimLost = () => stop("the hold on the request was lost");
  options.stopSignal?.addEventListener("abort", onStopSignal);
  claim.signal.addEventListener("abort", onClaimLost);
  if (options.stopSignal?.aborted) onStopSignal();
  if (claim.signal.aborted) onClaimLost();

  const progress = () => emit({ type: "progress", requestId, generated: confirmed, requested, inserted, collisions, elapsedMs: elapsed() });

  const fill = async (size: number): Promise<BatchCounts> => {
    let missing = size;
    let fruitless = 0;
    const counts: BatchCounts = { inserted: 0, existing: 0, calls: 0 };
    try {
      while (missing > 0 && fatal === undefined) {
        // Sorted: concurrent batches of one request then take the code index's entries in one order,
        // so two batches that drew the same code wait for each other instead of deadlocking.
        const codes = drawDistinct(next, missing).sort();
        let r: Awaited<ReturnType<CouponStore["bulkInsertCoupons"]>>;
        try {
          r = await store.bulkInsertCoupons(requestId, codes);
        } catch (err) {
          if (err instanceof StoreError && err.code === "CAP_EXCEEDED") {
            // Someone else inserted for this request (a worker that lost its hold finishing a batch):
            // give the rest of this batch back and plan again from the database's count.
            confirmed = Math.max(confirmed, (await read(store, requestId)).generatedAmount);
            return counts;
          }
          throw err;
        }
        // Let timers, signals and I/O in: PGlite answers in this thread, so without this turn a run of
        // batches would hold the event loop (an API serving requests beside its embedded worker, a
        // SIGTERM waiting to be seen) until the whole request is done.
        await new Promise<void>((resolve) => setImmediate(resolve));
        confirmed = Math.max(confirmed, r.generatedAmount);
        missing -= r.inserted;
        reserved -= r.inserted;
        inserted += r.inserted;
        collisions += codes.length - r.inserted;
        counts.calls++;
        counts.inserted += r.inserted;
        counts.existing += codes.length - r.inserted;
        fruitless = r.inserted === 0 ? fruitless + 1 : 0;
        if (fruitless >= MAX_FRUITLESS_CALLS) {
          throw new GeneratorError(
            "CODE_SPACE_EXHAUSTED",
            `${MAX_FRUITLESS_CALLS} calls in a row inserted none of their codes: the codes with prefix "${request.prefix}" and ` +
              `${request.codeLength} random characters are (nearly) all taken. ${confirmed} of ${requested} codes exist; ` +
              `create a new request with a longer length or another prefix for the rest`,
          );
        }
        progress();
      }
      batches++;
      return counts;
    } finally {
      reserved -= missing;
    }
  };

  // p-limit caps the batches in flight; the loop plans a batch only while a slot is free (a planned
  // batch reserves its codes, so none waits in p-limit's queue). `running` is what to wait for.
  const limit = pLimit(concurrency);
  const running = new Set<Promise<void>>();
  try {
    for (;;) {
      if (stopReason !== null || fatal !== undefined) break;
      const left = requested - confirmed - reserved;
      if (left <= 0 || limit.activeCount + limit.pendingCount >= concurrency) {
        if (running.size === 0) {
          // Nothing in flight and nothing to plan: ask the truth.
          confirmed = (await read(store, requestId)).generatedAmount;
          if (confirmed >= requested) break;
          continue;
        }
        await Promise.race(running);
        continue;
      }
      const size = Math.min(batchSize, left);
      reserved += size;
      const p: Promise<void> = limit(() => traceBatch(size, () => fill(size)))
        .then(() => {})
        .catch((err: unknown) => {
          fatal ??= err;
        })
        .finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.all(running); // in-flight batches finish, whatever stopped us
  } finally {
    options.stopSignal?.removeEventListener("abort", onStopSignal);
    claim.signal.removeEventListener("abort", onClaimLost);
  }

  if (fatal !== undefined) {
    if (fatal instanceof GeneratorError) {
      if (fatal.code === "CODE_SPACE_EXHAUSTED") await markFailed(fatal.message);
      throw fatal;
    }
    if (fatal instanceof StoreError && fatal.code === "UNAVAILABLE") throw translate(fatal, requestId);
    if (fatal instanceof StoreError && fatal.code === "CONFLICT") {
      // The request left Generating under us (changed by a person or another tool): leave it as it is.
      throw new GeneratorError("FAILED", `generation request ${requestId} changed while it was being generated: ${fatal.message}`, {
        cause: fatal,
      });
    }
    const message = fatal instanceof Error ? fatal.message : String(fatal);
    await markFailed(
      `unexpected error while inserting codes: ${message}. ${confirmed} of ${requested} codes exist; ` +
        `fix the cause, then run the request again with --retry-failed to finish it`,
    );
    throw new GeneratorError("FAILED", `generation request ${requestId} Failed: ${message}`, { cause: fatal });
  }
  if (claim.signal.aborted) {
    throw new GeneratorError(
      "UNAVAILABLE",
      `lost the hold on generation request ${requestId} (its database connection closed); ${confirmed} of ${requested} codes exist and the request is resumable: run it again`,
      { cause: claim.signal.reason },
    );
  }

  const now = await read(store, requestId);
  progress();
  if (now.generatedAmount === now.requestedAmount) {
    return result("generated", await store.updateGenerationRequest(requestId, "Generated"));
  }
  // Stopped on request: no worker holds it now, so it goes back to Requested (resumable, not "running").
  return result("stopped", await store.updateGenerationRequest(requestId, "Requested"));
}
