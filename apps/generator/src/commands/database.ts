// `coupons migrate` and `coupons partition`: the configured database's schema and layout.
import { describeConfig, migrate, partitionCoupons } from "@coupons/db";
import type { Command } from "commander";
import { EXIT, exitHelp } from "../errors.ts";
import { type CliContext, out, storeConfig } from "./context.ts";

const EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

export function registerDatabaseCommands(program: Command, ctx: CliContext): void {
  program
    .command("migrate")
    .description("Apply the schema's pending migrations to the configured database.")
    .addHelpText("after", exitHelp(EXITS))
    .action(async () => {
      const config = storeConfig(ctx.globals());
      const report = await migrate(config);
      const files = report.applied.length ? ` (${report.applied.map((m) => m.file).join(", ")})` : "";
      out(`${describeConfig(config)}: applied ${report.applied.length} migration(s)${files}, ${report.alreadyApplied} already applied`);
    });

  program
    .command("partition")
    .description(
      "Convert Coupons to the partitioned layout (SQL Server: database/mssql/partitioning, indexes rebuilt in place, rows counted and fingerprinted before and after). Run `coupons status` first to see whether it is time.",
    )
    .addHelpText("after", exitHelp(EXITS))
    .action(async () => {
      const config = storeConfig(ctx.globals());
      const report = await partitionCoupons(config);
      out(
        `${describeConfig(config)}: ran ${report.scripts.join(", ")}; Coupons has ${report.rowsAfter} rows (${report.rowsBefore} before) in ${report.partitions} partition(s)`,
      );
    });
}
