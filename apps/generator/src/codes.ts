// Coupon codes: the random source and distinct batches. The rules (alphabet, prefix, length,
// feasibility) live in @coupons/db (generation-request.ts) and are re-exported here.
import { ALPHABET } from "@coupons/db";
import { customAlphabet } from "nanoid";
import { GeneratorError } from "./errors.ts";

export { ALPHABET, DEFAULT_CODE_LENGTH, MAX_COLLISION_RATE, checkFeasibility, codeSpace, type Feasibility } from "@coupons/db";

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
