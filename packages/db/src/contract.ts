// The CouponStore contract: what every engine (embedded PGlite, PostgreSQL, SQL Server) promises.
// Apps import only from here (through the package index); engines implement it.
//
// Glossary
// - campaign: a marketing campaign; owns coupons, limits (per user, in total) and a validity window.
// - coupon: one code of a campaign. Codes are unique across campaigns and compared case-insensitively:
//   they are stored upper-case and every input is normalised with `normalizeCode` at the edge.
// - generation request: "make N codes for campaign C with prefix P"; worked by one worker at a time
//   (a claim), lifecycle Requested -> Generating -> Generated, or Failed with a reason.
// - attempt: one call to redeem; every attempt, accepted or refused, is a RedemptionHistory row.
// - redemption: an accepted attempt: the coupon is marked redeemed and the user's and the campaign's
//   counts go up by one, in one transaction.

/** Stable, machine-readable refusal codes, in the seed's check order. The same from every engine. */
export const REFUSAL_CODES = [
  "COUPON_NOT_FOUND",
  "CAMPAIGN_INACTIVE",
  "ALREADY_REDEEMED",
  "COUPON_EXPIRED",
  "NOT_ASSIGNED_TO_USER",
  "USER_LIMIT_REACHED",
  "CAMPAIGN_LIMIT_REACHED",
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** Codes of StoreError: failures that are not redemption refusals. */
export type StoreErrorCode =
  | "INVALID_INPUT" // an argument is malformed or out of range; message names it
  | "NOT_FOUND" // the campaign / request / coupon named does not exist
  | "CONFLICT" // it exists already, or the state forbids the change (e.g. assign a redeemed coupon)
  | "REQUEST_BUSY" // another worker holds the generation request
  | "CAP_EXCEEDED" // a bulk insert would pass the request's RequestedAmount
  | "CONFIG" // the connection configuration is wrong
  | "MIGRATION" // schema migration refused (changed applied file, newer schema)
  | "IDEMPOTENCY_MISMATCH" // an idempotency key reused with a different request
  | "UNAVAILABLE"; // the database cannot be reached

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}

export type EngineName = "embedded" | "postgres" | "mssql";

export type CampaignInput = {
  campaignId: string;
  name: string;
  description?: string | null;
  startDate: Date;
  endDate: Date;
  /** Exactly one of discountPercentage (0 < p <= 100) and discountAmount (> 0). */
  discountPercentage?: number | null;
  discountAmount?: number | null;
  /** null: no limit. */
  maxRedemptionsPerUser?: number | null;
  /** null: no limit. */
  maxTotalRedemptions?: number | null;
  isActive?: boolean;
  createdBy?: string | null;
};

export type Campaign = {
  campaignId: string;
  name: string;
  description: string | null;
  startDate: Date;
  endDate: Date;
  discountPercentage: number | null;
  discountAmount: number | null;
  maxRedemptionsPerUser: number | null;
  maxTotalRedemptions: number | null;
  /** True count: the sum of the campaign's counter slots (see 0001 migration). */
  currentRedemptions: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string | null;
};

export type ActiveCampaign = Campaign & {
  /** currentRedemptions / maxTotalRedemptions * 100, 2 decimals; null without a total limit. */
  redemptionPercentage: number | null;
};

export type RedemptionStats = {
  campaignId: string;
  totalCoupons: number;
  redeemedCoupons: number;
  /** Not redeemed and not expired. */
  availableCoupons: number;
  /** Not redeemed and expired. */
  expiredCoupons: number;
};

export type CouponStatus = "available" | "assigned" | "redeemed" | "expired" | "campaign_inactive";

export type CouponDetails = {
  couponId: string;
  couponCode: string;
  campaignId: string;
  isRedeemed: boolean;
  redeemedAt: Date | null;
  redeemedBy: string | null;
  expiresAt: Date | null;
  assignedTo: string | null;
  generationBatchId: string | null;
  createdAt: Date;
  status: CouponStatus;
  campaign: Campaign;
};

export type RedeemInput = {
  code: string;
  userId: string;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** With a key, the outcome is stored in the same transaction; a retry with the same key and the
   *  same requestHash gets the stored outcome (replayed: true) and logs no new attempt; the same key
   *  with another requestHash is refused (StoreError IDEMPOTENCY_MISMATCH). */
  idempotencyKey?: string | null;
  requestHash?: string | null;
};

