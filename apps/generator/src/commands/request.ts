// `coupons request create|show|list|cancel|retry`, and the request flags `generate` shares: flags -> the one
// function that creates a generation request (@coupons/db submitGenerationRequest), nothing more.
import {
  type CouponStore,
  DEFAULT_CODE_LENGTH,
  type GenerationRequest,
  GenerationRequestError,
  type GenerationRequestField,
  GENERATION_STATUSES,
  type GenerationStatus,
  type NewGenerationRequest,
  type WaitingQueue,
  checkNewGenerationRequest,
  StoreError,
  submitGenerationRequest,
  waitingQueue,
} from "@coupons/db";
import { type Command, Option } from "commander";
import { enumArg, intArg, wholeArg } from "../args.ts";
import { formatTable, formatTime, timeZoneLabel } from "../output.ts";
import { findRequest } from "./request-id.ts";
import { withReadStore } from "./via-api.ts";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, missingEmbeddedFolder, out, printJson, withStore } from "./context.ts";

export type RequestFlags = {
  campaign: string;
  requestedAmount?: number;
  /** Alias of --requested-amount, kept for the scripts that use it. */
  amount?: number;
  prefix?: string;
  length: number;
  expires?: string;
  requestId?: string;
  requestedBy?: string;
  allowGuessable?: boolean;
};

/** The flag that sets each field, named when the field is refused. */
const FLAG: Record<GenerationRequestField, string> = {
  campaignId: "--campaign <id>",
  requestedAmount: "--requested-amount <n>",
  prefix: "--prefix <text>",
  codeLength: "--length <n>",
  expirationDate: "--expires <date>",
  requestId: "--request-id <id>",
  requestedBy: "--requested-by <who>",
  allowGuessable: "--allow-guessable",
};

export function addRequestOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--campaign <id>", "campaign the codes belong to")
    .option("--requested-amount <n>", "number of codes", wholeArg)
    .addOption(new Option("--amount <n>", "same as --requested-amount").argParser(wholeArg))
    .option("--prefix <text>", "code prefix (A-Z, 0-9, '-', '_'; upper-cased; at most 20)")
    .option("--length <n>", "random characters after the prefix", wholeArg, DEFAULT_CODE_LENGTH)
    .option("--expires <date>", "expiry of the codes: 2026-12-31 (the end of that day, UTC) or a date-time with a zone")
    .option("--request-id <id>", "id of the new request (default: a UUID)")
    .option("--requested-by <who>", "who asked for the codes")
    .option("--allow-guessable", "make the codes even if one random guess in a million or fewer would hit a valid one");
}

/** The flags as the request they ask for, checked by its own rules before any database is opened. */
export function requestInput(f: RequestFlags): NewGenerationRequest {
  if (f.requestedAmount !== undefined && f.amount !== undefined) {
    throw new GeneratorError("INVALID_ARGUMENT", "give one of --requested-amount and --amount (they are the same)");
  }
  const amount = f.requestedAmount ?? f.amount;
  if (amount === undefined)
    throw new GeneratorError("INVALID_ARGUMENT", "required option '--requested-amount <n>' (or --amount) not specified");
  const input: NewGenerationRequest = {
    campaignId: f.campaign,
    requestedAmount: amount,
    prefix: f.prefix ?? null,
    codeLength: f.length,
    expirationDate: f.expires ?? null,
    requestId: f.requestId,
    requestedBy: f.requestedBy ?? null,
    allowGuessable: f.allowGuessable === true,
  };
  named(f, () => checkNewGenerationRequest(input));
  return input;
}

/** Runs fn; a refused request is told with the flag that set the field at fault. */
function named<T>(f: RequestFlags, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw withFlag(f, err);
  }
}

function withFlag(f: RequestFlags, err: unknown): unknown {
  if (!(err instanceof GenerationRequestError)) return err;
  const flag = err.field === "requestedAmount" && f.amount !== undefined ? "--amount <n>" : FLAG[err.field];
  const code = err.feasibility
    ? "INFEASIBLE"
    : err.guessability
      ? "GUESSABLE"
      : err.code === "NOT_FOUND"
        ? "NOT_FOUND"
        : "INVALID_ARGUMENT";
  return new GeneratorError(code, `option '${flag}': ${err.message}`, { cause: err });
}

/** Creates the request the flags ask for (its rules, campaign and feasibility checked in @coupons/db). */
export async function createRequest(store: CouponStore, f: RequestFlags): Promise<GenerationRequest> {
  const input = requestInput(f);
  try {
    return await submitGenerationRequest(store, input);
  } catch (err) {
    throw withFlag(f, err);
  }
}

function percent(r: GenerationRequest): string {
  return `${((r.generatedAmount / r.requestedAmount) * 100).toFixed(1)}%`;
}

