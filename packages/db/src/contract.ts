// The CouponStore contract: what every engine (embedded PGlite, PostgreSQL, SQL Server) promises.
// (Over 350 lines on purpose: the whole contract, its types and glossary, reads as one document.)
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
// - reversal: a redemption given back (an order cancelled): a RedemptionReversals row of its own (a
//   ledger: the redemption's row is never edited); the coupon is redeemable again and both counts go
//   down by one, in one transaction, at most once per redemption.
// - client: the calling service (an API key id, or an Entra ID app id); NULL for the CLI.

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
  | "NOT_MIGRATED" // the database has no schema, or an older one: run `coupons migrate`
  | "NO_DATABASE" // the database named in the URL does not exist
  | "IDEMPOTENCY_MISMATCH" // an idempotency key reused with a different request
  | "UNAVAILABLE"; // the database cannot be reached

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** Whether `message` was written for callers and may be shown to them as it is. True for the
   *  store's own input checks and for the procedures' own refusals (both dialects); false where the
   *  message quotes a driver or SQL text (a mapped driver error), which a server shows generically. */
  readonly expose: boolean;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; expose?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.code = code;
    this.expose = options?.expose ?? options?.cause === undefined;
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

/** A campaign's state now: ended (past its end date), else paused (isActive false), else upcoming
 *  (before its start date), else active. */
export const CAMPAIGN_STATES = ["active", "upcoming", "paused", "ended"] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export type ListedCampaign = ActiveCampaign & { state: CampaignState };

/** The editable fields; an absent field keeps its value, null clears it (description, limits). Giving
 *  one discount clears the other unless both are given; after the patch exactly one must be set. */
export type CampaignPatch = {
  name?: string;
  description?: string | null;
  startDate?: Date;
  endDate?: Date;
  discountPercentage?: number | null;
  discountAmount?: number | null;
  maxRedemptionsPerUser?: number | null;
  maxTotalRedemptions?: number | null;
  /** false pauses the campaign (the next redemption is refused CAMPAIGN_INACTIVE), true resumes it. */
  isActive?: boolean;
};

export type DeleteCampaignResult = { campaignId: string; deletedCoupons: number; deletedRequests: number };

/** Exactly one of the three: one code, every code of a generation request, or of a campaign. */
export type ExpireTarget = { code: string } | { requestId: string } | { campaignId: string };

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
  /** The calling service, recorded on the attempt; only that client may reverse the redemption. */
  clientId?: string | null;
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
      /** The attempt's RedemptionHistory id: what reverseRedemption names. */
      redemptionId: string | null;
      replayed?: boolean;
    }
  | {
      ok: false;
      reason: RefusalCode;
      couponCode: string;
      campaignId: string | null;
      /** A refused attempt has an id too (it cannot be reversed). Null only in the replay of an outcome
       *  stored before migration 0012. */
      redemptionId: string | null;
      replayed?: boolean;
    };

/** Who gives which redemption back. `clientId` must be the client that redeemed (a caller without
 *  one, the CLI, may reverse any); the key and hash work as for redeemCoupon. */
export type ReverseInput = {
  redemptionId: string;
  clientId?: string | null;
  reason?: string | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  idempotencyKey?: string | null;
  requestHash?: string | null;
};

export type ReversalResult = {
  reversalId: string;
  redemptionId: string;
  couponCode: string;
  campaignId: string;
  userId: string;
  reversedAt: Date;
  /** The client id of the caller that reversed it; null for the CLI. */
  reversedBy: string | null;
  reason: string | null;
  /** True when this redemption had been reversed already (nothing changed), or an idempotent replay. */
  replayed: boolean;
};

/** One entry of a user's history: an accepted redemption, a refused attempt, or a reversal. */
export type UserHistoryItem = {
  kind: "redemption" | "attempt" | "reversal";
  /** Pass as `after` to get the items after this one. */
  cursor: string;
  /** When it was attempted, or reversed. */
  at: Date;
  redemptionId: string;
  /** Reversals: their own id. */
  reversalId: string | null;
  couponCode: string;
  campaignId: string | null;
  /** Refused attempts: the refusal code. */
  failureReason: string | null;
  /** Redemptions: whether it was reversed since; reversals: true. */
  reversed: boolean;
  /** Reversals: the reason given. */
  reason: string | null;
};

export type UserHistoryFilter = { limit?: number; after?: string; includeAttempts?: boolean };

export type ValidateResult =
  | {
      ok: true;
      couponCode: string;
      campaignId: string;
      discountPercentage: number | null;
      discountAmount: number | null;
    }
  | { ok: false; reason: RefusalCode; couponCode: string; campaignId: string | null };

