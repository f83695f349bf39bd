// The generation worker (`coupons worker`, and in-process in the API on the embedded engine): waits
// for Requested generation requests, claims one with the usual claim protocol, generates it, and goes
// on to the next, `concurrency` requests at a time. It wakes on the store's push (PostgreSQL and
// embedded: NOTIFY from a trigger) and polls as well; where the engine cannot push (SQL Server) it
// polls with backoff and jitter. Requests left Generating by a crashed worker are taken over (their
// claim is free once the worker's connection is gone). A transient failure (database unavailable,
// failover, deadlock) is retried with backoff up to a limit, then the request is Failed with the
// reason; a permanent one (infeasible, campaign gone) fails at once. Stopping (SIGTERM) drains: no
// new request, batches in flight finish, the requests stay resumable.
import { type CouponStore, type GenerationRequest, StoreError } from "@coupons/db";
import { GeneratorError } from "./errors.ts";
import { type GenerateOptions, type GenerateResult, defaultWorkerId, generate } from "./pipeline.ts";

export type WorkerEvent =
  | { type: "idle"; waitingMs: number }
  | { type: "claimed"; requestId: string; requestedAmount: number; generatedAmount: number; attempt: number }
  | { type: "generated"; requestId: string; inserted: number; elapsedMs: number }
  | { type: "stopped"; requestId: string; generatedAmount: number }
  | { type: "cancelled"; requestId: string; generatedAmount: number }
  | { type: "retrying"; requestId: string; attempt: number; delayMs: number; reason: string }
  | { type: "failed"; requestId: string; reason: string }
  | { type: "exit"; reason: "once" | "idle" | "signal"; processed: number };

export type WorkerOptions = {
  /** Requests worked at once (default 1). */
  concurrency?: number;
  /** Claim one request if there is one, run it, and return (a job execution's shape). */
  once?: boolean;
  /** Return after this long with nothing to do (default: never). */
  idleExitMs?: number;
  /** Stops the worker: no new request, in-flight batches finish (SIGTERM). */
  signal?: AbortSignal;
  workerId?: string;
  /** Longest wait between looks at the queue when nothing wakes the worker (default 30 s with push,
   *  backoff from 1 s to this without). */
  pollMs?: number;
  /** false: ignore the store's push and only poll, with backoff, as on SQL Server (`--no-push`; to
   *  measure or compare the two). Default true. */
  push?: boolean;
  /** Tries of a request whose failures are transient before it is Failed (default 5). */
  maxAttempts?: number;
  /** Backoff base between those tries (default 1 s, doubled each time, with jitter). */
  retryBaseMs?: number;
  /** Passed to each generation (batch size, batches in flight, progress events). */
  generate?: Omit<GenerateOptions, "stopSignal" | "workerId">;
  onEvent?: (e: WorkerEvent) => void;
};

export type WorkerReport = {
  processed: number;
  generated: string[];
  failed: string[];
  cancelled: string[];
  exit: "once" | "idle" | "signal";
};

const TRANSIENT = new Set(["UNAVAILABLE"]);

function isTransient(err: unknown): boolean {
  if (err instanceof GeneratorError) return err.code === "UNAVAILABLE";
  return err instanceof StoreError && TRANSIENT.has(err.code);
}

/** A wait of ms/2 to ms, so that many waiters spread out (also dispatch.ts). */
export const jitter = (ms: number) => Math.round(ms / 2 + Math.random() * (ms / 2));

/** Requests a worker may take, oldest first: Requested ones, and Generating ones whose worker died
 *  (their claim succeeds; a live worker's answers BUSY at once). */
