// The `coupons` CLI: flags -> library calls (pipeline.generate, the CouponStore), nothing more.
// Every command has --help, rejects unknown options, and ends with one of the EXIT codes.
import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type CouponStore,
  type GenerationRequest,
  type GenerationStatus,
  type StoreConfig,
  StoreError,
  describeConfig,
  loadSecretsIntoEnv,
  migrate,
  openStore,
  partitionCoupons,
  storeConfigFromEnv,
  storeConfigFromUrl,
} from "@coupons/db";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { stringify } from "csv-stringify";
import { registerLaunchCommand } from "./aci-command.ts";
import { dateArg, intArg } from "./args.ts";
import { registerOpsCommands } from "./ops-commands.ts";
import { DEFAULT_CODE_LENGTH, checkCodeLength, checkFeasibility, checkPrefix } from "./codes.ts";
import { EXIT, type ExitCode, GeneratorError } from "./errors.ts";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, type GenerateResult, defaultConcurrency, generate } from "./pipeline.ts";
import { type Reporter, createReporter } from "./progress.ts";

const EXIT_HELP = `
Exit codes:
  0  done (for run/generate: the request is Generated)
  1  failed: the request was marked Failed (see its FailureReason), or an unexpected error
  2  usage: a bad or missing argument, option or setting; nothing was written
  3  refused: amount infeasible for the prefix and length (nothing written), campaign or request
     not found, or the request Failed earlier (run it with --retry-failed)
  4  busy: another live worker holds the generation request
  5  interrupted by SIGTERM/SIGINT: batches in flight finished, the request is resumable
  6  unavailable: the database could not be reached or the hold was lost; the request is resumable

Database: COUPONS_DATABASE_URL (embedded:./dir | embedded:memory | postgres://... | mssql://...),
or the COUPONS_MSSQL_* variables; unset: the embedded database in ./.coupons/db.`;

// ---------------------------------------------------------------------------------------------
// argument parsers: commander names the option in its message ("option '--amount <n>' argument ...")

function moneyArg(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d{1,2})?$/.test(value) || n <= 0 || n > max) {
      throw new InvalidArgumentError(`must be a number above 0 and at most ${max}, with at most 2 decimals.`);
    }
    return n;
  };
}

