#!/usr/bin/env node
// The ACI-friendly entry point of the operations commands: `node apps/generator/dist/ops-main.js
// archive` (or fraud-report, status, purge-idempotency-keys). Everything comes from the environment: the database
// (COUPONS_DATABASE_URL / COUPONS_MSSQL_*, COUPONS_DATABASE_READ_URL) and the archive's settings
// (COUPONS_ARCHIVE_BEFORE, COUPONS_ARCHIVE_BATCH_SIZE, COUPONS_ARCHIVE_FILE). Output is log lines on
// stdout in the shape of every process (pino, service "coupons-ops"; each result document's fields in
// its line, with `event`), for Log Analytics. Exit codes are the `coupons` CLI's (errors.ts, one mapping): 0 done,
// 2 usage, 3 refused, 5 stopped by SIGTERM (run again to finish), 6 database unavailable, 1 the rest.
import { pathToFileURL } from "node:url";
import { openStore, storeConfigFromEnv } from "@coupons/db";
import { Command, CommanderError } from "commander";
import { pino } from "pino";
import { logOptions } from "@coupons/db";
import { registerOpsCommands } from "./commands/ops.ts";
import { lazyConfig } from "./config.ts";
import { EXIT, type ExitCode, exitCodeFor } from "./errors.ts";
import { startTelemetry } from "./telemetry.ts";

export async function opsMain(argv: readonly string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let code: ExitCode = EXIT.OK;
  // process.stdout (not a raw fd): synchronous for files and pipes, and what a test can capture
  const logger = pino(logOptions("coupons-ops"), process.stdout);
  let command = "ops";
  const program = new Command("coupons-ops")
    .description("Operations jobs: archive, fraud-report, status, purge-idempotency-keys. Settings from the environment.")
    .exitOverride()
    .hook("preAction", (_program, action) => {
      command = action.name();
    });
  registerOpsCommands(program, {
    json: () => true,
    compact: true,
    // each JSON document the commands write becomes one log line carrying its fields
    out: (line) => {
      const doc = JSON.parse(line) as unknown;
      const fields =
        Array.isArray(doc) || typeof doc !== "object" || doc === null
          ? { event: `${command}.result`, rows: doc }
          : { event: `${command}.result`, ...(doc as Record<string, unknown>) };
      logger.info(fields, String(fields.event));
    },
    config: lazyConfig(env),
    setExit: (c) => {
      code = c;
    },
    async withStore(fn) {
      const store = await openStore(storeConfigFromEnv(env), { applicationName: "coupons-ops", poolSize: 2 });
      try {
        return await fn(store);
      } finally {
        await store.close().catch(() => {});
      }
    },
  });
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError)
      return err.code === "commander.helpDisplayed" || err.code === "commander.help" ? EXIT.OK : EXIT.USAGE;
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ event: "ops.failed", code: (err as { code?: string }).code ?? null }, message);
    return exitCodeFor(err);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // the database drivers load when a command opens the store: after this
  const telemetry = await startTelemetry("coupons-ops");
  process.exitCode = await opsMain(process.argv);
  await telemetry.shutdown();
}
