// One table of the limits every input is checked against before any engine runs (store.ts). Each text
// limit names the columns that hold the value, in both dialects; packages/db/test/limits.test.ts reads
// database/postgres and database/mssql and fails when a limit and a column disagree.

export type TextLimit = {
  /** Longest accepted value, in characters. */
  readonly max: number;
  /** "refuse": longer input is INVALID_INPUT. "truncate": audit metadata (a user agent, a failure
   *  reason) is cut to the column instead, so a long header never fails a valid redemption. */
  readonly over: "refuse" | "truncate";
  /** Table.Column of every column (both dialects) that stores the value: each is exactly `max` long. */
  readonly columns: readonly string[];
};

export const TEXT_LIMITS = {
  campaignId: {
    max: 100,
    over: "refuse",
    columns: [
      "Campaigns.CampaignId",
      "CampaignCounterSlots.CampaignId",
      "Coupons.CampaignId",
      "RedemptionHistory.CampaignId",
      "GenerationRequests.CampaignId",
      "UserRedemptions.CampaignId",
      "RedemptionHistoryArchive.CampaignId",
      "RedemptionReversals.CampaignId",
    ],
  },
  campaignName: { max: 200, over: "refuse", columns: ["Campaigns.Name"] },
  description: { max: 1000, over: "refuse", columns: ["Campaigns.Description"] },
  createdBy: { max: 100, over: "refuse", columns: ["Campaigns.CreatedBy"] },
  couponCode: {
    max: 50,
    over: "refuse",
    columns: [
      "Coupons.CouponCode",
      "RedemptionHistory.CouponCode",
      "RedemptionHistoryArchive.CouponCode",
      "RedemptionReversals.CouponCode",
    ],
  },
  userId: {
    max: 100,
    over: "refuse",
    columns: [
      "Coupons.RedeemedBy",
      "Coupons.AssignedTo",
      "RedemptionHistory.UserId",
      "UserRedemptions.UserId",
      "RedemptionHistoryArchive.UserId",
      "RedemptionReversals.UserId",
    ],
  },
  requestId: { max: 100, over: "refuse", columns: ["GenerationRequests.RequestId", "Coupons.GenerationBatchId"] },
  workerId: { max: 100, over: "refuse", columns: ["GenerationRequests.WorkerId"] },
  requestedBy: { max: 100, over: "refuse", columns: ["GenerationRequests.RequestedBy"] },
  prefix: { max: 20, over: "refuse", columns: ["GenerationRequests.Prefix"] },
  failureReason: { max: 1000, over: "truncate", columns: ["GenerationRequests.FailureReason"] },
  ipAddress: {
    max: 45,
    over: "refuse",
    columns: ["RedemptionHistory.IpAddress", "RedemptionHistoryArchive.IpAddress", "RedemptionReversals.IpAddress"],
  },
  userAgent: {
    max: 500,
    over: "truncate",
    columns: ["RedemptionHistory.UserAgent", "RedemptionHistoryArchive.UserAgent", "RedemptionReversals.UserAgent"],
  },
  /** The calling service (API key id, Entra ID app id) of an attempt or a reversal. */
  clientId: {
    max: 100,
    over: "refuse",
    columns: ["RedemptionHistory.ClientId", "RedemptionHistoryArchive.ClientId", "RedemptionReversals.ReversedBy"],
  },
  /** Why a redemption was reversed (free text). */
  reversalReason: { max: 500, over: "refuse", columns: ["RedemptionReversals.Reason"] },
  idempotencyKey: { max: 200, over: "refuse", columns: ["IdempotencyKeys.IdempotencyKey"] },
  requestHash: { max: 128, over: "refuse", columns: ["IdempotencyKeys.RequestHash"] },
} as const satisfies Record<string, TextLimit>;

export type TextField = keyof typeof TEXT_LIMITS;

/** The seed's codes are at most 50 characters, prefix included. */
export const MAX_CODE_LENGTH = TEXT_LIMITS.couponCode.max;
export const MAX_PREFIX_LENGTH = TEXT_LIMITS.prefix.max;
/** A code to look up (redeem, validate, details) may be longer than any stored code: it is then not
 *  found, and a redemption attempt is logged with its first 50 characters (fraud report). */
export const MAX_CODE_LOOKUP = 200;
/** The random part of a code: at least 4 characters (below that a campaign runs out of codes). */
export const MIN_RANDOM_LENGTH = 4;
/** Default length of the random part. */
export const DEFAULT_CODE_LENGTH = 12;
/** Prefix characters: upper-case letters, digits, dash and underscore. */
export const PREFIX_PATTERN = /^[A-Z0-9_-]*$/;

/** int columns (amounts, limits): 1 .. 2^31-1. */
export const MAX_INT = 2_147_483_647;
/** Discounts: decimal(5,2) percentage in (0, 100]; decimal(10,2) amount in (0, 10^8). */
export const MAX_DISCOUNT_PERCENTAGE = 100;
export const MAX_DISCOUNT_AMOUNT_EXCLUSIVE = 100_000_000;
/** datetime2 and timestamptz both hold these years; the checks keep to the common range. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;
/** Page sizes of listings. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/** Codes in one bulk insert (one JSON document). */
export const MAX_BULK_CODES = 100_000;

/** Identifiers and free text: no control characters (Cc), no unpaired surrogates (Cs), no format
 *  characters (Cf: zero-width spaces and joiners, bidi overrides) that make two ids look alike. */
export const FORBIDDEN_CHARACTERS = /[\p{Cc}\p{Cs}\p{Cf}]/u;
