// Creating a generation request: the one function every caller uses (the `coupons` CLI's `request
// create`, `generate` and `demo`, the API's POST /v1/generation-requests). It owns the request's rules:
// the prefix is upper-cased, the code length fits the column, the amount is feasible for the code
// space (the collision-odds check, with numbers that say what would work), the codes are not easy
// to guess (unless the operator says so explicitly: allowGuessable), and the expiry is a date
// with a zone or a whole UTC day (its end), not in the past. Every refusal is a StoreError naming the
// field, and nothing is written.
import { type CouponStore, type GenerationRequest, StoreError, type StoreErrorCode } from "./contract.ts";
import { DEFAULT_CODE_LENGTH, MAX_CODE_LENGTH, MAX_INT, MAX_PREFIX_LENGTH, MIN_RANDOM_LENGTH, PREFIX_PATTERN } from "./limits.ts";

/** The characters of a code's random part: upper case and digits without the look-alikes 0/O and 1/I/L. */
export const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/**
 * The largest share of the code space a prefix may fill once the request is done. At that fill the
 * last codes drawn collide with this probability; on average over the run, half of it.
 */
export const MAX_COLLISION_RATE = 0.01;

// ---------------------------------------------------------------------------------------------
// dates

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function realDay(y: string, m: string, d: string): boolean {
  // V8 rolls a day past the month's end over ("2030-02-30" is 2 March): refuse it instead
  const t = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return t.getUTCFullYear() === Number(y) && t.getUTCMonth() === Number(m) - 1 && t.getUTCDate() === Number(d);
}

/**
 * A date as a person writes it: `2026-12-31` is that whole day in UTC (its first millisecond for
 * `dateOnly: "start"`, its last for `"end"`), `2026-12-31T23:59:59Z` or `…+02:00` is that instant. A
 * date-time without a zone is refused: it would mean a different instant on every machine.
 * Throws RangeError with the reason (the caller names the field or flag).
 */
