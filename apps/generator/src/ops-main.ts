#!/usr/bin/env node
// The ACI-friendly entry point of the operations commands: `node apps/generator/dist/ops-main.js
// archive` (or fraud-report, status). Everything comes from the environment: the database
// (COUPONS_DATABASE_URL / COUPONS_MSSQL_*, COUPONS_DATABASE_READ_URL) and the archive's settings
// (COUPONS_ARCHIVE_BEFORE, COUPONS_ARCHIVE_BATCH_SIZE, COUPONS_ARCHIVE_FILE). Output is JSON lines on
// stdout (Log Analytics). Exit codes as the `coupons` CLI: 0 done, 2 usage, 5 stopped by SIGTERM
// (run again to finish), 6 database unavailable, 1 anything else.
import { pathToFileURL } from "node:url";
import { StoreError, openStore, storeConfigFromEnv } from "@coupons/db";
import { Command, CommanderError } from "commander";
import { EXIT, type ExitCode } from "./errors.ts";
import { registerOpsCommands } from "./ops-commands.ts";

export async function opsMain(argv: readonly string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let code: ExitCode = EXIT.OK;
  const program = new Command("coupons-ops")
    .description("Operations jobs: archive, fraud-report, status. Settings from the environment.")
    .exitOverride();
  registerOpsCommands(program, {
    json: () => true,
    compact: true,
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
    process.stdout.write(`${JSON.stringify({ event: "ops.failed", code: (err as { code?: string }).code ?? null, message })}\n`);
    if (err instanceof StoreError) {
      if (err.code === "CONFIG" || err.code === "INVALID_INPUT") return EXIT.USAGE;
      if (err.code === "UNAVAILABLE") return EXIT.UNAVAILABLE;
    }
    return EXIT.FAILED;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await opsMain(process.argv);
}
