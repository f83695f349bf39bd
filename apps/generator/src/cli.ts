// The `coupons` CLI: the program, its global options and its entry point. Each command group lives in
// commands/ and is added by its register… function; the rules they apply live in @coupons/db and the
// pipeline. Every command has --help, rejects unknown options, and ends with one of the EXIT codes.
import { readFileSync } from "node:fs";
import { StoreError, loadSecretsIntoEnv } from "@coupons/db";
import { Command, CommanderError } from "commander";
import { registerApiKeyCommands } from "./commands/apikey.ts";
import { registerCampaignCommands } from "./commands/campaign.ts";
import type { CliContext, GlobalOptions } from "./commands/context.ts";
import { registerDatabaseCommands } from "./commands/database.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerDispatchCommand } from "./commands/dispatch.ts";
import { registerExpireCommand } from "./commands/expire.ts";
import { registerExportCommand } from "./commands/export.ts";
import { registerLaunchCommand } from "./commands/launch.ts";
import { registerOpsCommands } from "./commands/ops.ts";
import { registerRequestCommands } from "./commands/request.ts";
import { registerRunCommands } from "./commands/run.ts";
import { registerWorkerCommand } from "./commands/worker.ts";
import { withStore } from "./commands/context.ts";
import { withReadStore } from "./commands/via-api.ts";
import { lazyConfig } from "./config.ts";
import { EXIT, type ExitCode, GeneratorError, Reported, exitCodeFor, exitHelp } from "./errors.ts";
import { isBrokenPipe, setLocalTime, watchStdout } from "./output.ts";

/** This package's version (package.json beside src/ and dist/ alike). */
function generatorVersion(): string {
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

const DATABASE_HELP = `
Database: COUPONS_DATABASE_URL (embedded:./dir | embedded:memory | postgres://... | mssql://...),
or the COUPONS_MSSQL_* variables; unset: the embedded database in ./.coupons/db.
Output: tables have a header row and --json gives the same as JSON; times print in UTC (ISO 8601)
unless --local-time; no terminal escapes when NO_COLOR is set or the output is not a terminal; a
closed pipe (coupons export ... | head) ends the output quietly with exit 0.
Ids: a generation request may be named by any unique prefix of at least 8 characters.
Dates: 2026-12-31 is that whole day in UTC (an end or expiry date: its end); a date-time needs a zone
(2026-12-31T23:59:59Z or +02:00).`;

export function buildProgram(setExit: (code: ExitCode) => void): Command {
  const program = new Command("coupons")
    .description("Coupon code generator: the ACI job (run) and the operator CLI.")
    .option("--database <url>", "database URL (overrides COUPONS_DATABASE_URL)")
    .option("--json", "JSON output: every table and summary as JSON, progress as JSON log lines even on a terminal")
    .option("--local-time", "print times in this machine's zone (ISO 8601 with its offset) instead of UTC")
    .version(generatorVersion(), "-V, --version", "print the version and exit")
    .addHelpText("after", `${exitHelp()}\n${DATABASE_HELP}`);
  program.hook("preAction", () => setLocalTime(program.opts<GlobalOptions>().localTime === true));
  program.configureHelp({ showGlobalOptions: true });
  const ctx: CliContext = { globals: () => program.opts<GlobalOptions>(), config: lazyConfig(), setExit };

  registerRunCommands(program, ctx);
  registerWorkerCommand(program, ctx);
  registerCampaignCommands(program, ctx);
  registerRequestCommands(program, ctx);
  registerExportCommand(program, ctx);
  registerExpireCommand(program, ctx);
  registerDatabaseCommands(program, ctx);
  registerDemoCommand(program, ctx);
  registerApiKeyCommands(program, ctx);
  registerLaunchCommand(program);
  registerDispatchCommand(program, ctx);
  registerOpsCommands(program, {
    withStore: (fn) => withStore(ctx, (store) => fn(store)),
    withReadStore: (fn) => withReadStore(ctx, (store) => fn(store)),
    setExit,
    config: ctx.config,
  });

  // Every command: strict options, help after errors, errors thrown to main() instead of exiting.
  const visit = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError("(add --help for usage)");
    for (const c of cmd.commands) visit(c);
  };
  visit(program);
  return program;
}

/** Runs the CLI on argv (as process.argv) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: ExitCode = EXIT.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  watchStdout();
  try {
    // *_SECRET settings name Key Vault secrets; resolved before any command reads the environment
    await loadSecretsIntoEnv(process.env);
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    // the reader closed the pipe (`coupons export ... | head -1`): it has what it wanted
    if (isBrokenPipe(err)) return EXIT.OK;
    if (err instanceof CommanderError) {
      // commander printed its message already; help and version asked for end well, but help shown
      // because a command was missing ("commander.help" with a non-zero exit code) is a usage error
      const asked =
        err.code === "commander.helpDisplayed" || err.code === "commander.version" || (err.code === "commander.help" && err.exitCode === 0);
      return asked ? EXIT.OK : EXIT.USAGE;
    }
    if (!(err instanceof Reported)) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${message}\n`);
      if (!(err instanceof GeneratorError || err instanceof StoreError) && err instanceof Error && err.stack) {
        process.stderr.write(`${err.stack}\n`);
      }
    }
    return exitCodeFor(err);
  }
}