export type RedeemResult =
  | {
      ok: true;
      couponId: string;
      couponCode: string;
      campaignId: string;
      redeemedAt: Date;
      discountPercentage: number | null;
      discountAmount: number | null;
      replayed?: boolean;
    }
  | { ok: false; reason: RefusalCode; couponCode: string; campaignId: string | null; replayed?: boolean };

export type ValidateResult =
  | {
      ok: true;
      couponCode: string;
      campaignId: string;
      discountPercentage: number | null;
      discountAmount: number | null;
    }
  | { ok: false; reason: RefusalCode; couponCode: string; campaignId: string | null };

export type GenerationStatus = "Requested" | "Generating" | "Generated" | "Failed";

export type GenerationRequestInput = {
  requestId?: string; // generated (UUID) when absent
  campaignId: string;
  requestedAmount: number;
  prefix?: string | null;
  expirationDate?: Date | null;
  /** Length of the random part of each code. */
  codeLength?: number;
  requestedBy?: string | null;
};

export type GenerationRequest = {
  requestId: string;
  campaignId: string;
  requestedAmount: number;
  generatedAmount: number;
  prefix: string;
  codeLength: number;
  expirationDate: Date | null;
  status: GenerationStatus;
  startedAt: Date | null;
  completedAt: Date | null;
  failureReason: string | null;
  requestedBy: string | null;
  createdAt: Date;
  /** The worker that holds or last held the request. */
  workerId: string | null;
};

export type BulkInsertResult = {
  inserted: number;
  /** Codes of the batch that were not inserted because they exist already. */
  existing: string[];
  /** GeneratedAmount after this batch. */
  generatedAmount: number;
  requestedAmount: number;
};

/** A worker's exclusive hold on one generation request. Released on release() or when the
 *  worker's connection/process dies, so the next worker takes over without a person. */
export interface GenerationClaim {
  readonly request: GenerationRequest;
  /** Aborted when the hold is lost (its connection died): the worker must stop. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export type RedemptionAttempt = {
  redemptionId: string;
  couponCode: string;
  userId: string;
  campaignId: string | null;
  attemptedAt: Date;
  success: boolean;
  failureReason: string | null;
  ipAddress: string | null;
  userAgent: string | null;
};

export interface CouponStore {
  readonly engine: EngineName;

  // campaigns
  createCampaign(input: CampaignInput): Promise<Campaign>;
  getCampaign(campaignId: string): Promise<Campaign | null>;
  listActiveCampaigns(): Promise<ActiveCampaign[]>; // vw_ActiveCampaigns
  getRedemptionStats(campaignId: string): Promise<RedemptionStats | null>; // vw_RedemptionStats

  // coupons
  getCouponDetails(code: string): Promise<CouponDetails | null>; // sp_GetCouponDetails
  redeemCoupon(input: RedeemInput): Promise<RedeemResult>; // sp_RedeemCoupon
  /** The same checks as redeem, in the same order, changing and logging nothing. */
  validateCoupon(input: { code: string; userId: string }): Promise<ValidateResult>;
  assignCoupon(code: string, userId: string): Promise<CouponDetails>;
  unassignCoupon(code: string): Promise<CouponDetails>;
  listRedemptionAttempts(filter: { couponCode?: string; userId?: string; limit?: number }): Promise<RedemptionAttempt[]>;

  // generation
  createGenerationRequest(input: GenerationRequestInput): Promise<GenerationRequest>; // sp_CreateGenerationRequest
  getGenerationRequest(requestId: string): Promise<GenerationRequest | null>;
  listGenerationRequests(filter?: { campaignId?: string; status?: GenerationStatus; limit?: number }): Promise<GenerationRequest[]>;
  /** Takes the request for one worker; StoreError REQUEST_BUSY when another live worker holds it. */
  claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim>;
  /** sp_UpdateGenerationRequest: status transition with timestamps; Failed needs a reason. */
  updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason?: string | null): Promise<GenerationRequest>;
  bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult>; // sp_BulkInsertCoupons
  /** Number of coupons whose code starts with the prefix (feasibility checks). */
  countCouponsWithPrefix(prefix: string): Promise<number>;
  /** Streams codes in CouponId order, for export; constant memory. */
  streamCoupons(filter: { campaignId?: string; requestId?: string }): AsyncIterable<ExportRow>;

  /** Cheap round trip for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type ExportRow = {
  couponCode: string;
  campaignId: string;
  expiresAt: Date | null;
  generationBatchId: string | null;
  createdAt: Date;
};

/** Upper-case, trimmed: the one normalisation of coupon codes, applied at every edge. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}