async function candidates(store: CouponStore): Promise<GenerationRequest[]> {
  const [requested, generating] = await Promise.all([
    store.listGenerationRequests({ status: "Requested", limit: 100 }),
    store.listGenerationRequests({ status: "Generating", limit: 100 }),
  ]);
  return [...requested, ...generating].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

export async function runWorker(store: CouponStore, options: WorkerOptions = {}): Promise<WorkerReport> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new GeneratorError("INVALID_ARGUMENT", `concurrency must be an integer from 1 to 64 (got ${concurrency})`);
  }
  const emit = options.onEvent ?? (() => {});
  const workerId = options.workerId ?? defaultWorkerId();
  const maxAttempts = options.maxAttempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const report: WorkerReport = { processed: 0, generated: [], failed: [], cancelled: [], exit: "idle" };
  const running = new Map<string, Promise<void>>();
  const stop = options.signal;

  // One wake-up at a time: a push, a finished request, or the stop signal ends the current wait.
  let wake: () => void = () => {};
  const woken = () => new Promise<void>((resolve) => (wake = resolve));
  const onStop = () => wake();
  stop?.addEventListener("abort", onStop);
  const watch = options.push === false ? null : await store.watchGenerationRequests(() => wake()).catch(() => null);
  const pollMax = options.pollMs ?? 30_000;
  let pollMs = watch ? pollMax : Math.min(1_000, pollMax);

  // Requests another live worker holds (BUSY), not tried again until the time noted.
  const busyUntil = new Map<string, number>();

  /** Works one request to its end; false when another worker holds it. */
  const work = async (request: GenerationRequest): Promise<boolean> => {
    const requestId = request.requestId;
    for (let attempt = 1; ; attempt++) {
      emit({ type: "claimed", requestId, requestedAmount: request.requestedAmount, generatedAmount: request.generatedAmount, attempt });
      let result: GenerateResult;
      try {
        result = await generate(store, requestId, { ...options.generate, workerId, stopSignal: stop });
      } catch (err) {
        if (err instanceof GeneratorError && err.code === "BUSY") {
          busyUntil.set(requestId, Date.now() + pollMax);
          return false;
        }
        const now = await store.getGenerationRequest(requestId).catch(() => null);
        if (now?.status === "Cancelled") {
          report.cancelled.push(requestId);
          emit({ type: "cancelled", requestId, generatedAmount: now.generatedAmount });
          return true;
        }
        const reason = err instanceof Error ? err.message : String(err);
        if (isTransient(err) && attempt < maxAttempts && !stop?.aborted) {
          const delayMs = jitter(retryBaseMs * 2 ** (attempt - 1));
          emit({ type: "retrying", requestId, attempt, delayMs, reason });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          continue;
        }
        if (isTransient(err) && !stop?.aborted) {
          const failure = `gave up after ${attempt} tries: ${reason}`.slice(0, 1000);
          await store.updateGenerationRequest(requestId, "Failed", failure).catch(() => {});
        }
        report.failed.push(requestId);
        emit({ type: "failed", requestId, reason });
        return true;
      }
      if (result.outcome === "already-generated") {
        // another worker finished it between our look at the queue and our claim: not ours
        return false;
      }
      if (result.outcome === "stopped") {
        emit({ type: "stopped", requestId, generatedAmount: result.request.generatedAmount });
      } else {
        report.generated.push(requestId);
        emit({ type: "generated", requestId, inserted: result.inserted, elapsedMs: result.elapsedMs });
      }
      return true;
    }
  };

  const start = (request: GenerationRequest) => {
    report.processed++;
    const p = work(request)
      .then((claimed) => {
        if (!claimed) report.processed--;
      })
      .finally(() => {
        running.delete(request.requestId);
        wake();
      });
    running.set(request.requestId, p);
  };

  let idleSince = Date.now();
  try {
    for (;;) {
      if (stop?.aborted) {
        report.exit = "signal";
        break;
      }
      let started = 0;
      if (running.size < concurrency && !(options.once && report.processed > 0)) {
        for (const r of await candidates(store)) {
          if (running.size >= concurrency || (options.once && report.processed > 0)) break;
          if (running.has(r.requestId) || (busyUntil.get(r.requestId) ?? 0) > Date.now()) continue;
          start(r);
          started++;
        }
      }
      if (started > 0) {
        idleSince = Date.now();
        pollMs = watch ? pollMax : Math.min(1_000, pollMax);
      }
      if (running.size === 0) {
        if (options.once) {
          report.exit = "once";
          break;
        }
        if (options.idleExitMs !== undefined && Date.now() - idleSince >= options.idleExitMs) {
          report.exit = "idle";
          break;
        }
      }
      const next = woken();
      let waitMs = running.size > 0 ? pollMax : jitter(pollMs);
      if (running.size === 0 && options.idleExitMs !== undefined) {
        waitMs = Math.max(0, Math.min(waitMs, idleSince + options.idleExitMs - Date.now()));
      }
      if (running.size === 0) emit({ type: "idle", waitingMs: waitMs });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([next, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
      // Without a push, look less often while the queue stays empty (never a busy loop).
      if (!watch && running.size === 0) pollMs = Math.min(pollMax, pollMs * 2);
    }
    await Promise.all(running.values());
  } finally {
    stop?.removeEventListener("abort", onStop);
    await watch?.close().catch(() => {});
  }
  emit({ type: "exit", reason: report.exit, processed: report.processed });
  return report;
}
