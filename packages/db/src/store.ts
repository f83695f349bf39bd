// The one layer in front of the engines (node-mssql's split): defineStore(engine) checks and
// normalises every input of every CouponStore method against validate.ts / limits.ts, once, and hands
// the engine values that are already valid. Engines only make calls; none re-checks an argument.
import { type ArchiveOps, runArchive } from "./archive.ts";
import {
  type ActiveCampaign,
  type ArchiveOptions,
  type ArchiveResult,
  type BulkInsertResult,
  type Campaign,
  type CampaignInput,
  type CampaignPatch,
  type CampaignState,
  type CouponDetails,
  type DeleteCampaignResult,
  type ExpireTarget,
  type CouponStore,
  type EngineName,
  type ExportRow,
  type FraudReportInput,
  type FraudReportRow,
  type GenerationClaim,
  type GenerationRequest,
  type GenerationRequestInput,
  type GenerationStatus,
  type GenerationWatch,
  type ListedCampaign,
  type RedeemInput,
  type RedeemResult,
  type RedemptionAttempt,
  type ReadRoute,
  type RedemptionStats,
  type ReversalResult,
  type ReverseInput,
  type ScaleStatus,
  type UserHistoryFilter,
  type UserHistoryItem,
  type StatsSeries,
  type StatsSeriesOptions,
  StoreError,
  type ThrottledAttempts,
  type ValidateResult,
  lastClosedQuarterEnd,
} from "./contract.ts";
import { type CheckedStatsSeries, checkStatsSeriesInput } from "./statistics.ts";
import {
  type CheckedRedeem,
  type CheckedReverse,
  type CheckedUserHistory,
  checkReverseInput,
  checkUserHistoryFilter,
  checkCampaignInput,
  checkCampaignPatch,
  checkCampaignState,
  checkExpireTarget,
  checkCode,
  checkCodes,
  checkDate,
  checkFraudReportInput,
  checkGenerationRequestInput,
  checkId,
  checkLimit,
  checkOptionalText,
  checkCodePrefix,
  checkRedeemInput,
  checkStatus,
} from "./validate.ts";
import { checkIdempotentLookup, checkThrottledRows } from "./throttle-input.ts";

export type CheckedCampaign = Required<CampaignInput>;
export type CheckedGenerationRequest = Required<GenerationRequestInput> & { requestId: string; prefix: string };
export type CheckedAttemptFilter = { couponCode: string | null; userId: string | null; limit: number };
export type CheckedRequestFilter = { campaignId: string | null; status: GenerationStatus | null; limit: number; after: string | null };
export type CheckedCampaignFilter = { state: CampaignState | null; limit: number; after: string | null };
export type CheckedExportFilter = { campaignId: string | null; requestId: string | null };

/** What an engine implements: the contract's calls with inputs already checked and normalised
 *  (codes upper-case and trimmed, optional values null, defaults filled in). */
export interface EngineOps {
  readonly engine: EngineName;
  readonly readRoute: ReadRoute;
  createCampaign(c: CheckedCampaign): Promise<Campaign>;
  getCampaign(campaignId: string): Promise<Campaign | null>;
  listActiveCampaigns(): Promise<ActiveCampaign[]>;
  getRedemptionStats(campaignId: string): Promise<RedemptionStats | null>;
  listCampaigns(f: CheckedCampaignFilter): Promise<ListedCampaign[]>;
  /** Replaces the editable fields with the checked, merged values (createdBy is not changed). */
  updateCampaign(c: CheckedCampaign): Promise<void>;
  deleteCampaign(campaignId: string, force: boolean): Promise<DeleteCampaignResult>;
  expireCoupons(code: string | null, requestId: string | null, campaignId: string | null): Promise<number>;
  getCouponDetails(code: string): Promise<CouponDetails | null>;
  redeemCoupon(r: CheckedRedeem): Promise<RedeemResult>;
  validateCoupon(code: string, userId: string): Promise<ValidateResult>;
  /** Assigns (userId) or unassigns (null); StoreError NOT_FOUND for an unknown code. */
  assignCoupon(code: string, userId: string | null): Promise<void>;
  listRedemptionAttempts(f: CheckedAttemptFilter): Promise<RedemptionAttempt[]>;
  reverseRedemption(r: CheckedReverse): Promise<ReversalResult>;
  listUserRedemptions(f: CheckedUserHistory): Promise<UserHistoryItem[]>;
  createGenerationRequest(r: CheckedGenerationRequest): Promise<GenerationRequest>;
  getGenerationRequest(requestId: string): Promise<GenerationRequest | null>;
  listGenerationRequests(f: CheckedRequestFilter): Promise<GenerationRequest[]>;
  claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim>;
  updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason: string | null): Promise<GenerationRequest>;
  bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult>;
  cancelGenerationRequest(requestId: string): Promise<GenerationRequest>;
  watchGenerationRequests(onRequested: (requestId: string) => void): Promise<GenerationWatch | null>;
  countCouponsWithPrefix(prefix: string): Promise<number>;
  streamCoupons(f: CheckedExportFilter): AsyncIterable<ExportRow>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The archive's three calls; archive.ts runs the protocol (file, state, batches) over them. */
  readonly archive: ArchiveOps;
  fraudReport(f: Required<FraudReportInput>): Promise<FraudReportRow[]>;
  getScaleStatus(archiveBefore: Date): Promise<ScaleStatus>;
  purgeIdempotencyKeys(before: Date): Promise<number>;
  getIdempotentOutcome(idempotencyKey: string, requestHash: string): Promise<RedeemResult | null>;
  /** Rows checked, minutes truncated; never empty. */
  recordThrottledAttempts(rows: ThrottledAttempts[]): Promise<number>;
  syncCampaignCounters(): Promise<number>;
  /** null for an unknown campaign. */
  getCampaignStatsSeries(campaignId: string, c: CheckedStatsSeries): Promise<StatsSeries | null>;
}

