// Operator commands (archive, fraud-report, status, purge-idempotency-keys): flags -> one CouponStore call each, nothing
// more. `registerOpsCommands` adds them to a commander program (the `coupons` CLI, and ops-main.ts,
// the ACI entry point); the caller supplies how a store is opened, where lines go and the settings.
import {
  type ArchiveProgress,
  type CouponStore,
  DEFAULT_ARCHIVE_BATCH,
  FRAUD_DIMENSIONS,
  type FraudDimension,
  type FraudReportRow,
  MAX_ARCHIVE_BATCH,
  PARTITION_THRESHOLD,
  type ScaleStatus,
  lastClosedQuarterEnd,
} from "@coupons/db";
import { DefaultAzureCredential } from "@azure/identity";
import { type Command, Option } from "commander";
import { archiveToBlob, blobCredential } from "../archive-blob.ts";
import { dateArg, enumArg, intArg } from "../args.ts";
import { formatTable, formatTime } from "../output.ts";
import { type GeneratorConfig, lazyConfig } from "../config.ts";
import { EXIT, type ExitCode, GeneratorError, exitHelp } from "../errors.ts";

export type OpsDeps = {
  /** Opens the configured store for one command and closes it afterwards. */
  withStore<T>(fn: (store: CouponStore) => Promise<T>): Promise<T>;
  /** The same for a read-only command (default: withStore); the CLI's asks the redeem API when it holds
   *  the embedded folder (via-api.ts). */
  withReadStore?<T>(fn: (store: CouponStore) => Promise<T>): Promise<T>;
  /** One line of output (default: stdout). */
  out?: (line: string) => void;
  /** JSON output instead of text (default: the program's --json option, when it has one). */
  json?: () => boolean;
  /** Told the exit code of a command that did not simply succeed (archive stopped by a signal). */
  setExit?: (code: ExitCode) => void;
  /** Stops a running archive after its batch in flight (default: SIGTERM and SIGINT). */
  stopSignal?: AbortSignal;
  /** JSON on one line per document (JSON lines, for log shippers) instead of indented. */
  compact?: boolean;
  /** The environment's settings (default: this process's environment, read on first use). */
  config?: () => GeneratorConfig;
};

const DAY = 86_400_000;
const READ_EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

const n = (x: number) => x.toLocaleString("en-US");

