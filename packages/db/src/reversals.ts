// Reversal outcomes and user history rows, as every engine returns them (sp_ReverseRedemption's JSON
// document, sp_ListUserRedemptions' rows), turned into the contract's types.
import type { ReversalResult, UserHistoryItem } from "./contract.ts";
import { type Row, bool, date, str, strOrNull } from "./rows.ts";

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
