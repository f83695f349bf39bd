// On the embedded engine the API runs the generation worker in its own process: one process owns an
// embedded data folder, so no `coupons worker` could open it beside the API, and a request made
// through the API on a fresh clone would otherwise wait forever. COUPONS_API_WORKER=false turns it
// off. The worker comes from the generator's workspace package, loaded only here and only then: the
// API's image (server engines) does not carry the generator, and runs workers as their own processes.
import type { CouponStore } from "@coupons/db";
import type { Logger } from "pino";

export type EmbeddedWorker = { stop(): Promise<void> };

/** What the API uses of @coupons/generator/worker (runWorker and its events), typed here so the API
 *  compiles without the generator's sources (its image builds without them). */
type WorkerEvent = { type: string } & Record<string, unknown>;
type RunWorker = (store: CouponStore, options: { signal: AbortSignal; onEvent: (e: WorkerEvent) => void }) => Promise<unknown>;
const WORKER_MODULE = "@coupons/generator/worker";

export async function startEmbeddedWorker(store: CouponStore, enabled: boolean, logger: Logger): Promise<EmbeddedWorker | null> {
  if (store.engine !== "embedded" || !enabled) return null;
  let runWorker: RunWorker;
  try {
    ({ runWorker } = (await import(WORKER_MODULE)) as { runWorker: RunWorker });
  } catch (err) {
    logger.warn({ err }, "the generator is not installed beside the API: generation requests wait for a worker");
    return null;
  }
  const stopper = new AbortController();
  logger.info({ event: "worker.start", engine: store.engine }, "generation worker running in this process (embedded engine)");
  const done = runWorker(store, {
    signal: stopper.signal,
    onEvent: (e) => {
      if (e.type === "idle") return;
      const level = e.type === "failed" ? "error" : e.type === "retrying" ? "warn" : "info";
      logger[level]({ ...e, event: `worker.${e.type}` }, `generation worker: ${e.type}`);
    },
  }).catch((err: unknown) => logger.error({ err }, "the in-process generation worker stopped"));
  return {
    async stop() {
      stopper.abort();
      await done;
    },
  };
}