export function parseDateText(text: string, dateOnly: "start" | "end" = "start"): Date {
  const t = text.trim();
  const day = DATE_ONLY.exec(t);
  if (day) {
    const [, y = "", m = "", d = ""] = day;
    if (realDay(y, m, d)) {
      const start = Date.UTC(Number(y), Number(m) - 1, Number(d));
      return new Date(dateOnly === "start" ? start : start + 86_400_000 - 1);
    }
  }
  const dt = DATE_TIME.exec(t);
  if (dt && !dt[7]) {
    throw new RangeError(`must name its zone: add Z for UTC or an offset like +02:00 (got "${t}"); a date-time without one is refused`);
  }
  const parsed = new Date(t);
  if (!dt || !realDay(dt[1] ?? "", dt[2] ?? "", dt[3] ?? "") || Number.isNaN(parsed.getTime())) {
    throw new RangeError(`must be an ISO 8601 date, e.g. 2026-12-31 (a whole day, UTC) or 2026-12-31T23:59:59Z (got "${t}")`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// feasibility

/** How many distinct random parts of this length exist (a float: 31^50 is far past 2^53). */
export function codeSpace(length: number): number {
  return ALPHABET.length ** length;
}

export type Feasibility = {
  ok: boolean;
  /** Codes still to make. */
  amount: number;
  /** Codes that exist already and start with the prefix (they share, or may share, the space). */
  existing: number;
  space: number;
  /** (existing + amount) / space: the collision probability of the last draws. */
  finalCollisionRate: number;
  maxCollisionRate: number;
  /** The most codes this prefix and length can still take within the limit. */
  maxAmount: number;
  /** The shortest length that would take the amount, or null when none fits 50 characters. */
  minLength: number | null;
  message: string;
};

const fmt = (n: number) => (n >= 1e15 ? n.toExponential(2) : Math.floor(n).toLocaleString("en-US"));
const pct = (r: number) => `${(r * 100).toPrecision(3)}%`;

/**
 * Can `amount` more codes be drawn for `prefix` + `length` random characters, given `existing` codes
 * with that prefix, while the collision rate stays at most `maxCollisionRate`? Counting every code
 * with the prefix, whatever its length, errs on the side of refusing.
 */
export function checkFeasibility(input: {
  amount: number;
  existing: number;
  prefix: string;
  length: number;
  maxCollisionRate?: number;
}): Feasibility {
  const { amount, existing, prefix, length } = input;
  const maxRate = input.maxCollisionRate ?? MAX_COLLISION_RATE;
  const space = codeSpace(length);
  const finalRate = (existing + amount) / space;
  const maxAmount = Math.max(0, Math.floor(space * maxRate) - existing);
  let minLength: number | null = null;
  for (let l = MIN_RANDOM_LENGTH; l <= MAX_CODE_LENGTH - prefix.length; l++) {
    if ((existing + amount) / codeSpace(l) <= maxRate) {
      minLength = l;
      break;
    }
  }
  const ok = finalRate <= maxRate;
  const what = `${fmt(amount)} codes with prefix "${prefix}" and ${length} random characters`;
  const message = ok
    ? `${what}: ${fmt(space)} possible codes, ${fmt(existing)} exist with that prefix; the last codes collide ${pct(finalRate)} of the time`
    : `${what} cannot be generated: the alphabet of ${ALPHABET.length} characters gives ${fmt(space)} possible codes, ` +
      `${fmt(existing)} exist already with that prefix, so the last codes would collide ${pct(finalRate)} of the time ` +
      `(the limit is ${pct(maxRate)}). ` +
      (minLength === null ? `No length fits ${MAX_CODE_LENGTH} characters; ` : `Use a length of ${minLength} or more, `) +
      `use another prefix, or ask for at most ${fmt(maxAmount)} codes.`;
  return { ok, amount, existing, space, finalCollisionRate: finalRate, maxCollisionRate: maxRate, maxAmount, minLength, message };
}

// ---------------------------------------------------------------------------------------------
// guessability

/**
 * The highest chance that one random guess of a code (prefix + random part) is a valid one, above
 * which a request is refused unless the operator allows it explicitly: codes are bearer secrets,
 * and a throttle only slows guessing down.
 */
export const MAX_GUESS_ODDS = 1e-6;

export type Guessability = {
  ok: boolean;
  /** (existing + amount) / space: the chance one random guess hits a valid code. */
  odds: number;
  maxOdds: number;
  /** The shortest length that keeps the odds within the limit, or null when none fits 50 characters. */
  minLength: number | null;
  message: string;
};

/** Would `existing` + `amount` codes of `prefix` + `length` random characters be too easy to guess? */
export function checkGuessability(input: { amount: number; existing: number; prefix: string; length: number }): Guessability {
  const { amount, existing, prefix, length } = input;
  const space = codeSpace(length);
  const odds = (existing + amount) / space;
  let minLength: number | null = null;
  for (let l = MIN_RANDOM_LENGTH; l <= MAX_CODE_LENGTH - prefix.length; l++) {
    if ((existing + amount) / codeSpace(l) <= MAX_GUESS_ODDS) {
      minLength = l;
      break;
    }
  }
  const ok = odds <= MAX_GUESS_ODDS;
  const oneIn = `one random guess in ${fmt(Math.max(1, 1 / odds))}`;
  const message =
    `${length} random characters make the codes easy to guess: ${fmt(existing)} existing and ${fmt(amount)} requested codes ` +
    `${prefix === "" ? "without a prefix" : `with prefix "${prefix}"`} among ${fmt(space)} possible ones, so ${oneIn} would hit a valid code ` +
    `(the limit is one in ${fmt(1 / MAX_GUESS_ODDS)}). ` +
    (minLength === null ? "" : `Use a length of ${minLength} or more, `) +
    "or accept it explicitly (allowGuessable: true; the CLI's --allow-guessable)";
  return { ok, odds, maxOdds: MAX_GUESS_ODDS, minLength, message };
}

// ---------------------------------------------------------------------------------------------
// the request

/** What a caller asks for. `requestedAmount` is the one name of the amount (the stored field too). */
export type NewGenerationRequest = {
  campaignId: string;
  requestedAmount: number;
  /** Upper-cased; A-Z, 0-9, '-' and '_'; default none. */
  prefix?: string | null;
  /** Random characters after the prefix (default DEFAULT_CODE_LENGTH). */
  codeLength?: number;
  /** A Date, or text as parseDateText reads it (a whole day means its end); must be in the future. */
  expirationDate?: Date | string | null;
  requestId?: string;
  requestedBy?: string | null;
  /** Make codes that are easy to guess (checkGuessability) all the same; default false. Not stored. */
  allowGuessable?: boolean;
  /** W3C traceparent of the operation creating it (the worker continues that trace). */
  traceparent?: string | null;
};

export type CheckedNewGenerationRequest = {
  campaignId: string;
  requestedAmount: number;
  prefix: string;
  codeLength: number;
  expirationDate: Date | null;
  requestId?: string;
  requestedBy: string | null;
  traceparent?: string | null;
};

/** The fields a person gives (the traceparent is set by the program, never refused by name). */
export type GenerationRequestField = Exclude<keyof NewGenerationRequest, "traceparent">;

/** A refused generation request: `field` names the input at fault; `feasibility` is set when the amount
 *  does not fit the code space, `guessability` when the codes would be easy to guess. The message
 *  starts with the field's name. */
export class GenerationRequestError extends StoreError {
  readonly field: GenerationRequestField;
  readonly feasibility?: Feasibility;
  readonly guessability?: Guessability;
  constructor(
    field: GenerationRequestField,
    message: string,
    options: { code?: StoreErrorCode; feasibility?: Feasibility; guessability?: Guessability } = {},
  ) {
    super(options.code ?? "INVALID_INPUT", `${field} ${message}`);
    this.name = "GenerationRequestError";
    this.field = field;
    this.feasibility = options.feasibility;
    this.guessability = options.guessability;
  }
}

function refuse(field: GenerationRequestField, message: string): never {
  throw new GenerationRequestError(field, message);
}

/** The request's own rules, without the database: what a caller can be told before anything is opened. */
export function checkNewGenerationRequest(input: NewGenerationRequest, now: Date = new Date()): CheckedNewGenerationRequest {
  if (typeof input !== "object" || input === null) throw new StoreError("INVALID_INPUT", "the generation request must be an object");
  if (typeof input.campaignId !== "string" || input.campaignId.trim() === "") refuse("campaignId", "must be a non-empty string");
  const amount = input.requestedAmount;
  if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 1 || amount > MAX_INT) {
    refuse("requestedAmount", `must be an integer from 1 to ${MAX_INT} (got ${String(amount)})`);
  }
  const rawPrefix = input.prefix ?? "";
  if (typeof rawPrefix !== "string") refuse("prefix", "must be a string");
  const prefix = rawPrefix.trim().toUpperCase();
  if (prefix.length > MAX_PREFIX_LENGTH) refuse("prefix", `must be at most ${MAX_PREFIX_LENGTH} characters (got ${prefix.length})`);
  if (!PREFIX_PATTERN.test(prefix)) refuse("prefix", `must contain only letters A-Z, digits, '-' and '_' (got "${rawPrefix}")`);
  const codeLength = input.codeLength ?? DEFAULT_CODE_LENGTH;
  const maxLength = MAX_CODE_LENGTH - prefix.length;
  if (typeof codeLength !== "number" || !Number.isInteger(codeLength) || codeLength < MIN_RANDOM_LENGTH || codeLength > maxLength) {
    refuse(
      "codeLength",
      `must be an integer from ${MIN_RANDOM_LENGTH} to ${maxLength} (prefix "${prefix}" + random part fit ${MAX_CODE_LENGTH} characters; got ${String(codeLength)})`,
    );
  }
  let expirationDate: Date | null = null;
  const e = input.expirationDate;
  if (e instanceof Date) {
    if (Number.isNaN(e.getTime())) refuse("expirationDate", "must be a valid date");
    expirationDate = e;
  } else if (typeof e === "string") {
    try {
      expirationDate = parseDateText(e, "end");
    } catch (err) {
      refuse("expirationDate", (err as Error).message);
    }
  } else if (e !== undefined && e !== null) refuse("expirationDate", "must be a date");
  if (input.allowGuessable !== undefined && typeof input.allowGuessable !== "boolean") refuse("allowGuessable", "must be true or false");
  if (expirationDate && expirationDate.getTime() <= now.getTime()) {
    refuse("expirationDate", `must be in the future (got ${expirationDate.toISOString()}, now ${now.toISOString()})`);
  }
  return {
    campaignId: input.campaignId,
    requestedAmount: amount,
    prefix,
    codeLength,
    expirationDate,
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
    requestedBy: input.requestedBy ?? null,
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
  };
}

/**
 * Checks a new generation request (its rules, its campaign, its feasibility against the codes that
 * exist with its prefix) and creates it. Refusals are GenerationRequestError (INVALID_INPUT; NOT_FOUND
 * for an unknown campaign) and write nothing; ids and free text are checked by the store as always.
 */
export async function submitGenerationRequest(
  store: CouponStore,
  input: NewGenerationRequest,
  options: { now?: Date; maxCollisionRate?: number } = {},
): Promise<GenerationRequest> {
  const r = checkNewGenerationRequest(input, options.now);
  if (!(await store.getCampaign(r.campaignId))) {
    throw new GenerationRequestError("campaignId", `names no campaign: ${r.campaignId} does not exist; create the campaign first`, {
      code: "NOT_FOUND",
    });
  }
  const existing = await store.countCouponsWithPrefix(r.prefix);
  const f = checkFeasibility({
    amount: r.requestedAmount,
    existing,
    prefix: r.prefix,
    length: r.codeLength,
    maxCollisionRate: options.maxCollisionRate,
  });
  if (!f.ok) throw new GenerationRequestError("requestedAmount", `is infeasible: ${f.message}`, { feasibility: f });
  if (input.allowGuessable !== true) {
    const g = checkGuessability({ amount: r.requestedAmount, existing, prefix: r.prefix, length: r.codeLength });
    if (!g.ok) throw new GenerationRequestError("codeLength", `is too short: ${g.message}`, { guessability: g });
  }
  return store.createGenerationRequest(r);
}