function failed(message: string): never {
  throw new StoreError("INVALID_INPUT", message);
}

const optionalId = (field: Parameters<typeof checkId>[0], value: unknown, name?: string) =>
  value === undefined || value === null ? null : checkId(field, value, name);

/** The checked CouponStore over an engine. Extra members of `engine` (an embedded store's migrate)
 *  are not part of the contract; callers that need them keep the engine. */
export function defineStore(engine: EngineOps): CouponStore {
  return {
    engine: engine.engine,
    readRoute: engine.readRoute,
    createCampaign: async (input: CampaignInput) => engine.createCampaign(checkCampaignInput(input)),
    getCampaign: async (campaignId: string) => engine.getCampaign(checkId("campaignId", campaignId)),
    listActiveCampaigns: async () => engine.listActiveCampaigns(),
    getRedemptionStats: async (campaignId: string) => engine.getRedemptionStats(checkId("campaignId", campaignId)),
    listCampaigns: async (filter: { state?: CampaignState; limit?: number; after?: string } = {}) =>
      engine.listCampaigns({
        state: filter?.state === undefined ? null : checkCampaignState(filter.state),
        limit: checkLimit(filter?.limit),
        after: optionalId("campaignId", filter?.after, "after"),
      }),
    updateCampaign: async (campaignId: string, patch: CampaignPatch) => {
      const id = checkId("campaignId", campaignId);
      const current = await engine.getCampaign(id);
      if (!current) throw new StoreError("NOT_FOUND", `campaign ${id} does not exist`);
      await engine.updateCampaign(checkCampaignPatch(current, patch));
      const updated = await engine.getCampaign(id);
      if (!updated) throw new StoreError("NOT_FOUND", `campaign ${id} does not exist`);
      return updated;
    },
    deleteCampaign: async (campaignId: string, options: { force?: boolean } = {}) => {
      const force = options?.force ?? false;
      if (typeof force !== "boolean") failed("force must be a boolean");
      return engine.deleteCampaign(checkId("campaignId", campaignId), force);
    },
    expireCoupons: async (target: ExpireTarget) => engine.expireCoupons(...checkExpireTarget(target)),
    getCouponDetails: async (code: string) => engine.getCouponDetails(checkCode(code)),
    redeemCoupon: async (input: RedeemInput) => engine.redeemCoupon(checkRedeemInput(input)),
    validateCoupon: async (input: { code: string; userId: string }) => {
      if (typeof input !== "object" || input === null) failed("the validation must be an object");
      return engine.validateCoupon(checkCode(input.code), checkId("userId", input.userId));
    },
    assignCoupon: async (code: string, userId: string) => assign(engine, checkCode(code), checkId("userId", userId)),
    unassignCoupon: async (code: string) => assign(engine, checkCode(code), null),
    listRedemptionAttempts: async (filter: { couponCode?: string; userId?: string; limit?: number }) =>
      engine.listRedemptionAttempts({
        couponCode: filter?.couponCode === undefined ? null : checkCode(filter.couponCode, "couponCode"),
        userId: optionalId("userId", filter?.userId),
        limit: checkLimit(filter?.limit),
      }),
    reverseRedemption: async (input: ReverseInput) => engine.reverseRedemption(checkReverseInput(input)),
    listUserRedemptions: async (userId: string, filter?: UserHistoryFilter) =>
      engine.listUserRedemptions(checkUserHistoryFilter(userId, filter)),
    createGenerationRequest: async (input: GenerationRequestInput) => engine.createGenerationRequest(checkGenerationRequestInput(input)),
    getGenerationRequest: async (requestId: string) => engine.getGenerationRequest(checkId("requestId", requestId)),
    listGenerationRequests: async (filter: { campaignId?: string; status?: GenerationStatus; limit?: number; after?: string } = {}) =>
      engine.listGenerationRequests({
        campaignId: optionalId("campaignId", filter.campaignId),
        status: filter.status === undefined ? null : checkStatus(filter.status),
        limit: checkLimit(filter.limit),
        after: optionalId("requestId", filter.after, "after"),
      }),
    claimGenerationRequest: async (requestId: string, workerId: string) =>
      engine.claimGenerationRequest(checkId("requestId", requestId), checkId("workerId", workerId)),
    updateGenerationRequest: async (requestId: string, status: GenerationStatus, failureReason?: string | null) => {
      const s = checkStatus(status);
      if (s === "Cancelled") failed("status Cancelled is set by cancelGenerationRequest, which stops a running worker");
      const reason = checkOptionalText("failureReason", failureReason);
      if (s === "Failed" && (reason === null || reason.trim().length === 0))
        failed("a failure reason (failureReason) must be given when the status is Failed");
      return engine.updateGenerationRequest(checkId("requestId", requestId), s, s === "Failed" ? reason : null);
    },
    bulkInsertCoupons: async (requestId: string, codes: readonly string[]) =>
      engine.bulkInsertCoupons(checkId("requestId", requestId), checkCodes(codes)),
    cancelGenerationRequest: async (requestId: string) => engine.cancelGenerationRequest(checkId("requestId", requestId)),
    watchGenerationRequests: async (onRequested: (requestId: string) => void) => {
      if (typeof onRequested !== "function") failed("onRequested must be a function");
      return engine.watchGenerationRequests(onRequested);
    },
    countCouponsWithPrefix: async (prefix: string) => engine.countCouponsWithPrefix(checkCodePrefix(prefix)),
    async *streamCoupons(filter: { campaignId?: string; requestId?: string }) {
      yield* engine.streamCoupons({
        campaignId: optionalId("campaignId", filter?.campaignId),
        requestId: optionalId("requestId", filter?.requestId),
      });
    },
    ping: async () => engine.ping(),
    close: async () => engine.close(),
    archiveRedemptionHistory: async (options: ArchiveOptions = {}): Promise<ArchiveResult> => runArchive(engine.archive, options),
    fraudReport: async (input: FraudReportInput) => engine.fraudReport(checkFraudReportInput(input)),
    getScaleStatus: async (options: { archiveBefore?: Date } = {}) =>
      engine.getScaleStatus(
        options?.archiveBefore === undefined ? lastClosedQuarterEnd() : checkDate("archiveBefore", options.archiveBefore),
      ),
    purgeIdempotencyKeys: async (before: Date) => engine.purgeIdempotencyKeys(checkDate("before", before)),
    getIdempotentOutcome: async (idempotencyKey: string, requestHash: string) =>
      engine.getIdempotentOutcome(...checkIdempotentLookup(idempotencyKey, requestHash)),
    recordThrottledAttempts: async (rows: readonly ThrottledAttempts[]) => {
      const checked = checkThrottledRows(rows);
      return checked.length === 0 ? 0 : engine.recordThrottledAttempts(checked);
    },
    syncCampaignCounters: async () => engine.syncCampaignCounters(),
    getCampaignStatsSeries: async (campaignId: string, options: StatsSeriesOptions) =>
      engine.getCampaignStatsSeries(checkId("campaignId", campaignId), checkStatsSeriesInput(options)),
  };
}

async function assign(engine: EngineOps, code: string, userId: string | null): Promise<CouponDetails> {
  await engine.assignCoupon(code, userId);
  const details = await engine.getCouponDetails(code);
  if (!details) throw new StoreError("NOT_FOUND", `coupon ${code} does not exist`);
  return details;
}