export function describeRequest(r: GenerationRequest): string {
  const lines = [
    `Request     ${r.requestId}`,
    `Campaign    ${r.campaignId}`,
    `Status      ${r.status}${r.failureReason ? ` (${r.failureReason})` : ""}`,
    `Progress    ${r.generatedAmount.toLocaleString("en-US")} of ${r.requestedAmount.toLocaleString("en-US")} (${percent(r)})`,
    `Codes       prefix "${r.prefix}" + ${r.codeLength} random characters`,
    `Expires     ${r.expirationDate ? formatTime(r.expirationDate) : "never"}`,
    `Created     ${formatTime(r.createdAt)}${r.requestedBy ? ` by ${r.requestedBy}` : ""}`,
    `Started     ${r.startedAt ? formatTime(r.startedAt) : "-"}`,
    `Completed   ${r.completedAt ? formatTime(r.completedAt) : "-"}`,
    `Worker      ${r.workerId ?? "-"}`,
  ];
  return lines.join("\n");
}

const READ_EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

export function registerRequestCommands(program: Command, ctx: CliContext): void {
  const request = program.command("request").description("Generation request commands.");
  addRequestOptions(request.command("create").description("Create a generation request (run it with `coupons run`)."))
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (o: RequestFlags) => {
      requestInput(o);
      await withStore(ctx, async (store) => {
        const r = await createRequest(store, o);
        if (ctx.globals().json) printJson(r);
        else out(`${describeRequest(r)}\n\nRun it with: coupons run --request-id ${r.requestId}`);
      });
    });
  request
    .command("show")
    .description("Show a request and its progress (GeneratedAmount is the truth while it runs; --json for JSON).")
    .argument("<id>", "request id, or a unique prefix of it (at least 8 characters)")
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (id: string) => {
      await withReadStore(ctx, async (store) => {
        const r = await findRequest(store, id);
        if (ctx.globals().json) printJson(r);
        else out(describeRequest(r));
      });
    });
  request
    .command("cancel")
    .description("Cancel a request: a worker running it stops at its next batch and keeps what it inserted.")
    .argument("<id>", "request id, or a unique prefix of it (at least 8 characters)")
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (id: string) => {
      await withStore(ctx, async (store) => {
        const r = await store.cancelGenerationRequest((await findRequest(store, id)).requestId);
        if (ctx.globals().json) printJson(r);
        else out(`${describeRequest(r)}\n\nCancelled; ${r.generatedAmount} code(s) inserted before it stopped are kept.`);
      });
    });
  request
    .command("retry")
    .description("Put a Failed or Cancelled request back in the queue (Requested) for a worker to finish.")
    .argument("<id>", "request id, or a unique prefix of it (at least 8 characters)")
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (id: string) => {
      await withStore(ctx, async (store) => {
        const before = await findRequest(store, id);
        if (before.status !== "Failed" && before.status !== "Cancelled") {
          throw new StoreError(
            "CONFLICT",
            `generation request ${before.requestId} is ${before.status}; only a Failed or Cancelled request is retried`,
          );
        }
        const r = await store.updateGenerationRequest(before.requestId, "Requested");
        if (ctx.globals().json) printJson(r);
        else out(`${describeRequest(r)}\n\nBack in the queue: a worker (coupons worker) picks it up.`);
      });
    });
  request
    .command("list")
    .description("List requests with their progress, newest first (a table with a header row; --json for JSON).")
    .option("--campaign <id>", "only this campaign's")
    .option("--status <status>", `only this status: ${GENERATION_STATUSES.join(", ")} (any letter case)`, enumArg(GENERATION_STATUSES))
    .option("--limit <n>", "at most this many", intArg(1, 1000), 100)
    .addHelpText("after", exitHelp(READ_EXITS))
    .action(async (o: { campaign?: string; status?: GenerationStatus; limit: number }) => {
      const json = ctx.globals().json;
      // nothing to list where no database exists yet: say so without creating one
      if (missingEmbeddedFolder(ctx)) return json ? printJson([]) : out("No generation requests.");
      await withReadStore(ctx, async (store) => {
        const rows = await store.listGenerationRequests({ campaignId: o.campaign, status: o.status, limit: o.limit });
        if (json) return printJson(rows);
        if (rows.length === 0) out("No generation requests.");
        else for (const line of requestTable(rows)) out(line);
        out(waitingLine(await waitingQueue(store, o.campaign), new Date()));
      });
    });
}

/** The list as a table: a header row, then one row per request, dates in UTC ISO 8601 (or --local-time). */
export function requestTable(rows: readonly GenerationRequest[]): string[] {
  return formatTable(
    ["REQUEST", "CAMPAIGN", "STATUS", "GENERATED/REQUESTED", "DONE", `CREATED (${timeZoneLabel()})`, `COMPLETED (${timeZoneLabel()})`],
    rows.map((r) => [
      r.requestId,
      r.campaignId,
      r.status,
      `${r.generatedAmount}/${r.requestedAmount}`,
      percent(r),
      formatTime(r.createdAt),
      r.completedAt ? formatTime(r.completedAt) : "-",
    ]),
  );
}

/** The queue under the table: how many wait and how long the oldest has waited. */
export function waitingLine(q: WaitingQueue, now: Date): string {
  if (q.waiting === 0 || !q.oldestCreatedAt) return "Waiting: none.";
  const count = `${q.atLeast ? "at least " : ""}${q.waiting} request(s)`;
  return `Waiting: ${count}; the oldest since ${formatTime(q.oldestCreatedAt)} (${formatAge(now.getTime() - q.oldestCreatedAt.getTime())}${q.atLeast ? " or more" : ""}).`;
}

/** A duration for people: 45s, 3m 12s, 2h 5m, 3d 4h. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
