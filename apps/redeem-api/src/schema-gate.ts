// Whether the database's schema is the one this version calls: checked at start and by /readyz, so an
// API on a database that was never migrated (or migrated by an older version) says so — /readyz 503
// NOT_READY with the reason — instead of answering ready and failing every call. Once found current it
// stays so (migrations only move forward); a problem is checked again at most every RECHECK_MS, so the
// API becomes ready by itself after `coupons migrate`. Calls that meet a missing procedure answer 503
// NOT_MIGRATED on their own (the store maps the database's error).
import { type SchemaCheck, StoreError } from "@coupons/db";

const RECHECK_MS = 5_000;

export type SchemaGate = {
  /** The current problem (null: ready), checking again when the last answer is old enough. */
  problem(): Promise<StoreError | null>;
};

/** `check` resolves "unreachable" when it could not ask (asked again later), else "current" or
 *  "unreadable" (this login may not read the records: nothing more to learn). */
export function createSchemaGate(check: () => Promise<SchemaCheck>, now: () => number = Date.now): SchemaGate {
  let current = false;
  let last: { at: number; problem: StoreError | null } | undefined;
  let running: Promise<StoreError | null> | undefined;
  const run = async (): Promise<StoreError | null> => {
    try {
      current = (await check()) !== "unreachable";
      return null;
    } catch (err) {
      if (err instanceof StoreError) return err;
      return new StoreError("UNAVAILABLE", `the schema check failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  };
  return {
    async problem() {
      if (current) return null;
      if (last && now() - last.at < RECHECK_MS) return last.problem;
      running ??= run().finally(() => {
        running = undefined;
      });
      const problem = await running;
      last = { at: now(), problem };
      return problem;
    },
  };
}
