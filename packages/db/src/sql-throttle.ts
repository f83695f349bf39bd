// The PostgreSQL family's throttle calls (issue 12; database/postgres/R__0700_throttle.sql), used by
// SqlEngine (sql-store.ts) over its query function. Inputs arrive checked (store.ts).
import type { RedeemResult, ThrottledAttempts } from "./contract.ts";
import { documentOf, one, redeemResultFromJson } from "./results.ts";
import type { Row } from "./rows.ts";

type Query = (text: string, params: readonly unknown[]) => Promise<Row[]>;

/** The stored outcome of an idempotency key as its replay, or null (sp_GetIdempotentOutcome). */
export async function idempotentOutcome(q: Query, key: string, hash: string): Promise<RedeemResult | null> {
  const rows = await q("SELECT sp_GetIdempotentOutcome($1,$2) AS result", [key, hash]);
  return rows[0]?.result == null ? null : redeemResultFromJson(documentOf(rows[0]));
}

/** One batch of throttled attempts added (sp_RecordThrottledAttempts); returns the rows written. */
export async function recordThrottled(q: Query, rows: ThrottledAttempts[]): Promise<number> {
  const r = await q("SELECT sp_RecordThrottledAttempts($1::json) AS n", [JSON.stringify(rows)]);
  return Number(one(r, "sp_RecordThrottledAttempts").n);
}