/** Requested -> Generating -> Generated; Failed (with a reason) or Cancelled on the way. Failed and
 *  Cancelled requests are retried by setting them Requested again. */
export const GENERATION_STATUSES = ["Requested", "Generating", "Generated", "Failed", "Cancelled"] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

export type GenerationRequestInput = {
  requestId?: string; // generated (UUID) when absent
  campaignId: string;
  requestedAmount: number;
  prefix?: string | null;
  expirationDate?: Date | null;
  /** Length of the random part of each code. */
  codeLength?: number;
  requestedBy?: string | null;
  /** W3C traceparent of the operation that created the request; its worker continues that trace. */
  traceparent?: string | null;
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
  /** W3C traceparent of the operation that created (or resubmitted) it, null when none was traced. */
  traceparent: string | null;
};

export interface GenerationWatch {
  close(): Promise<void>;
}

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
  /** Aborted when the hold is lost (its connection died): the worker must stop. On the embedded
   *  engine the hold is the process that owns the data folder, so it is never lost while it runs. */
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
  /** Every campaign (or those in one state) by campaignId, with the live count; `after` (the last
   *  campaignId of the page before) gives the next page. */
  listCampaigns(filter?: { state?: CampaignState; limit?: number; after?: string }): Promise<ListedCampaign[]>;
  /** sp_UpdateCampaign: effective for the next redemption. CONFLICT when maxTotalRedemptions would
   *  be below the redemptions made; INVALID_INPUT for an end before the start or not one discount. */
  updateCampaign(campaignId: string, patch: CampaignPatch): Promise<Campaign>;
  /** Deletes the campaign with its coupons, requests, slots and per-user counts. CONFLICT while it
   *  has redemptions (unless force) and while a worker holds one of its generation requests. */
  deleteCampaign(campaignId: string, options?: { force?: boolean }): Promise<DeleteCampaignResult>;
  /** Sets ExpiresAt to now on the target's unredeemed, unexpired coupons; returns how many. */
  expireCoupons(target: ExpireTarget): Promise<number>;

  // coupons
  getCouponDetails(code: string): Promise<CouponDetails | null>; // sp_GetCouponDetails
  redeemCoupon(input: RedeemInput): Promise<RedeemResult>; // sp_RedeemCoupon
  /** The same checks as redeem, in the same order, changing and logging nothing. */
  validateCoupon(input: { code: string; userId: string }): Promise<ValidateResult>;
  assignCoupon(code: string, userId: string): Promise<CouponDetails>;
  unassignCoupon(code: string): Promise<CouponDetails>;
  listRedemptionAttempts(filter: { couponCode?: string; userId?: string; limit?: number }): Promise<RedemptionAttempt[]>;
  /** sp_ReverseRedemption (issue 14). NOT_FOUND: unknown id, or redeemed by another client;
   *  CONFLICT: a refused attempt, or the coupon is no longer redeemed by it (deleted, redeemed again).
   *  A second reversal of the same redemption changes nothing and returns the first (replayed). */
  reverseRedemption(input: ReverseInput): Promise<ReversalResult>;
  /** sp_ListUserRedemptions: the user's redemptions and reversals (refused attempts too with
   *  includeAttempts), newest first; `after` is the cursor of the last item of the page before. */
  listUserRedemptions(userId: string, filter?: UserHistoryFilter): Promise<UserHistoryItem[]>;

  // generation
  /** sp_CreateGenerationRequest. Creating a Failed or Cancelled request again (same id and campaign)
   *  resubmits it: edited and Requested; once it has codes only its amount may change (not below
   *  them). Any other existing id is CONFLICT. */
  createGenerationRequest(input: GenerationRequestInput): Promise<GenerationRequest>;
  getGenerationRequest(requestId: string): Promise<GenerationRequest | null>;
  /** Newest first; `after` (a requestId: the last of the page before) gives the next page. */
  listGenerationRequests(filter?: {
    campaignId?: string;
    status?: GenerationStatus;
    limit?: number;
    after?: string;
  }): Promise<GenerationRequest[]>;
  /** Takes the request for one worker; StoreError REQUEST_BUSY when another live worker holds it. */
  claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim>;
  /** sp_UpdateGenerationRequest: status transition with timestamps; Failed needs a reason. */
  updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason?: string | null): Promise<GenerationRequest>;
  /** Requested, Generating or Failed -> Cancelled (sp_CancelGenerationRequest). A worker running it
   *  stops at its next batch and keeps what it inserted. Cancelling twice changes nothing; a Generated
   *  request is refused (CONFLICT). */
  cancelGenerationRequest(requestId: string): Promise<GenerationRequest>;
  /** Calls `onRequested(requestId)` when a request becomes Requested (PostgreSQL and embedded: a
   *  NOTIFY from a trigger). Null where the engine cannot push (SQL Server): the caller polls. A
   *  missed call only delays a worker that also polls. */
  watchGenerationRequests(onRequested: (requestId: string) => void): Promise<GenerationWatch | null>;
  bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult>; // sp_BulkInsertCoupons
  /** Number of coupons whose code starts with the prefix (feasibility checks). */
  countCouponsWithPrefix(prefix: string): Promise<number>;
  /** Streams codes in CouponId order, for export; constant memory. */
  streamCoupons(filter: { campaignId?: string; requestId?: string }): AsyncIterable<ExportRow>;

  /** Cheap round trip for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // ---------------------------------------------------------------------------------------------
  // operations (issue 8): archive, fraud report, scale status, read routing.
  // Reads for analytics (listActiveCampaigns, listCampaigns, getRedemptionStats, streamCoupons,
  // listRedemptionAttempts, fraudReport, getScaleStatus) go to the read replica when one is
  // configured (COUPONS_DATABASE_READ_URL; on Azure SQL ApplicationIntent=ReadOnly); everything
  // else, and every check that must be consistent (redeem, validate, details, generation), goes to
  // the primary. A replica lags a little: analytics may miss the last moments.

  /** Where this store sends analytics reads; `onRoute` (OpenOptions) reports each routed call. */
  readonly readRoute: ReadRoute;
  /** Moves RedemptionHistory rows attempted before `before` (default: the end of the last closed
   *  quarter) to RedemptionHistoryArchive in batches, each batch atomic; optionally writes each
   *  batch to a gzip JSON-lines file first, durably. Re-runnable; after a kill at any moment and a
   *  re-run every row is in exactly one of the two tables, and in the file exactly once. */
  archiveRedemptionHistory(options?: ArchiveOptions): Promise<ArchiveResult>;
  /** Refused attempts per ip, user or campaign over [since, until): the top offenders. */
  fraudReport(input: FraudReportInput): Promise<FraudReportRow[]>;
  /** Row counts that tell an operator when to partition Coupons and when to archive history. */
  getScaleStatus(options?: { archiveBefore?: Date }): Promise<ScaleStatus>;
  /** Deletes idempotency keys created before `before`, in batches; returns how many. A retry with a
   *  purged key is a new request. */
  purgeIdempotencyKeys(before: Date): Promise<number>;

  // throttle (issue 12): what the redeem API's throttle needs of the store.
  /** The outcome sp_RedeemCoupon stored for the key, as its replay returns it (replayed: true), or
   *  null when the key has no finished outcome. One read by key on the primary; changes and logs
   *  nothing. IDEMPOTENCY_MISMATCH when the key was used with another requestHash. */
  getIdempotentOutcome(idempotencyKey: string, requestHash: string): Promise<RedeemResult | null>;
  /** Adds per-minute counts of attempts the throttle stopped (at most 5000 rows per call; rows with
   *  the same minute, kind and subject are summed); returns the rows written. fraudReport reports them. */
  recordThrottledAttempts(rows: readonly ThrottledAttempts[]): Promise<number>;

  // ---------------------------------------------------------------------------------------------
  // statistics (issue 14): the seed's Campaigns.CurrentRedemptions column, and counts over time.

  /** Copies each campaign's exact count (the sum of its counter slots) into the seed's
   *  Campaigns.CurrentRedemptions column where the two differ, and rolls the closed hours of the
   *  history up for getCampaignStatsSeries; returns how many campaigns' counts changed. The API calls
   *  it on a timer (COUPONS_COUNTER_SYNC_SECONDS); several callers at once are harmless. */
  syncCampaignCounters(): Promise<number>;
  /** Attempts and reversals of a campaign per hour or day over [since, until), every bucket present
   *  (zero-filled), oldest first; null when the campaign does not exist. An analytics read (replica). */
  getCampaignStatsSeries(campaignId: string, options: StatsSeriesOptions): Promise<StatsSeries | null>;
}

