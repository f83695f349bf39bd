// `coupons worker`: waits for generation requests and generates them (worker.ts), as a long-running
// process, or `--once` for a job execution (Azure Container Apps Jobs). SIGTERM drains: no new
// request, batches in flight finish, requests stay resumable; a second signal leaves at once.
import type { Command } from "commander";
import { intArg } from "../args.ts";
import { EXIT, exitHelp } from "../errors.ts";
import { createLogger, jsonReporter } from "../progress.ts";
import { type WorkerEvent, runWorker } from "../worker.ts";
import { type CliContext, poolFor, withStore } from "./context.ts";
import { Option } from "commander";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from "../pipeline.ts";
import { runFlags, watchStopSignals } from "./run.ts";

const WORKER_EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.BUSY, EXIT.INTERRUPTED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

type WorkerFlags = {
  concurrency: number;
  batches?: number;
  batchSize?: number;
  workerId?: string;
  once?: boolean;
  idleExit?: number;
  pollSeconds?: number;
  push: boolean;
};

export function registerWorkerCommand(program: Command, ctx: CliContext): void {
  program
    .command("worker")
    .description(
      "Wait for generation requests and generate them, oldest first; takes over requests whose worker died. " +
        "Wakes on PostgreSQL's NOTIFY (and polls); on SQL Server it polls with backoff.",
    )
    .option("--concurrency <n>", "requests worked at once", intArg(1, 64), 1)
    .addOption(
      new Option(
        "--batches <n>",
        "batches in flight per request (env COUPONS_CONCURRENCY; default: 1 embedded, 2 postgres, 4 mssql)",
      ).argParser(intArg(1, 64)),
    )
    .addOption(
      new Option("--batch-size <n>", `codes per bulk insert (env COUPONS_BATCH_SIZE; default ${DEFAULT_BATCH_SIZE})`).argParser(
        intArg(1, MAX_BATCH_SIZE),
      ),
    )
    .option("--worker-id <id>", "name of this worker (env COUPONS_WORKER_ID; default: host/pid/random)")
    .option("--once", "claim one waiting request if there is one, run it, and exit (0 also when there was nothing to do)")
    .option("--idle-exit <seconds>", "exit 0 after this long with nothing to do", intArg(0, 86_400))
    .option("--poll-seconds <n>", "longest wait between looks at the queue", intArg(1, 3_600))
    .option("--no-push", "ignore PostgreSQL's NOTIFY and only poll, with backoff (as on SQL Server)")
    .addHelpText("after", exitHelp(WORKER_EXITS))
    .action(async (o: WorkerFlags) => {
      const flags = runFlags(ctx, { batchSize: o.batchSize, concurrency: o.batches, workerId: o.workerId });
      const log = createLogger();
      const progress = jsonReporter(log);
      const stop = watchStopSignals();
      stop.signal.addEventListener("abort", () =>
        log.info({ event: "worker.stopping", signal: stop.signal.reason }, "stopping: batches in flight finish, requests stay resumable"),
      );
      try {
        await withStore(
          ctx,
          async (store) => {
            log.info(
              { event: "worker.start", engine: store.engine, requests: o.concurrency, once: o.once ?? false, push: o.push },
              "worker started",
            );
            const report = await runWorker(store, {
              concurrency: o.concurrency,
              once: o.once,
              idleExitMs: o.idleExit === undefined ? undefined : o.idleExit * 1000,
              pollMs: o.pollSeconds === undefined ? undefined : o.pollSeconds * 1000,
              push: o.push,
              signal: stop.signal,
              workerId: flags.workerId,
              generate: { batchSize: flags.batchSize, concurrency: flags.concurrency, onEvent: (e) => progress.event(e) },
              onEvent: (e) => logWorkerEvent(log, e),
            });
            if (o.once && report.processed === 0) log.info({ event: "worker.nothing" }, "no generation request is waiting; nothing to do");
            ctx.setExit(report.exit === "signal" ? EXIT.INTERRUPTED : report.failed.length > 0 && o.once ? EXIT.FAILED : EXIT.OK);
          },
          poolFor(ctx, flags.concurrency) * o.concurrency,
        );
      } finally {
        stop.dispose();
      }
    });
}

function logWorkerEvent(log: ReturnType<typeof createLogger>, e: WorkerEvent): void {
  switch (e.type) {
    case "idle":
      return;
    case "failed":
      log.error({ event: "worker.failed", requestId: e.requestId, reason: e.reason }, "generation request failed");
      return;
    case "retrying":
      log.warn({ event: "worker.retrying", ...e }, "transient failure; retrying the request");
      return;
    default:
      log.info({ ...e, event: `worker.${e.type}` }, `worker ${e.type}`);
  }
}
