// Row mapping shared by the SQL engines: drivers return numbers, bigints and dates in different
// shapes (pg: int8 and numeric as strings; PGlite: numbers; mssql: Date and number), and column
// names folded to lower case by PostgreSQL. Everything is normalised here into the contract types.
import { type FraudReportRow, PARTITION_THRESHOLD, type ScaleStatus } from "./contract.ts";
import type {
  Campaign,
  ActiveCampaign,
  CampaignState,
  GenerationRequest,
  ListedCampaign,
  GenerationStatus,
  RedemptionAttempt,
  RedemptionStats,
  CouponDetails,
  CouponStatus,
} from "./contract.ts";

export type Row = Record<string, unknown>;

/** Reads a column whatever case the engine returned it in. */
function col(row: Row, name: string): unknown {
  if (name in row) return row[name];
  const lower = name.toLowerCase();
  if (lower in row) return row[lower];
  for (const k of Object.keys(row)) if (k.toLowerCase() === lower) return row[k];
  return undefined;
}

export const str = (row: Row, name: string): string => String(col(row, name));
export const strOrNull = (row: Row, name: string): string | null => {
  const v = col(row, name);
  return v === null || v === undefined ? null : String(v);
};
export const num = (row: Row, name: string): number => Number(col(row, name));
export const numOrNull = (row: Row, name: string): number | null => {
  const v = col(row, name);
  return v === null || v === undefined ? null : Number(v);
};
export const bool = (row: Row, name: string): boolean => {
  const v = col(row, name);
  return v === true || v === 1 || v === "t" || v === "true";
};
export const date = (row: Row, name: string): Date => toDate(col(row, name));
export const dateOrNull = (row: Row, name: string): Date | null => {
  const v = col(row, name);
  return v === null || v === undefined ? null : toDate(v);
};
function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}

export function campaignFromRow(r: Row): Campaign {
  return {
    campaignId: str(r, "CampaignId"),
    name: str(r, "Name"),
    description: strOrNull(r, "Description"),
    startDate: date(r, "StartDate"),
    endDate: date(r, "EndDate"),
    discountPercentage: numOrNull(r, "DiscountPercentage"),
    discountAmount: numOrNull(r, "DiscountAmount"),
    maxRedemptionsPerUser: numOrNull(r, "MaxRedemptionsPerUser"),
    maxTotalRedemptions: numOrNull(r, "MaxTotalRedemptions"),
    currentRedemptions: num(r, "CurrentRedemptions"),
    isActive: bool(r, "IsActive"),
    createdAt: date(r, "CreatedAt"),
    updatedAt: date(r, "UpdatedAt"),
    createdBy: strOrNull(r, "CreatedBy"),
  };
}

export function activeCampaignFromRow(r: Row): ActiveCampaign {
  return { ...campaignFromRow(r), redemptionPercentage: numOrNull(r, "RedemptionPercentage") };
}

export function listedCampaignFromRow(r: Row): ListedCampaign {
  return { ...activeCampaignFromRow(r), state: str(r, "State") as CampaignState };
}

export function statsFromRow(r: Row): RedemptionStats {
  return {
    campaignId: str(r, "CampaignId"),
    totalCoupons: num(r, "TotalCoupons"),
    redeemedCoupons: num(r, "RedeemedCoupons"),
    availableCoupons: num(r, "AvailableCoupons"),
    expiredCoupons: num(r, "ExpiredCoupons"),
  };
}

export function requestFromRow(r: Row): GenerationRequest {
  return {
    requestId: str(r, "RequestId"),
    campaignId: str(r, "CampaignId"),
    requestedAmount: num(r, "RequestedAmount"),
    generatedAmount: num(r, "GeneratedAmount"),
    prefix: strOrNull(r, "Prefix") ?? "",
    codeLength: num(r, "CodeLength"),
    expirationDate: dateOrNull(r, "ExpirationDate"),
    status: str(r, "Status") as GenerationStatus,
    startedAt: dateOrNull(r, "StartedAt"),
    completedAt: dateOrNull(r, "CompletedAt"),
    failureReason: strOrNull(r, "FailureReason"),
    requestedBy: strOrNull(r, "RequestedBy"),
    createdAt: date(r, "CreatedAt"),
    workerId: strOrNull(r, "WorkerId"),
    traceparent: strOrNull(r, "Traceparent"),
  };
}

export function attemptFromRow(r: Row): RedemptionAttempt {
  return {
    redemptionId: str(r, "RedemptionId"),
    couponCode: str(r, "CouponCode"),
    userId: str(r, "UserId"),
    campaignId: strOrNull(r, "CampaignId"),
    attemptedAt: date(r, "AttemptedAt"),
    success: bool(r, "Success"),
    failureReason: strOrNull(r, "FailureReason"),
    ipAddress: strOrNull(r, "IpAddress"),
    userAgent: strOrNull(r, "UserAgent"),
  };
}

/** Coupon columns plus Status, with the campaign given separately. */
export function couponDetailsFromRow(r: Row, campaign: Campaign): CouponDetails {
  return {
    couponId: str(r, "CouponId"),
    couponCode: str(r, "CouponCode"),
    campaignId: str(r, "CampaignId"),
    isRedeemed: bool(r, "IsRedeemed"),
    redeemedAt: dateOrNull(r, "RedeemedAt"),
    redeemedBy: strOrNull(r, "RedeemedBy"),
    expiresAt: dateOrNull(r, "ExpiresAt"),
    assignedTo: strOrNull(r, "AssignedTo"),
    generationBatchId: strOrNull(r, "GenerationBatchId"),
    createdAt: date(r, "CreatedAt"),
    status: str(r, "Status") as CouponStatus,
    campaign,
  };
}

/** A sp_FraudReport row; Reasons is a JSON array of {reason, n} (jsonb on PostgreSQL, text on SQL Server). */
export function fraudRowFromRow(r: Row): FraudReportRow {
  const raw = col(r, "Reasons");
  const reasons = (typeof raw === "string" ? JSON.parse(raw) : (raw ?? [])) as { reason: string; n: number | string }[];
  return {
    subject: str(r, "Subject"),
    attempts: num(r, "Attempts"),
    refusals: num(r, "Refusals"),
    distinctCodes: num(r, "DistinctCodes"),
    reasons: reasons.map((x) => ({ reason: String(x.reason), count: Number(x.n) })),
    firstSeen: date(r, "FirstSeen"),
    lastSeen: date(r, "LastSeen"),
    throttled: num(r, "Throttled"),
  };
}

/** A sp_GetScaleStatus row plus the advice drawn from it. */
export function scaleStatusFromRow(r: Row, archiveBefore: Date): ScaleStatus {
  const largestId = strOrNull(r, "LargestCampaignId");
  const couponsTotal = num(r, "CouponsTotal");
  const historyRowsToArchive = num(r, "HistoryRowsToArchive");
  return {
    couponsTotal,
    campaigns: num(r, "Campaigns"),
    largestCampaign: largestId === null ? null : { campaignId: largestId, coupons: num(r, "LargestCampaignCoupons") },
    historyRows: num(r, "HistoryRows"),
    historyRowsToArchive,
    archiveRows: num(r, "ArchiveRows"),
    oldestHistoryAt: dateOrNull(r, "OldestHistoryAt"),
    archiveBefore,
    partitionAdvised: couponsTotal > PARTITION_THRESHOLD,
    archiveAdvised: historyRowsToArchive > 0,
  };
}
