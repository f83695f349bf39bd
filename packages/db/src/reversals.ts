// Reversal outcomes and user history rows, as every engine returns them (sp_ReverseRedemption's JSON
// document, sp_ListUserRedemptions' rows), turned into the contract's types.
import type { ReversalResult, UserHistoryItem } from "./contract.ts";
import { ROLLED_BACK_STATES, mapPgError } from "./errors.ts";
import { documentOf } from "./results.ts";
import { type Row, bool, date, str, strOrNull } from "./rows.ts";
import type { CheckedReverse, CheckedUserHistory } from "./validate.ts";

export function reversalResultFromJson(j: Record<string, unknown>): ReversalResult {
  return {
    reversalId: String(j.reversalId),
    redemptionId: String(j.redemptionId),
    couponCode: String(j.couponCode),
    campaignId: String(j.campaignId),
    userId: String(j.userId),
    reversedAt: new Date(String(j.reversedAt)),
    reversedBy: j.reversedBy == null ? null : String(j.reversedBy),
    reason: j.reason == null ? null : String(j.reason),
    replayed: j.replayed === true,
  };
}

const KINDS = new Set(["redemption", "attempt", "reversal"]);

export function historyItemFromRow(r: Row): UserHistoryItem {
  const kind = str(r, "Kind");
  if (!KINDS.has(kind)) throw new Error(`unknown history item kind from the database: ${kind}`);
  return {
    kind: kind as UserHistoryItem["kind"],
    cursor: str(r, "ItemCursor"),
    at: date(r, "OccurredAt"),
    redemptionId: str(r, "RedemptionId"),
    reversalId: strOrNull(r, "ReversalId"),
    couponCode: str(r, "CouponCode"),
    campaignId: strOrNull(r, "CampaignId"),
    failureReason: strOrNull(r, "FailureReason"),
    reversed: bool(r, "Reversed"),
    reason: strOrNull(r, "Reason"),
  };
}

/** How the PostgreSQL engines (sql-store.ts) run a query. */
type Executor = { query(text: string, params?: readonly unknown[]): Promise<Row[]> };

/** sp_ReverseRedemption on PostgreSQL / PGlite; a deadlock or serialization victim was rolled back
 *  whole, so the call is simply made again. */
export async function pgReverseRedemption(exec: Executor, r: CheckedReverse): Promise<ReversalResult> {
  const params = [r.redemptionId, r.clientId, r.reason, r.ipAddress, r.userAgent, r.idempotencyKey, r.requestHash];
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await exec.query("SELECT sp_ReverseRedemption($1,$2,$3,$4,$5,$6,$7) AS result", params);
      return reversalResultFromJson(documentOf(rows[0]));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && ROLLED_BACK_STATES.has(code) && attempt < 5) continue;
      throw mapPgError(err);
    }
  }
}

export async function pgListUserRedemptions(exec: Executor, f: CheckedUserHistory): Promise<UserHistoryItem[]> {
  try {
    const rows = await exec.query("SELECT * FROM sp_ListUserRedemptions($1,$2,$3,$4)", [f.userId, f.limit, f.after, f.includeAttempts]);
    return rows.map(historyItemFromRow);
  } catch (err) {
    throw mapPgError(err);
  }
}
