// `coupons run` (the ACI entry point: claim a request and generate what is left) and `coupons generate`
// (create a request and run it here): flags -> pipeline.generate with signal handling and reporting.
import type { CouponStore } from "@coupons/db";
import { type Command, Option } from "commander";
import { intArg } from "../args.ts";
import { EXIT, type ExitCode, GeneratorError, Reported, exitHelp } from "../errors.ts";
import { DEFAULT_BATCH_SIZE, type GenerateResult, MAX_BATCH_SIZE, generate } from "../pipeline.ts";
import { createReporter } from "../progress.ts";
import { type CliContext, poolFor, withStore } from "./context.ts";
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

/** Runs a request with signal handling and reporting; returns the exit code and the result. */
export async function runRequest(
  ctx: CliContext,
  store: CouponStore,
  requestId: string,
  flags: RunFlags,
): Promise<{ code: ExitCode; result: GenerateResult }> {
  const reporter = createReporter({ json: ctx.globals().json });
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
  try {
    const result = await generate(store, requestId, { ...flags, stopSignal: stopper.signal, onEvent: (e) => reporter.event(e) });
    reporter.end(result);
    return { code: result.outcome === "stopped" ? EXIT.INTERRUPTED : EXIT.OK, result };
  } catch (err) {
    reporter.failure(requestId, err);
    throw new Reported(err);
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
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
    const flags = runFlags(ctx, o);
    await withStore(
      ctx,
      async (store) => {
        ctx.setExit((await runRequest(ctx, store, requestId, flags)).code);
      },
      poolFor(ctx, flags.concurrency),
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
    const flags = runFlags(ctx, o);
    await withStore(
      ctx,
      async (store) => {
        const request = await createRequest(store, o);
        ctx.setExit((await runRequest(ctx, store, request.requestId, flags)).code);
      },
      poolFor(ctx, flags.concurrency),
    );
  });
}
