// `coupons dispatch`: launches one ACI container group per Requested generation request and deletes
// each when it has ended (dispatch.ts), as a long-running process or `--once`. The groups are the ones
// `coupons launch` makes (the same Azure options and environment variables); the database the
// dispatcher watches is the one the containers get. SIGTERM stops it after the pass in flight.
import type { TokenCredential } from "@azure/identity";
import { DefaultAzureCredential } from "@azure/identity";
import type { ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import type { Command } from "commander";
import { intArg } from "../args.ts";
import { type DispatchEvent, runDispatcher } from "../dispatch.ts";
import { EXIT, exitHelp } from "../errors.ts";
import { createLogger } from "../progress.ts";
import { type CliContext, withStore } from "./context.ts";
import { type AzureFlags, addAzureOptions, resolveLaunchSpec } from "./launch.ts";

export type DispatchDeps = {
  credential?: TokenCredential;
  clientOptions?: ContainerInstanceManagementClientOptionalParams;
  pollIntervalMs?: number;
  env?: Record<string, string | undefined>;
};

type DispatchFlags = AzureFlags & { once?: boolean; pollSeconds?: number; maxLaunches: number };

export function registerDispatchCommand(program: Command, ctx: CliContext, deps: DispatchDeps = {}): void {
  addAzureOptions(program.command("dispatch"))
    .description(
      "Launch an Azure Container Instances job per Requested generation request and delete it when it has ended; " +
        "re-launch a resumable end (5, 6, killed), mark a permanent one (1, 2, 3) Failed.",
    )
    .option("--once", "look at the container groups and the queue once, then exit")
    .option("--poll-seconds <n>", "longest wait between looks (default 15)", intArg(1, 3_600))
    .option("--max-launches <n>", "launches of one request before it is Failed", intArg(1, 100), 5)
    .addHelpText(
      "after",
      "\nThe Azure options are `launch`'s (same environment variables); the caller needs the launcher role (or\n" +
        "Contributor) on the resource group and Managed Identity Operator on the identity.\n" +
        exitHelp([EXIT.OK, EXIT.USAGE, EXIT.INTERRUPTED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED, EXIT.FAILED]),
    )
    .action(async (flags: DispatchFlags) => {
      const spec = resolveLaunchSpec(flags, deps.env ?? process.env, ctx.globals().database);
      const log = createLogger();
      const stopper = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        log.info({ event: "dispatch.stopping", signal }, "stopping after the pass in flight; container groups keep running");
        stopper.abort(signal);
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      try {
        await withStore(ctx, async (store) => {
          log.info({ event: "dispatch.start", resourceGroup: spec.resourceGroup, once: flags.once ?? false }, "dispatcher started");
          const report = await runDispatcher(store, {
            spec,
            credential: deps.credential ?? new DefaultAzureCredential(),
            clientOptions: deps.clientOptions,
            pollIntervalMs: deps.pollIntervalMs,
            once: flags.once,
            pollMs: flags.pollSeconds === undefined ? undefined : flags.pollSeconds * 1000,
            maxLaunches: flags.maxLaunches,
            signal: stopper.signal,
            onEvent: (e) => logDispatchEvent(log, e),
          });
          ctx.setExit(report.exit === "signal" ? EXIT.INTERRUPTED : EXIT.OK);
        });
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    });
}

function logDispatchEvent(log: ReturnType<typeof createLogger>, e: DispatchEvent): void {
  if (e.type === "idle") return;
  if (e.type === "launch-failed" || e.type === "failed") log.error({ ...e, event: `dispatch.${e.type}` }, `dispatch ${e.type}`);
  else log.info({ ...e, event: `dispatch.${e.type}` }, `dispatch ${e.type}`);
}
