// Input checks of the throttle's two store calls (issue 12): getIdempotentOutcome and
// recordThrottledAttempts, used by store.ts like validate.ts's checks.
import { StoreError, THROTTLE_SUBJECT_KINDS, type ThrottleSubjectKind, type ThrottledAttempts } from "./contract.ts";
import { checkDate, checkId } from "./validate.ts";

/** Rows one recordThrottledAttempts call takes; the API's flush sends larger sets in chunks. */
export const MAX_THROTTLED_ROWS = 5000;
const MAX_SUBJECT = 200;

function fail(message: string): never {
  throw new StoreError("INVALID_INPUT", message);
}

export function checkIdempotentLookup(idempotencyKey: unknown, requestHash: unknown): [string, string] {
  const key = checkId("idempotencyKey", idempotencyKey);
  if (typeof requestHash !== "string") fail("requestHash must be a string");
  if (requestHash.length > 128) fail("requestHash must be at most 128 characters");
  return [key, requestHash];
}

/** Each row checked; the minute truncated to the minute (UTC). */
export function checkThrottledRows(rows: unknown): ThrottledAttempts[] {
  if (!Array.isArray(rows)) fail("rows must be an array of {minute, subjectKind, subject, attempts}");
  if (rows.length > MAX_THROTTLED_ROWS) fail(`rows must hold at most ${MAX_THROTTLED_ROWS} rows in one call (got ${rows.length})`);
  return rows.map((r: unknown, i) => {
    if (typeof r !== "object" || r === null) fail(`rows[${i}] must be an object`);
    const row = r as Partial<ThrottledAttempts>;
    const minute = checkDate(`rows[${i}].minute`, row.minute);
    if (!THROTTLE_SUBJECT_KINDS.includes(row.subjectKind as ThrottleSubjectKind)) {
      fail(`rows[${i}].subjectKind must be one of ${THROTTLE_SUBJECT_KINDS.join(", ")} (got ${String(row.subjectKind)})`);
    }
    const subject = row.subject;
    if (typeof subject !== "string" || subject.length === 0 || subject.length > MAX_SUBJECT || subject.trim() !== subject) {
      fail(`rows[${i}].subject must be a string of 1-${MAX_SUBJECT} characters without leading or trailing whitespace`);
    }
    const attempts = row.attempts;
    if (typeof attempts !== "number" || !Number.isSafeInteger(attempts) || attempts < 1) {
      fail(`rows[${i}].attempts must be a positive integer`);
    }
    return {
      minute: new Date(Math.floor(minute.getTime() / 60_000) * 60_000),
      subjectKind: row.subjectKind as ThrottleSubjectKind,
      subject,
      attempts,
    };
  });
}
