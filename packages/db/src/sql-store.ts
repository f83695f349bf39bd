// The CouponStore over the PostgreSQL functions of database/postgres, shared by the postgres (pg
// pool) and embedded (PGlite) engines: they differ only in how a query runs, how a generation claim
// is held, and how they close.
import {
  type ActiveCampaign,
  type ArchiveOptions,
  type ArchiveResult,
  type BulkInsertResult,
  type Campaign,
  type CampaignInput,
  type CouponDetails,
  type CouponStore,
  type EngineName,
  type ExportRow,
  type FraudReportInput,
  type FraudReportRow,
  type GenerationClaim,
  type GenerationRequest,
  type GenerationRequestInput,
  type GenerationStatus,
  type RedeemInput,
  type RedeemResult,
  type RedemptionAttempt,
  type ReadRoute,
  type RedemptionStats,
  type RouteEvent,
  type ScaleStatus,
  type ValidateResult,
  StoreError,
  lastClosedQuarterEnd,
  normalizeCode,
} from "./contract.ts";
import { runArchive } from "./archive.ts";
import { mapPgError } from "./errors.ts";
import {
  type Row,
  activeCampaignFromRow,
  attemptFromRow,
  campaignFromRow,
  couponDetailsFromRow,
  fraudRowFromRow,
  requestFromRow,
  scaleStatusFromRow,
  statsFromRow,
} from "./rows.ts";
import {
  checkBefore,
  checkCampaignInput,
  checkCode,
  checkFraudReportInput,
  checkGenerationRequestInput,
  checkId,
  checkLimit,
  checkOptionalText,
  checkStatus,
} from "./validate.ts";
import { exportPages, purgeInBatches } from "./paging.ts";
import { documentOf, one, redeemResultFromJson, validateResultFromJson } from "./results.ts";

export interface SqlExecutor {
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export type SqlEngineParts = {
  engine: EngineName;
  exec: SqlExecutor;
  /** The read replica's connection for analytics reads; absent: they go to `exec`. */
  read?: SqlExecutor;
  onRoute?: (e: RouteEvent) => void;
  claim(requestId: string, workerId: string): Promise<GenerationClaim>;
  close(): Promise<void>;
};

export class SqlCouponStore implements CouponStore {
  readonly engine: EngineName;
  readonly readRoute: ReadRoute;
  readonly #parts: SqlEngineParts;

  constructor(parts: SqlEngineParts) {
    this.engine = parts.engine;
    this.readRoute = parts.read ? "replica" : "primary";
    this.#parts = parts;
  }

