// Redeem and validate outcomes come back from every engine as one JSON document (the same document
// an idempotent replay returns); this turns it into the contract's result types.
import type { Row } from "./rows.ts";
import { REFUSAL_CODES, type RedeemResult, type RefusalCode, type ValidateResult } from "./contract.ts";

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function reasonOf(v: unknown): RefusalCode {
  if (!REFUSAL_CODES.includes(v as RefusalCode)) throw new Error(`unknown refusal reason from the database: ${String(v)}`);
  return v as RefusalCode;
}

export function redeemResultFromJson(j: Record<string, unknown>): RedeemResult {
  const replayed = j.replayed === true;
  // absent only from outcomes an idempotency key stored before migration 0012
  const redemptionId = j.redemptionId == null ? null : String(j.redemptionId);
  if (j.ok === true) {
    return {
      ok: true,
      couponId: String(j.couponId),
      couponCode: String(j.couponCode),
      campaignId: String(j.campaignId),
      redeemedAt: new Date(String(j.redeemedAt)),
      discountPercentage: num(j.discountPercentage),
      discountAmount: num(j.discountAmount),
      redemptionId,
      replayed,
    };
  }
  return {
    ok: false,
    reason: reasonOf(j.reason),
    couponCode: String(j.couponCode),
    campaignId: j.campaignId == null ? null : String(j.campaignId),
    redemptionId,
    replayed,
  };
}

export function validateResultFromJson(j: Record<string, unknown>): ValidateResult {
  if (j.ok === true) {
    return {
      ok: true,
      couponCode: String(j.couponCode),
      campaignId: String(j.campaignId),
      discountPercentage: num(j.discountPercentage),
      discountAmount: num(j.discountAmount),
    };
  }
  return {
    ok: false,
    reason: reasonOf(j.reason),
    couponCode: String(j.couponCode),
    campaignId: j.campaignId == null ? null : String(j.campaignId),
  };
}

/** The first row of a procedure that always returns one. */
export function one(rows: Row[], what: string): Row {
  const r = rows[0];
  if (!r) throw new Error(`${what} returned no row`);
  return r;
}

/** The `result` column's JSON document: parsed already (pg, PGlite jsonb) or text (SQL Server). */
export function documentOf(row: Row | undefined): Record<string, unknown> {
  const v = row?.result;
  if (typeof v === "string") return JSON.parse(v) as Record<string, unknown>;
  if (v === null || typeof v !== "object") throw new Error("the procedure returned no result document");
  return v as Record<string, unknown>;
}
