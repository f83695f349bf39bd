// Coupon codes: the alphabet, prefix and length rules, the random source, and the feasibility maths
// that refuses an amount the code space cannot supply before anything is written.
import { MAX_CODE_LENGTH, MAX_PREFIX_LENGTH, MIN_RANDOM_LENGTH, PREFIX_PATTERN } from "@coupons/db";
import { customAlphabet } from "nanoid";
import { GeneratorError } from "./errors.ts";

/** Upper case and digits without the look-alikes 0/O and 1/I/L: 8 digits + 23 letters = 31. */
export const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const DEFAULT_CODE_LENGTH = 12;
/**
 * The largest share of the code space a prefix may fill once the request is done. At that fill the
 * last codes drawn collide with this probability; on average over the run, half of it.
 */
export const MAX_COLLISION_RATE = 0.01;

export { MAX_CODE_LENGTH, MAX_PREFIX_LENGTH, MIN_RANDOM_LENGTH };

/** The prefix normalised (trimmed, upper case), or INVALID_ARGUMENT naming what is wrong. */
export function checkPrefix(prefix: string | null | undefined): string {
  const p = (prefix ?? "").trim().toUpperCase();
  if (p.length > MAX_PREFIX_LENGTH) {
    throw new GeneratorError("INVALID_ARGUMENT", `prefix must be at most ${MAX_PREFIX_LENGTH} characters (got ${p.length})`);
  }
  if (!PREFIX_PATTERN.test(p)) {
    throw new GeneratorError("INVALID_ARGUMENT", `prefix must contain only letters A-Z, digits, '-' and '_' (got "${prefix}")`);
  }
  return p;
}

/** The random part's length, checked so that prefix + random part fit the 50-character column. */
export function checkCodeLength(length: number, prefix = ""): number {
  const max = MAX_CODE_LENGTH - prefix.length;
  if (!Number.isInteger(length) || length < MIN_RANDOM_LENGTH || length > max) {
    throw new GeneratorError(
      "INVALID_ARGUMENT",
      `length must be an integer from ${MIN_RANDOM_LENGTH} to ${max} (prefix "${prefix}" + random part fit ${MAX_CODE_LENGTH} characters; got ${length})`,
    );
  }
  return length;
}

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
      (minLength === null ? "No length fits 50 characters; " : `Use a length of ${minLength} or more, `) +
      `use another prefix, or ask for at most ${fmt(maxAmount)} codes.`;
  return {
    ok,
    amount,
    existing,
    space,
    finalCollisionRate: finalRate,
    maxCollisionRate: maxRate,
    maxAmount,
    minLength,
    message,
  };
}

/** A cryptographically strong source of codes: prefix + `length` characters of ALPHABET. */
export function codeSource(prefix: string, length: number): () => string {
  const random = customAlphabet(ALPHABET, length);
  return () => prefix + random();
}

/** `n` distinct codes from the source (a batch never collides with itself). */
export function drawDistinct(next: () => string, n: number): string[] {
  const set = new Set<string>();
  // A source that cannot produce n distinct codes (tiny space) must not spin forever.
  let draws = 0;
  const maxDraws = n * 20 + 1000;
  while (set.size < n) {
    if (++draws > maxDraws) {
      throw new GeneratorError(
        "CODE_SPACE_EXHAUSTED",
        `could not draw ${n} distinct codes in ${maxDraws} tries; the code space is too small`,
      );
    }
    set.add(next());
  }
  return [...set];
}