export function registerOpsCommands(program: Command, deps: OpsDeps): Command {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const json = deps.json ?? (() => Boolean(program.opts().json));
  const config = deps.config ?? lazyConfig();
  const doc = (value: unknown) => out(deps.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2));

  program
    .command("archive")
    .description(
      "Move RedemptionHistory rows of closed quarters to RedemptionHistoryArchive in batches (re-runnable; safe to kill at any moment).",
    )
    .addOption(
      new Option(
        "--before <date>",
        "move rows attempted before this time (env COUPONS_ARCHIVE_BEFORE; default: the end of the last closed quarter, UTC)",
      ).argParser(dateArg("start")),
    )
    .addOption(
      new Option(
        "--batch-size <n>",
        `rows per batch, one transaction each (env COUPONS_ARCHIVE_BATCH_SIZE; default ${DEFAULT_ARCHIVE_BATCH})`,
      ).argParser(intArg(1, MAX_ARCHIVE_BATCH)),
    )
    .option(
      "--file <path>",
      "also append the moved rows to this gzip JSON-lines file, durably, before they are deleted (env COUPONS_ARCHIVE_FILE)",
    )
    .option(
      "--blob-url <url>",
      "instead of a local file, to this Azure Blob storage file, each batch uploaded before it is moved " +
        "(env COUPONS_ARCHIVE_BLOB_URL; managed identity / DefaultAzureCredential, or the account key in COUPONS_ARCHIVE_BLOB_KEY)",
    )
    .addHelpText("after", exitHelp([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.INTERRUPTED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED]))
    .action(async (flags: { before?: Date; batchSize?: number; file?: string; blobUrl?: string }) => {
      const c = config();
      const o = {
        before: flags.before ?? c.COUPONS_ARCHIVE_BEFORE,
        batchSize: flags.batchSize ?? c.COUPONS_ARCHIVE_BATCH_SIZE,
        file: flags.file ?? c.COUPONS_ARCHIVE_FILE,
        blobUrl: flags.blobUrl ?? c.COUPONS_ARCHIVE_BLOB_URL,
      };
      if (o.file && o.blobUrl) throw new GeneratorError("INVALID_ARGUMENT", "give --file or --blob-url, not both");
      const own = new AbortController();
      const onSignal = () => own.abort();
      if (!deps.stopSignal) {
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      }
      try {
        const common = {
          before: o.before ?? lastClosedQuarterEnd(),
          batchSize: o.batchSize,
          signal: deps.stopSignal ?? own.signal,
          onProgress: json() ? (e: ArchiveProgress) => out(JSON.stringify({ event: "archive.batch", ...e })) : undefined,
        };
        const blobUrl = o.blobUrl;
        const result = await deps.withStore((store) =>
          blobUrl
            ? archiveToBlob(store, {
                ...common,
                blobUrl,
                credential: blobCredential(blobUrl, c.COUPONS_ARCHIVE_BLOB_KEY, () => new DefaultAzureCredential()),
              })
            : store.archiveRedemptionHistory({ ...common, file: o.file }),
        );
        if (json()) out(JSON.stringify({ event: "archive.done", ...result, before: result.before.toISOString() }));
        else {
          out(
            `Archived ${n(result.moved)} history row(s) attempted before ${formatTime(result.before)} in ${result.batches} batch(es)` +
              (result.file ? `; ${n(result.fileRows)} written to ${result.file}` : "") +
              (result.recovered ? `; ${n(result.recovered)} recovered from an interrupted run` : "") +
              (result.stopped ? ". Stopped by a signal: run it again to finish." : "."),
          );
        }
        if (result.stopped) deps.setExit?.(EXIT.INTERRUPTED);
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    });

  program
    .command("fraud-report")
    .description(
      "Refused redemption attempts per ip, user or campaign over a time window, with the attempts the API's throttle stopped (ip, user): the top offenders (a table; --json for JSON).",
    )
    .option("--since <date>", "start of the window (a whole day starts at 00:00 UTC; default: 24 hours ago)", dateArg("start"))
    .option("--until <date>", "end of the window, exclusive (a whole day: its start; default: now)", dateArg("start"))
    .addOption(
      new Option("--by <dimension>", `group by: ${FRAUD_DIMENSIONS.join(", ")} (any letter case)`)
        .argParser(enumArg(FRAUD_DIMENSIONS))
        .default("ip"),
    )
    .option("--top <n>", "how many offenders", intArg(1, 1000), 20)
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (o: { since?: Date; until?: Date; by: FraudDimension; top: number }) => {
      const until = o.until ?? new Date();
      const since = o.since ?? new Date(until.getTime() - DAY);
      const rows = await (deps.withReadStore ?? deps.withStore)((store) => store.fraudReport({ since, until, by: o.by, top: o.top }));
      if (json()) return doc(rows);
      out(`Refused and throttled attempts by ${o.by}, ${formatTime(since)} to ${formatTime(until)}: ${rows.length} offender(s)`);
      for (const line of fraudTable(rows)) out(line);
    });

  program
    .command("status")
    .description("Row counts that tell when to partition Coupons (over 10M rows) and when to archive history (--json for JSON).")
    .option("--archive-before <date>", "cutoff for rows to archive (default: the end of the last closed quarter)", dateArg("start"))
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (o: { archiveBefore?: Date }) => {
      const s = await deps.withStore((store) => store.getScaleStatus({ archiveBefore: o.archiveBefore }));
      if (json()) return doc(s);
      for (const line of statusLines(s)) out(line);
    });

  // The API's database role (coupon_api) may not purge idempotency keys; the operations job does.
  program
    .command("purge-idempotency-keys")
    .description("Delete idempotency keys older than the retention, in batches (re-runnable; the API keeps none longer).")
    .option(
      "--retention-hours <n>",
      "keep keys this many hours (the API's COUPONS_IDEMPOTENCY_RETENTION_HOURS; 0: purge all)",
      intArg(0, 87_600),
      168,
    )
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (o: { retentionHours: number }) => {
      const before = new Date(Date.now() - o.retentionHours * 3_600_000);
      const purged = await deps.withStore((store) => store.purgeIdempotencyKeys(before));
      if (json()) return doc({ purged, before });
      out(`Purged ${n(purged)} idempotency key(s) created before ${before.toISOString()}`);
    });

  return program;
}

function fraudTable(rows: FraudReportRow[]): string[] {
  if (rows.length === 0) return ["(none)"];
  const header = ["subject", "attempts", "refusals", "throttled", "codes", "first seen", "last seen", "reasons"];
  const body = rows.map((r) => [
    r.subject,
    n(r.attempts),
    n(r.refusals),
    n(r.throttled),
    n(r.distinctCodes),
    formatTime(r.firstSeen),
    formatTime(r.lastSeen),
    r.reasons.map((x) => `${x.reason} ${x.count}`).join(", "),
  ]);
  return formatTable(header, body);
}

function statusLines(s: ScaleStatus): string[] {
  return [
    `Coupons           ${n(s.couponsTotal)} in ${n(s.campaigns)} campaign(s)`,
    `Largest campaign  ${s.largestCampaign ? `${s.largestCampaign.campaignId} (${n(s.largestCampaign.coupons)})` : "-"}`,
    `History           ${n(s.historyRows)} row(s), oldest ${s.oldestHistoryAt ? formatTime(s.oldestHistoryAt) : "-"}`,
    `To archive        ${n(s.historyRowsToArchive)} row(s) attempted before ${formatTime(s.archiveBefore)}`,
    `Archive           ${n(s.archiveRows)} row(s)`,
    "",
    s.partitionAdvised
      ? `Partition: Coupons has passed ${n(PARTITION_THRESHOLD)} rows; see docs/scaling.md.`
      : `Partition: not needed (Coupons under ${n(PARTITION_THRESHOLD)} rows).`,
    s.archiveAdvised ? "Archive: rows of closed quarters are waiting; run `archive`." : "Archive: nothing to archive.",
  ];
}