/** Who a throttled attempt was counted against: the end user, the end user's address (IPv4, or an
 *  IPv6 /64 prefix), or the calling service (its API key id). */
export const THROTTLE_SUBJECT_KINDS = ["user", "ip", "client"] as const;
export type ThrottleSubjectKind = (typeof THROTTLE_SUBJECT_KINDS)[number];

/** Attempts stopped by the throttle for one subject within one minute (truncated to the minute). */
export type ThrottledAttempts = { minute: Date; subjectKind: ThrottleSubjectKind; subject: string; attempts: number };

export const STATS_INTERVALS = ["hour", "day"] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];
/** until defaults to the end of the current hour (day), since to 48 hours (30 days) before until; at most
 *  MAX_STATS_BUCKETS buckets. */
export type StatsSeriesOptions = { interval: StatsInterval; since?: Date; until?: Date };
export const MAX_STATS_BUCKETS = 1000;
export type StatsPoint = {
  /** The bucket's start: a whole UTC hour or day. Attempts counted are those of [since, until). */
  start: Date;
  redemptions: number;
  /** Refused attempts by reason; only reasons that occurred in the bucket. */
  refusals: Partial<Record<RefusalCode, number>>;
  reversals: number;
};
export type StatsSeries = { interval: StatsInterval; since: Date; until: Date; points: StatsPoint[] };