function prefixArg(value: string): string {
  try {
    return checkPrefix(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

const STATUSES: GenerationStatus[] = ["Requested", "Generating", "Generated", "Failed"];

// ---------------------------------------------------------------------------------------------
// shared plumbing

type GlobalOptions = { database?: string; json?: boolean };

function configFrom(globals: GlobalOptions): StoreConfig {
  return globals.database ? storeConfigFromUrl(globals.database) : storeConfigFromEnv();
}

async function withStore<T>(
  globals: GlobalOptions,
  fn: (store: CouponStore, config: StoreConfig) => Promise<T>,
  poolSize?: number,
): Promise<T> {
  const config = configFrom(globals);
  const store = await openStore(config, { poolSize, applicationName: "coupons-generator" });
  try {
    return await fn(store, config);
  } finally {
    await store.close().catch(() => {});
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

function percent(r: GenerationRequest): string {
  return `${((r.generatedAmount / r.requestedAmount) * 100).toFixed(1)}%`;
}

function describeRequest(r: GenerationRequest): string {
  const lines = [
    `Request     ${r.requestId}`,
    `Campaign    ${r.campaignId}`,
    `Status      ${r.status}${r.failureReason ? ` (${r.failureReason})` : ""}`,
    `Progress    ${r.generatedAmount.toLocaleString("en-US")} of ${r.requestedAmount.toLocaleString("en-US")} (${percent(r)})`,
    `Codes       prefix "${r.prefix}" + ${r.codeLength} random characters`,
    `Expires     ${r.expirationDate?.toISOString() ?? "never"}`,
    `Created     ${r.createdAt.toISOString()}${r.requestedBy ? ` by ${r.requestedBy}` : ""}`,
    `Started     ${r.startedAt?.toISOString() ?? "-"}`,
    `Completed   ${r.completedAt?.toISOString() ?? "-"}`,
    `Worker      ${r.workerId ?? "-"}`,
  ];
  return lines.join("\n");
}

type RequestFlags = {
  campaign: string;
  amount: number;
  prefix?: string;
  length: number;
  expires?: Date;
  requestId?: string;
  requestedBy?: string;
};

/** Flag checks that need two flags at once; run before the database is opened, so nothing is written. */
function checkRequestFlags(f: RequestFlags): void {
  try {
    checkCodeLength(f.length, f.prefix ?? "");
  } catch (err) {
    throw new GeneratorError("INVALID_ARGUMENT", `option '--length <n>': ${(err as Error).message}`);
  }
}

/** Checks a new request's flags and its feasibility against the database, then creates it. */
async function createRequest(store: CouponStore, f: RequestFlags): Promise<GenerationRequest> {
  checkRequestFlags(f);
  const prefix = f.prefix ?? "";
  if (!(await store.getCampaign(f.campaign))) {
    throw new GeneratorError(
      "NOT_FOUND",
      `campaign ${f.campaign} does not exist; create it with: coupons campaign create --id ${f.campaign} ...`,
    );
  }
  const existing = await store.countCouponsWithPrefix(prefix);
  const feasibility = checkFeasibility({ amount: f.amount, existing, prefix, length: f.length });
  if (!feasibility.ok) throw new GeneratorError("INFEASIBLE", feasibility.message);
  return store.createGenerationRequest({
    requestId: f.requestId,
    campaignId: f.campaign,
    requestedAmount: f.amount,
    prefix,
    codeLength: f.length,
    expirationDate: f.expires ?? null,
    requestedBy: f.requestedBy ?? null,
  });
}

function addRequestOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--campaign <id>", "campaign the codes belong to")
    .requiredOption("--amount <n>", "number of codes", intArg(1, 2_147_483_647))
    .option("--prefix <text>", "code prefix (A-Z, 0-9, '-', '_'; upper-cased; at most 20)", prefixArg)
    .option("--length <n>", "random characters after the prefix", intArg(1, 50), DEFAULT_CODE_LENGTH)
    .option("--expires <date>", "expiry of the codes (ISO 8601, UTC)", dateArg)
    .option("--request-id <id>", "id of the new request (default: a UUID)")
    .option("--requested-by <who>", "who asked for the codes");
}

type RunFlags = { batchSize?: number; concurrency?: number; retryFailed?: boolean; workerId?: string };

function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--batch-size <n>", `codes per bulk insert (default ${DEFAULT_BATCH_SIZE})`)
        .env("COUPONS_BATCH_SIZE")
        .argParser(intArg(1, MAX_BATCH_SIZE)),
    )
    .addOption(
      new Option("--concurrency <n>", "batches in flight (default: 1 embedded, 2 postgres, 4 mssql)")
        .env("COUPONS_CONCURRENCY")
        .argParser(intArg(1, 64)),
    )
    .addOption(new Option("--worker-id <id>", "name of this worker (default: host/pid/random)").env("COUPONS_WORKER_ID"));
}

/** Runs a request with signal handling and reporting; returns the exit code. */
async function runRequest(
  store: CouponStore,
  requestId: string,
  flags: RunFlags,
  reporter: Reporter,
): Promise<{ code: ExitCode; result?: GenerateResult }> {
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
    const result = await generate(store, requestId, {
      batchSize: flags.batchSize,
      concurrency: flags.concurrency,
      workerId: flags.workerId,
      retryFailed: flags.retryFailed,
      stopSignal: stopper.signal,
      onEvent: (e) => reporter.event(e),
    });
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

/** An error the reporter has shown already; main() only maps it to an exit code. */
class Reported extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.original = original;
  }
}

function poolFor(globals: GlobalOptions, concurrency?: number): number {
  const engine = configFrom(globals).engine;
  return (concurrency ?? defaultConcurrency(engine)) + 2;
}

// ---------------------------------------------------------------------------------------------
// the program

export function buildProgram(setExit: (code: ExitCode) => void): Command {
  const program = new Command("coupons")
    .description("Coupon code generator: the ACI job (run) and the operator CLI.")
    .option("--database <url>", "database URL (overrides COUPONS_DATABASE_URL)")
    .option("--json", "log JSON lines even on a terminal")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", EXIT_HELP)
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true });
  const globals = () => program.opts<GlobalOptions>();
  const reporter = () => createReporter({ json: globals().json });

  addRunOptions(
    program
      .command("run")
      .description("Claim a generation request and generate its codes (the ACI entry point); resumes a partial one.")
      .addOption(new Option("--request-id <id>", "the generation request").env("COUPONS_REQUEST_ID").makeOptionMandatory())
      .option("--retry-failed", "also work a request that Failed in an earlier run")
      .addHelpText("after", EXIT_HELP),
  ).action(async (o: RunFlags & { requestId: string }) => {
    await withStore(
      globals(),
      async (store) => {
        const { code } = await runRequest(store, o.requestId, o, reporter());
        setExit(code);
      },
      poolFor(globals(), o.concurrency),
    );
  });

  addRunOptions(
    addRequestOptions(
      program
        .command("generate")
        .description("Create a generation request for a campaign and generate it in this process.")
        .addHelpText("after", EXIT_HELP),
    ),
  ).action(async (o: RequestFlags & RunFlags) => {
    checkRequestFlags(o);
    await withStore(
      globals(),
      async (store) => {
        const request = await createRequest(store, o);
        const { code } = await runRequest(store, request.requestId, o, reporter());
        setExit(code);
      },
      poolFor(globals(), o.concurrency),
    );
  });

  const campaign = program.command("campaign").description("Campaign commands.").addHelpText("after", EXIT_HELP);
  campaign
    .command("create")
    .description("Create a campaign.")
    .requiredOption("--id <id>", "campaign id")
    .requiredOption("--name <name>", "display name")
    .option("--description <text>", "description")
    .option("--start <date>", "start (ISO 8601; default now)", dateArg)
    .requiredOption("--end <date>", "end (ISO 8601)", dateArg)
    .option("--discount-percent <p>", "discount in percent (exactly one of the two discounts)", moneyArg(100))
    .option("--discount-amount <a>", "discount as an amount", moneyArg(99_999_999.99))
    .option("--max-per-user <n>", "redemptions per user (default: no limit)", intArg(1, 2_147_483_647))
    .option("--max-total <n>", "redemptions in total (default: no limit)", intArg(1, 2_147_483_647))
    .option("--inactive", "create it inactive")
    .option("--created-by <who>", "who created it")
    .addHelpText("after", EXIT_HELP)
    .action(
      async (o: {
        id: string;
        name: string;
        description?: string;
        start?: Date;
        end: Date;
        discountPercent?: number;
        discountAmount?: number;
        maxPerUser?: number;
        maxTotal?: number;
        inactive?: boolean;
        createdBy?: string;
      }) => {
        if ((o.discountPercent === undefined) === (o.discountAmount === undefined)) {
          throw new GeneratorError("INVALID_ARGUMENT", "give exactly one of --discount-percent and --discount-amount");
        }
        const start = o.start ?? new Date();
        if (o.end.getTime() <= start.getTime()) {
          throw new GeneratorError(
            "INVALID_ARGUMENT",
            `option '--end <date>' must be after ${o.start ? "--start" : "the start (now)"}: ${o.end.toISOString()} is not after ${start.toISOString()}`,
          );
        }
        await withStore(globals(), async (store) => {
          const c = await store.createCampaign({
            campaignId: o.id,
            name: o.name,
            description: o.description ?? null,
            startDate: start,
            endDate: o.end,
            discountPercentage: o.discountPercent ?? null,
            discountAmount: o.discountAmount ?? null,
            maxRedemptionsPerUser: o.maxPerUser ?? null,
            maxTotalRedemptions: o.maxTotal ?? null,
            isActive: !o.inactive,
            createdBy: o.createdBy ?? null,
          });
          printJson(c);
        });
      },
    );
  campaign
    .command("show")
    .description("Show a campaign.")
    .argument("<id>", "campaign id")
    .addHelpText("after", EXIT_HELP)
    .action(async (id: string) => {
      await withStore(globals(), async (store) => {
        const c = await store.getCampaign(id);
        if (!c) throw new GeneratorError("NOT_FOUND", `campaign ${id} does not exist`);
        printJson(c);
      });
    });

  const request = program.command("request").description("Generation request commands.").addHelpText("after", EXIT_HELP);
  addRequestOptions(request.command("create").description("Create a generation request (run it with `coupons run`)."))
    .addHelpText("after", EXIT_HELP)
    .action(async (o: RequestFlags) => {
      checkRequestFlags(o);
      await withStore(globals(), async (store) => {
        const r = await createRequest(store, o);
        if (globals().json) printJson(r);
        else out(`${describeRequest(r)}\n\nRun it with: coupons run --request-id ${r.requestId}`);
      });
    });
  request
    .command("show")
    .description("Show a request and its progress (GeneratedAmount is the truth while it runs).")
    .argument("<id>", "request id")
    .addHelpText("after", EXIT_HELP)
    .action(async (id: string) => {
      await withStore(globals(), async (store) => {
        const r = await store.getGenerationRequest(id);
        if (!r) throw new GeneratorError("NOT_FOUND", `generation request ${id} does not exist`);
        if (globals().json) printJson(r);
        else out(describeRequest(r));
      });
    });
  request
    .command("list")
    .description("List requests with their progress, newest first.")
    .option("--campaign <id>", "only this campaign's")
    .addOption(new Option("--status <status>", "only this status").choices(STATUSES))
    .option("--limit <n>", "at most this many", intArg(1, 1000), 100)
    .addHelpText("after", EXIT_HELP)
    .action(async (o: { campaign?: string; status?: GenerationStatus; limit: number }) => {
      await withStore(globals(), async (store) => {
        const rows = await store.listGenerationRequests({ campaignId: o.campaign, status: o.status, limit: o.limit });
        if (globals().json) return printJson(rows);
        if (rows.length === 0) return out("No generation requests.");
        for (const r of rows) {
          out(
            [
              r.requestId.padEnd(36),
              r.campaignId.padEnd(20),
              r.status.padEnd(10),
              `${r.generatedAmount}/${r.requestedAmount}`.padEnd(24),
              percent(r),
            ].join("  "),
          );
        }
      });
    });

  program
    .command("export")
    .description("Stream a campaign's or a request's codes as CSV (constant memory).")
    .option("--campaign <id>", "the campaign's codes")
    .option("--request <id>", "the request's codes")
    .option("--out <file>", "write to this file instead of stdout")
    .addHelpText("after", EXIT_HELP)
    .action(async (o: { campaign?: string; request?: string; out?: string }) => {
      if ((o.campaign === undefined) === (o.request === undefined)) {
        throw new GeneratorError("INVALID_ARGUMENT", "give exactly one of --campaign and --request");
      }
      await withStore(globals(), async (store) => {
        if (o.campaign !== undefined && !(await store.getCampaign(o.campaign))) {
          throw new GeneratorError("NOT_FOUND", `campaign ${o.campaign} does not exist`);
        }
        if (o.request !== undefined && !(await store.getGenerationRequest(o.request))) {
          throw new GeneratorError("NOT_FOUND", `generation request ${o.request} does not exist`);
        }
        let count = 0;
        const source = store.streamCoupons(o.campaign !== undefined ? { campaignId: o.campaign } : { requestId: o.request });
        const rows = Readable.from(
          (async function* () {
            for await (const r of source) {
              count++;
              yield [r.couponCode, r.campaignId, r.expiresAt?.toISOString() ?? "", r.generationBatchId ?? "", r.createdAt.toISOString()];
            }
          })(),
        );
        const csv = stringify({ header: true, columns: ["code", "campaign_id", "expires_at", "request_id", "created_at"] });
        if (o.out) {
          await pipeline(rows, csv, createWriteStream(o.out));
          process.stderr.write(`Exported ${count.toLocaleString("en-US")} codes to ${resolve(o.out)}\n`);
        } else {
          await pipeline(rows, csv, process.stdout, { end: false });
        }
      });
    });

  program
    .command("migrate")
    .description("Apply the schema's pending migrations to the configured database.")
    .addHelpText("after", EXIT_HELP)
    .action(async () => {
      const config = configFrom(globals());
      const report = await migrate(config);
      out(
        `${describeConfig(config)}: applied ${report.applied.length} migration(s)` +
          `${report.applied.length ? ` (${report.applied.map((m) => m.file).join(", ")})` : ""}, ${report.alreadyApplied} already applied`,
      );
    });

  program
    .command("partition")
    .description(
      "Convert Coupons to the partitioned layout (SQL Server: database/mssql/partitioning, indexes rebuilt in place, rows counted and fingerprinted before and after). Run `coupons status` first to see whether it is time.",
    )
    .addHelpText("after", EXIT_HELP)
    .action(async () => {
      const config = configFrom(globals());
      const report = await partitionCoupons(config);
      out(
        `${describeConfig(config)}: ran ${report.scripts.join(", ")}; Coupons has ${report.rowsAfter} rows (${report.rowsBefore} before) in ${report.partitions} partition(s)`,
      );
    });

  addRunOptions(
    program
      .command("demo")
      .description("Generate codes for a demo campaign on the configured database (embedded by default) and say where they are.")
      .option("--amount <n>", "codes to generate", intArg(1, 10_000_000), 100_000)
      .addHelpText("after", EXIT_HELP),
  ).action(async (o: RunFlags & { amount: number }) => {
    const config = configFrom(globals());
    await withStore(
      globals(),
      async (store) => {
        const campaignId = "demo";
        if (!(await store.getCampaign(campaignId))) {
          const now = Date.now();
          await store.createCampaign({
            campaignId,
            name: "Demo campaign",
            description: "Created by `coupons demo`",
            startDate: new Date(now - 86_400_000),
            endDate: new Date(now + 365 * 86_400_000),
            discountPercentage: 10,
            createdBy: "coupons demo",
          });
        }
        const r = await createRequest(store, {
          campaign: campaignId,
          amount: o.amount,
          prefix: "DEMO-",
          length: 10,
          requestedBy: "coupons demo",
        });
        const { code } = await runRequest(store, r.requestId, o, reporter());
        setExit(code);
        if (code !== EXIT.OK) return;
        const where =
          config.engine === "embedded" && config.dataDir !== "memory"
            ? `embedded database at ${resolve(config.dataDir)}`
            : `${describeConfig(config)} database`;
        // from a checkout, `npm run coupons --` runs the CLI on the Node 24 of node_modules/.bin
        const cli = import.meta.url.endsWith(".ts") ? "npm run coupons --" : "coupons";
        process.stderr.write(
          `\n${o.amount.toLocaleString("en-US")} codes of campaign "${campaignId}" (request ${r.requestId}) are in the ${where}.\n` +
            `Export them:    ${cli} export --campaign ${campaignId} --out demo-codes.csv\n` +
            `See requests:   ${cli} request list --campaign ${campaignId}\n`,
        );
      },
      poolFor(globals(), o.concurrency),
    );
  });

  // Every subcommand: strict options, help after errors, exitOverride (set before creation is
  // inherited, but make sure for nested ones).
  const visit = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError("(add --help for usage)");
    for (const c of cmd.commands) visit(c);
  };
  registerLaunchCommand(program);
  registerOpsCommands(program, { withStore: (fn) => withStore(globals(), (store) => fn(store)), setExit });
  visit(program);
  return program;
}

/** Exit code for an error that ended a command. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof Reported) return exitCodeFor(err.original);
  if (err instanceof GeneratorError) return err.exitCode;
  if (err instanceof CommanderError) return EXIT.USAGE;
  if (err instanceof StoreError) {
    switch (err.code) {
      case "INVALID_INPUT":
      case "CONFIG":
        return EXIT.USAGE;
      case "NOT_FOUND":
      case "CONFLICT":
        return EXIT.REFUSED;
      case "REQUEST_BUSY":
        return EXIT.BUSY;
      case "UNAVAILABLE":
        return EXIT.UNAVAILABLE;
      default:
        return EXIT.FAILED;
    }
  }
  return EXIT.FAILED;
}

/** Runs the CLI on argv (as process.argv) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: ExitCode = EXIT.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    // *_SECRET settings name Key Vault secrets; resolved before any command reads the environment
    await loadSecretsIntoEnv(process.env);
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
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
