// The generator's one error class and its exit codes: every way a command can end, numbered once, and
// the one mapping from an error to an exit code that the `coupons` CLI and the ACI entry points share.
import { GenerationRequestError, StoreError } from "@coupons/db";
import { CommanderError } from "commander";

/** Process exit codes of the `coupons` CLI and of ops-main (also in --help and docs/generator.md). */
export const EXIT = {
  OK: 0,
  /** The request was marked Failed (its FailureReason says why), or an unexpected error. */
  FAILED: 1,
  /** A bad or missing argument, option or setting; nothing was written. */
  USAGE: 2,
  /** Refused: infeasible amount or guessable codes (nothing written), unknown campaign/request, a conflict with what is
   *  stored, or a request that Failed earlier. */
  REFUSED: 3,
  /** Another live worker holds the generation request. */
  BUSY: 4,
  /** Stopped by SIGTERM/SIGINT after the work in flight finished; run it again to finish. */
  INTERRUPTED: 5,
  /** The database could not be reached or the claim was lost; the request is resumable, retry later. */
  UNAVAILABLE: 6,
  /** The database has no schema or an older one (run `coupons migrate`), or does not exist. */
  NOT_MIGRATED: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One line per exit code for --help; each command lists the codes it can end with. */
const MEANING: Record<ExitCode, string> = {
  0: "done (run/generate/demo: the request is Generated)",
  1: "failed: the request was marked Failed (see its FailureReason), or an unexpected error",
  2: "usage: a bad or missing argument, option or setting; nothing was written",
  3: "refused: amount infeasible for the prefix and length, or codes easy to guess without\n     --allow-guessable (nothing written), campaign or request not found, a conflict with what is\n     stored, or the request Failed earlier (--retry-failed)",
  4: "busy: another live worker holds the generation request",
  5: "interrupted by SIGTERM/SIGINT: the work in flight finished; run it again to finish",
  6: "unavailable: the database could not be reached or the hold was lost; the request is resumable",
  7: "not migrated: the database has no schema or an older one (run `coupons migrate`), or it does\n     not exist (create it, then migrate); nothing was changed",
};

/** The exit-code table for --help, limited to the codes a command can end with. */
export function exitHelp(codes: readonly ExitCode[] = Object.values(EXIT)): string {
  return `\nExit codes:\n${codes.map((c) => `  ${c}  ${MEANING[c]}`).join("\n")}`;
}

export type GeneratorErrorCode =
  | "INVALID_ARGUMENT" // a flag or option value is wrong; message names it
  | "NOT_FOUND" // the campaign or request named does not exist
  | "INFEASIBLE" // the amount cannot be drawn from the code space at a small collision rate
  | "GUESSABLE" // the codes would be easy to guess, and --allow-guessable was not given
  | "CODE_SPACE_EXHAUSTED" // batches stopped making progress: the space is (nearly) full
  | "REQUEST_FAILED" // the request is Failed from an earlier run; retry explicitly
  | "BUSY" // another worker holds the request
  | "UNAVAILABLE" // the database is unreachable, or the hold on the request was lost
  | "FAILED"; // the run failed and the request was marked Failed

const EXIT_BY_CODE: Record<GeneratorErrorCode, ExitCode> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  NOT_FOUND: EXIT.REFUSED,
  INFEASIBLE: EXIT.REFUSED,
  GUESSABLE: EXIT.REFUSED,
  CODE_SPACE_EXHAUSTED: EXIT.FAILED,
  REQUEST_FAILED: EXIT.REFUSED,
  BUSY: EXIT.BUSY,
  UNAVAILABLE: EXIT.UNAVAILABLE,
  FAILED: EXIT.FAILED,
};

export class GeneratorError extends Error {
  readonly code: GeneratorErrorCode;
  constructor(code: GeneratorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GeneratorError";
    this.code = code;
  }
  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }
}

/** An error a reporter has shown already; the entry point only maps it to an exit code. */
export class Reported extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.original = original;
  }
}

/** Exit code for an error that ended a command, the same in every entry point. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof Reported) return exitCodeFor(err.original);
  if (err instanceof GeneratorError) return err.exitCode;
  if (err instanceof CommanderError) return EXIT.USAGE;
  // an amount that does not fit the code space is a refusal of what was asked, not a typing mistake
  if (err instanceof GenerationRequestError && (err.feasibility || err.guessability)) return EXIT.REFUSED;
  if (err instanceof StoreError) {
    switch (err.code) {
      case "INVALID_INPUT":
      case "CONFIG":
        return EXIT.USAGE;
      case "NOT_FOUND":
      case "CONFLICT":
      case "IDEMPOTENCY_MISMATCH":
        return EXIT.REFUSED;
      case "REQUEST_BUSY":
        return EXIT.BUSY;
      case "UNAVAILABLE":
        return EXIT.UNAVAILABLE;
      case "NOT_MIGRATED":
      case "NO_DATABASE":
        return EXIT.NOT_MIGRATED;
      default:
        return EXIT.FAILED;
    }
  }
  return EXIT.FAILED;
}