export type ReadRoute = "primary" | "replica";
/** One routed analytics call: which connection served it. */
export type RouteEvent = { method: string; route: ReadRoute };

export type ArchiveOptions = {
  /** Move rows attempted before this time (exclusive). Default: lastClosedQuarterEnd(). */
  before?: Date;
  /** Rows per batch (one transaction each); default 5000, at most 100000. */
  batchSize?: number;
  /** Also append every moved row to this gzip JSON-lines file, written and fsynced before the rows
   *  are deleted. A state file `<file>.state.json` beside it makes a re-run after a kill exact. */
  file?: string;
  /** Stops after the batch in flight. */
  signal?: AbortSignal;
  onProgress?: (e: ArchiveProgress) => void;
  /** With `file`: awaited after each batch is durably in the file (and its state recorded), before
   *  its rows leave the history, e.g. to copy the file's new bytes to Blob storage first. If it
   *  throws, the archive stops there; a re-run moves the batch (it is in the file already). */
  afterWrite?: () => Promise<void>;
};

export type ArchiveProgress = {
  /** written: a batch is durably in the file (not yet moved); moved: a batch is in the archive table. */
  phase: "written" | "moved";
  rows: number;
  totalMoved: number;
};

export type ArchiveResult = {
  before: Date;
  /** Rows moved to RedemptionHistoryArchive by this run (recovered ones included). */
  moved: number;
  batches: number;
  file: string | null;
  /** Rows this run appended to the file. */
  fileRows: number;
  /** Rows a killed earlier run had written to the file but not moved; this run moved them. */
  recovered: number;
  /** True when the signal stopped the run before it was done. */
  stopped: boolean;
};

export type FraudDimension = "ip" | "user" | "campaign";
export const FRAUD_DIMENSIONS: readonly FraudDimension[] = ["ip", "user", "campaign"];

export type FraudReportInput = {
  since: Date;
  until: Date;
  by: FraudDimension;
  /** How many offenders, most refusals first; default 20, at most 1000. */
  top?: number;
};

export type FraudReportRow = {
  /** The ip address, user id or campaign id. */
  subject: string;
  /** Attempts in the window, accepted or refused. */
  attempts: number;
  refusals: number;
  /** Distinct codes among the refused attempts. */
  distinctCodes: number;
  /** Refusal reasons with their counts, most frequent first. */
  reasons: { reason: string; count: number }[];
  /** First and last refused or throttled attempt in the window (throttled ones to the minute). */
  firstSeen: Date;
  lastSeen: Date;
  /** Attempts the API's throttle stopped before the store (recordThrottledAttempts), counted by the
   *  minutes that start in the window; always 0 by campaign. Offenders rank by refusals + throttled. */
  throttled: number;
};

/** The seed's threshold: "partition Coupons by CampaignId if > 10M rows". */
export const PARTITION_THRESHOLD = 10_000_000;

export type ScaleStatus = {
  couponsTotal: number;
  campaigns: number;
  largestCampaign: { campaignId: string; coupons: number } | null;
  historyRows: number;
  /** History rows attempted before archiveBefore: what an archive run would move now. */
  historyRowsToArchive: number;
  archiveRows: number;
  oldestHistoryAt: Date | null;
  archiveBefore: Date;
  /** couponsTotal passed PARTITION_THRESHOLD (see docs/scaling.md for what to do). */
  partitionAdvised: boolean;
  archiveAdvised: boolean;
};

/** Start of the current quarter in UTC: the end (exclusive) of the last closed quarter. */
export function lastClosedQuarterEnd(now: Date = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), Math.floor(now.getUTCMonth() / 3) * 3, 1));
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
  // ASCII letters only: codes are A-Z, digits, '-' and '_', and full Unicode upper-casing would turn
  // a look-alike such as 'ſ' into 'S'.
  return code.trim().replace(/[a-z]+/g, (s) => s.toUpperCase());
}
