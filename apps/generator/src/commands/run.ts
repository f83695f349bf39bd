// `coupons run` (the ACI entry point: claim a request and generate what is left) and `coupons generate`
// (create a request and run it here): flags -> pipeline.generate with signal handling and reporting.
import type { CouponStore } from "@coupons/db";
import { type Command, Option } from "commander";
import { intArg } from "../args.ts";
import { EXIT, type ExitCode, GeneratorError, Reported, exitHelp } from "../errors.ts";
import { DEFAULT_BATCH_SIZE, type GenerateResult, MAX_BATCH_SIZE, generate } from "../pipeline.ts";
import { createReporter } from "../progress.ts";
import { type CliContext, missingEmbeddedFolder, poolFor, withStore } from "./context.ts";
import { type RequestFlags, addRequestOptions, createRequest, requestInput } from "./request.ts";

export type RunFlags = { batchSize?: number; concurrency?: number; retryFailed?: boolean; workerId?: string };

/** Every exit code: a run can end each way. */
export const RUN_EXITS = Object.values(EXIT);

export function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--batch-size <n>", `codes per bulk insert (env COUPONS_BATCH_SIZE; default ${DEFAULT_BATCH_SIZE})`).argParser(
        intArg(1, MAX_BATCH_SIZE),
      ),
    )
    .addOption(
      new Option("--concurrency <n>", "batches in flight (env COUPONS_CONCURRENCY; default: 1 embedded, 2 postgres, 4 mssql)").argParser(
        intArg(1, 64),
      ),
    )
    .option("--worker-id <id>", "name of this worker (env COUPONS_WORKER_ID; default: host/pid/random)");
}

/** The run flags, each falling back to its environment variable. */
export function runFlags(ctx: CliContext, o: RunFlags): RunFlags {
  const c = ctx.config();
  return {
    batchSize: o.batchSize ?? c.COUPONS_BATCH_SIZE,
    concurrency: o.concurrency ?? c.COUPONS_CONCURRENCY,
    workerId: o.workerId ?? c.COUPONS_WORKER_ID,
    retryFailed: o.retryFailed,
  };
}

/** SIGTERM/SIGINT, watched from the start of a command (before the database is open): the first
 *  stops the run (no new batches; before it started, nothing is done), a second leaves at once. */
export type StopSignals = { signal: AbortSignal; dispose(): void };

export function watchStopSignals(): StopSignals {
  const stopper = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // A second signal: leave now. The database's count is the truth, so the request stays resumable.
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopper.abort(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    signal: stopper.signal,
    dispose() {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}

/** Runs a request with signal handling (`stop`, or its own from here on) and reporting; returns the
 *  exit code and the result. */
export async function runRequest(
  ctx: CliContext,
  store: CouponStore,
  requestId: string,
  flags: RunFlags,
  stop?: StopSignals,
): Promise<{ code: ExitCode; result: GenerateResult }> {
  const reporter = createReporter({ json: ctx.globals().json });
  const signals = stop ?? watchStopSignals();
  try {
    const result = await generate(store, requestId, { ...flags, stopSignal: signals.signal, onEvent: (e) => reporter.event(e) });
    reporter.end(result);
    return { code: result.outcome === "stopped" ? EXIT.INTERRUPTED : EXIT.OK, result };
  } catch (err) {
    reporter.failure(requestId, err);
    throw new Reported(err);
  } finally {
    if (!stop) signals.dispose();
  }
}

/** `run` and `generate`: signals watched before the database opens, so a SIGTERM while it opens ends
 *  with exit 5 and a line saying so; `requestFor` names the request once the store is open. */
async function runCommand(
  ctx: CliContext,
  flags: RunFlags,
  requestFor: (store: CouponStore) => Promise<string>,
  missing: (folder: string) => Error,
): Promise<void> {
  const folder = missingEmbeddedFolder(ctx);
  if (folder) throw missing(folder); // refused without creating a database that holds nothing yet
  const stop = watchStopSignals();
  const reporter = createReporter({ json: ctx.globals().json });
  try {
    reporter.info("opening the database", { event: "run.opening" });
    await withStore(
      ctx,
      async (store) => {
        if (stop.signal.aborted) {
          reporter.info(`stopped by ${String(stop.signal.reason)} before the run started; nothing was changed`, {
            event: "generation.stopped",
            signal: String(stop.signal.reason),
          });
          ctx.setExit(EXIT.INTERRUPTED);
          return;
        }
        ctx.setExit((await runRequest(ctx, store, await requestFor(store), flags, stop)).code);
      },
      poolFor(ctx, flags.concurrency),
    );
  } finally {
    stop.dispose();
  }
}

export function registerRunCommands(program: Command, ctx: CliContext): void {
  addRunOptions(
    program
      .command("run")
      .description("Claim a generation request and generate its codes (the ACI entry point); resumes a partial one.")
      .option("--request-id <id>", "the generation request (env COUPONS_REQUEST_ID)")
      .option("--retry-failed", "also work a request that Failed in an earlier run")
      .addHelpText("after", exitHelp(RUN_EXITS)),
  ).action(async (o: RunFlags & { requestId?: string }) => {
    const requestId = o.requestId ?? ctx.config().COUPONS_REQUEST_ID;
    if (requestId === undefined) {
      throw new GeneratorError("INVALID_ARGUMENT", "required option '--request-id <id>' (or COUPONS_REQUEST_ID) not specified");
    }
    await runCommand(
      ctx,
      runFlags(ctx, o),
      async () => requestId,
      (folder) =>
        new GeneratorError("NOT_FOUND", `generation request ${requestId} does not exist (there is no embedded database at ${folder} yet)`),
    );
  });

  addRunOptions(
    addRequestOptions(
      program
        .command("generate")
        .description("Create a generation request for a campaign and generate it in this process.")
        .addHelpText("after", exitHelp(RUN_EXITS)),
    ),
  ).action(async (o: RequestFlags & RunFlags) => {
    requestInput(o);
    await runCommand(
      ctx,
      runFlags(ctx, o),
      async (store) => (await createRequest(store, o)).requestId,
      (folder) =>
        new GeneratorError(
          "NOT_FOUND",
          `option '--campaign <id>': campaign ${o.campaign} does not exist (there is no embedded database at ${folder} yet; create the campaign first)`,
        ),
    );
  });
}
