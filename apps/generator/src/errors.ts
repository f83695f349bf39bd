// The generator's one error class and its exit codes: every way a command can end, numbered once.

/** Process exit codes of the `coupons` CLI (also in --help and docs/generator.md). */
export const EXIT = {
  OK: 0,
  /** The request was marked Failed (its FailureReason says why), or an unexpected error. */
  FAILED: 1,
  /** A bad or missing argument, option or setting; nothing was written. */
  USAGE: 2,
  /** Refused: infeasible amount (nothing written), unknown campaign/request, or a request that Failed earlier. */
  REFUSED: 3,
  /** Another live worker holds the generation request. */
  BUSY: 4,
  /** Stopped by SIGTERM/SIGINT after the batches in flight finished; the request is resumable. */
  INTERRUPTED: 5,
  /** The database could not be reached or the claim was lost; the request is resumable, retry later. */
  UNAVAILABLE: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type GeneratorErrorCode =
  | "INVALID_ARGUMENT" // a flag or option value is wrong; message names it
  | "NOT_FOUND" // the campaign or request named does not exist
  | "INFEASIBLE" // the amount cannot be drawn from the code space at a small collision rate
  | "CODE_SPACE_EXHAUSTED" // batches stopped making progress: the space is (nearly) full
  | "REQUEST_FAILED" // the request is Failed from an earlier run; retry explicitly
  | "BUSY" // another worker holds the request
  | "UNAVAILABLE" // the database is unreachable, or the hold on the request was lost
  | "FAILED"; // the run failed and the request was marked Failed

const EXIT_BY_CODE: Record<GeneratorErrorCode, ExitCode> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  NOT_FOUND: EXIT.REFUSED,
  INFEASIBLE: EXIT.REFUSED,
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