  async #q(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      return await this.#parts.exec.query(text, params);
    } catch (err) {
      throw mapPgError(err);
    }
  }

  /** An analytics read: to the replica when there is one (see the contract's operations section). */
  async #read(method: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.#parts.onRoute?.({ method, route: this.readRoute });
    try {
      return await (this.#parts.read ?? this.#parts.exec).query(text, params);
    } catch (err) {
      throw mapPgError(err);
    }
  }

  async createCampaign(input: CampaignInput): Promise<Campaign> {
    const c = checkCampaignInput(input);
    await this.#q("SELECT 1 FROM sp_CreateCampaign($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", [
      c.campaignId,
      c.name,
      c.description,
      c.startDate,
      c.endDate,
      c.discountPercentage,
      c.discountAmount,
      c.maxRedemptionsPerUser,
      c.maxTotalRedemptions,
      c.isActive,
      c.createdBy,
    ]);
    const created = await this.getCampaign(c.campaignId);
    if (!created) throw new StoreError("NOT_FOUND", `campaign ${c.campaignId} vanished after it was created`);
    return created;
  }

  async getCampaign(campaignId: string): Promise<Campaign | null> {
    const rows = await this.#q("SELECT * FROM sp_GetCampaign($1)", [checkId("campaignId", campaignId)]);
    return rows[0] ? campaignFromRow(rows[0]) : null;
  }

  async listActiveCampaigns(): Promise<ActiveCampaign[]> {
    return (await this.#read("listActiveCampaigns", "SELECT * FROM sp_GetActiveCampaigns()")).map(activeCampaignFromRow);
  }

  async getRedemptionStats(campaignId: string): Promise<RedemptionStats | null> {
    const rows = await this.#read("getRedemptionStats", "SELECT * FROM sp_GetRedemptionStats($1)", [checkId("campaignId", campaignId)]);
    return rows[0] ? statsFromRow(rows[0]) : null;
  }

  async getCouponDetails(code: string): Promise<CouponDetails | null> {
    const rows = await this.#q("SELECT * FROM sp_GetCouponDetails($1)", [normalizeCode(checkCode(code))]);
    const r = rows[0];
    if (!r) return null;
    const campaignJson = (r.campaignjson ?? r.CampaignJson) as Row;
    return couponDetailsFromRow(r, campaignFromRow(campaignJson));
  }

  async redeemCoupon(input: RedeemInput): Promise<RedeemResult> {
    const params = [
      normalizeCode(checkCode(input.code)),
      checkId("userId", input.userId),
      checkOptionalText("ipAddress", input.ipAddress, 45),
      checkOptionalText("userAgent", input.userAgent, 4000),
      input.idempotencyKey == null ? null : checkId("idempotencyKey", input.idempotencyKey, 200),
      checkOptionalText("requestHash", input.requestHash, 128),
    ];
    // CP503: the coupon's counter slot is spent; the call rolled back and is made again on the slow
    // path that rebalances the campaign's budget (see fn_TakeCampaignUnit). 40P01/40001: the
    // database chose this transaction as a deadlock or serialization victim and rolled it back
    // whole, so calling again is safe.
    let slow = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.#parts.exec.query("SELECT sp_RedeemCoupon($1,$2,$3,$4,$5,$6,$7) AS result", [...params, slow]);
        return redeemResultFromJson(documentOf(rows[0]));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "CP503" && !slow) {
          slow = true;
          continue;
        }
        if ((code === "40P01" || code === "40001") && attempt < 5) continue;
        throw mapPgError(err);
      }
    }
  }

  async validateCoupon(input: { code: string; userId: string }): Promise<ValidateResult> {
    const code = normalizeCode(checkCode(input.code));
    const userId = checkId("userId", input.userId);
    const rows = await this.#q("SELECT sp_ValidateCoupon($1,$2) AS result", [code, userId]);
    return validateResultFromJson(documentOf(rows[0]));
  }

  async assignCoupon(code: string, userId: string): Promise<CouponDetails> {
    return this.#assign(code, checkId("userId", userId));
  }

  async unassignCoupon(code: string): Promise<CouponDetails> {
    return this.#assign(code, null);
  }

  async #assign(code: string, userId: string | null): Promise<CouponDetails> {
    const normalized = normalizeCode(checkCode(code));
    await this.#q("SELECT sp_AssignCoupon($1,$2)", [normalized, userId]);
    const details = await this.getCouponDetails(normalized);
    if (!details) throw new StoreError("NOT_FOUND", `coupon ${normalized} does not exist`);
    return details;
  }

  async listRedemptionAttempts(filter: { couponCode?: string; userId?: string; limit?: number }): Promise<RedemptionAttempt[]> {
    const rows = await this.#read("listRedemptionAttempts", "SELECT * FROM sp_ListRedemptionAttempts($1,$2,$3)", [
      filter.couponCode === undefined ? null : normalizeCode(checkCode(filter.couponCode)),
      filter.userId === undefined ? null : checkId("userId", filter.userId),
      checkLimit(filter.limit),
    ]);
    return rows.map(attemptFromRow);
  }

  async createGenerationRequest(input: GenerationRequestInput): Promise<GenerationRequest> {
    const r = checkGenerationRequestInput(input);
    const rows = await this.#q("SELECT * FROM sp_CreateGenerationRequest($1,$2,$3,$4,$5,$6,$7)", [
      r.requestId,
      r.campaignId,
      r.requestedAmount,
      r.prefix,
      r.expirationDate,
      r.requestedBy,
      r.codeLength,
    ]);
    return requestFromRow(one(rows, "sp_CreateGenerationRequest"));
  }

  async getGenerationRequest(requestId: string): Promise<GenerationRequest | null> {
    const rows = await this.#q("SELECT * FROM sp_GetGenerationRequest($1)", [checkId("requestId", requestId)]);
    return rows[0] ? requestFromRow(rows[0]) : null;
  }

  async listGenerationRequests(
    filter: { campaignId?: string; status?: GenerationStatus; limit?: number } = {},
  ): Promise<GenerationRequest[]> {
    const rows = await this.#q("SELECT * FROM sp_ListGenerationRequests($1,$2,$3)", [
      filter.campaignId === undefined ? null : checkId("campaignId", filter.campaignId),
      filter.status === undefined ? null : checkStatus(filter.status),
      checkLimit(filter.limit),
    ]);
    return rows.map(requestFromRow);
  }

  async claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim> {
    checkId("requestId", requestId);
    checkId("workerId", workerId);
    try {
      return await this.#parts.claim(requestId, workerId);
    } catch (err) {
      throw mapPgError(err);
    }
  }

  async updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason?: string | null): Promise<GenerationRequest> {
    const rows = await this.#q("SELECT * FROM sp_UpdateGenerationRequest($1,$2,$3)", [
      checkId("requestId", requestId),
      checkStatus(status),
      failureReason ?? null,
    ]);
    return requestFromRow(one(rows, "sp_UpdateGenerationRequest"));
  }

  async bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult> {
    checkId("requestId", requestId);
    if (!Array.isArray(codes)) throw new StoreError("INVALID_INPUT", "codes must be an array of strings");
    const rows = await this.#q("SELECT * FROM sp_BulkInsertCoupons($1,$2::json)", [requestId, JSON.stringify(codes)]);
    const r = one(rows, "sp_BulkInsertCoupons");
    const existing = r.existing;
    return {
      inserted: Number(r.inserted),
      existing: Array.isArray(existing) ? existing.map(String) : [],
      generatedAmount: Number(r.generatedamount),
      requestedAmount: Number(r.requestedamount),
    };
  }

  async countCouponsWithPrefix(prefix: string): Promise<number> {
    const rows = await this.#q("SELECT sp_CountCouponsWithPrefix($1) AS n", [prefix]);
    return Number(one(rows, "sp_CountCouponsWithPrefix").n);
  }

  async *streamCoupons(filter: { campaignId?: string; requestId?: string }): AsyncIterable<ExportRow> {
    const campaignId = filter.campaignId === undefined ? null : checkId("campaignId", filter.campaignId);
    const requestId = filter.requestId === undefined ? null : checkId("requestId", filter.requestId);
    yield* exportPages((after, limit) =>
      this.#read("streamCoupons", "SELECT * FROM sp_ExportCoupons($1,$2,$3,$4)", [campaignId, requestId, after, limit]),
    );
  }

  async ping(): Promise<void> {
    await this.#q("SELECT 1");
  }

  // operations

  archiveRedemptionHistory(options: ArchiveOptions = {}): Promise<ArchiveResult> {
    return runArchive(
      {
        list: async (before, limit) =>
          (await this.#q("SELECT * FROM sp_ListArchivableHistory($1,$2)", [before, limit])).map(attemptFromRow),
        move: async (before, batchSize) =>
          Number(one(await this.#q("SELECT * FROM sp_ArchiveRedemptionHistory($1,$2)", [before, batchSize]), "archive").moved),
        moveIds: async (ids) =>
          Number(one(await this.#q("SELECT * FROM sp_ArchiveRedemptionHistory(NULL,$1,$2::bigint[])", [ids.length, ids]), "archive").moved),
      },
      options,
    );
  }

  async fraudReport(input: FraudReportInput): Promise<FraudReportRow[]> {
    const f = checkFraudReportInput(input);
    const rows = await this.#read("fraudReport", "SELECT * FROM sp_FraudReport($1,$2,$3,$4)", [f.since, f.until, f.by, f.top]);
    return rows.map(fraudRowFromRow);
  }

  async getScaleStatus(options: { archiveBefore?: Date } = {}): Promise<ScaleStatus> {
    const before = options.archiveBefore ?? lastClosedQuarterEnd();
    const rows = await this.#read("getScaleStatus", "SELECT * FROM sp_GetScaleStatus($1)", [before]);
    return scaleStatusFromRow(one(rows, "sp_GetScaleStatus"), before);
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const b = checkBefore(before);
    return purgeInBatches(async (size) => {
      const rows = await this.#q("SELECT sp_PurgeIdempotencyKeys($1, $2) AS n", [b, size]);
      return Number(one(rows, "sp_PurgeIdempotencyKeys").n);
    });
  }

  close(): Promise<void> {
    return this.#parts.close();
  }
}
