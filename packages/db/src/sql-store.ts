// The engine over the PostgreSQL functions of database/postgres, shared by the postgres (pg pool) and
// embedded (PGlite) engines: they differ only in how a query runs, how a generation claim is held,
// and how they close. Inputs arrive checked and normalised (store.ts); this file only makes calls.
import type {
  ActiveCampaign,
  BulkInsertResult,
  Campaign,
  CouponDetails,
  DeleteCampaignResult,
  EngineName,
  ExportRow,
  FraudReportInput,
  FraudReportRow,
  GenerationClaim,
  GenerationRequest,
  GenerationStatus,
  GenerationWatch,
  ListedCampaign,
  RedeemResult,
  RedemptionAttempt,
  ReadRoute,
  RedemptionStats,
  RouteEvent,
  ScaleStatus,
  ThrottledAttempts,
  ValidateResult,
} from "./contract.ts";
import type { ArchiveOps } from "./archive.ts";
import { StoreError } from "./contract.ts";
import { ROLLED_BACK_STATES, mapPgError } from "./errors.ts";
import { KeyedLimit } from "./keyed-limit.ts";
import { SLOW_PATH_LIMIT, callRedeem } from "./redeem-call.ts";
import { syncCounters, statsSeries } from "./sql-statistics.ts";
import type { CheckedStatsSeries } from "./statistics.ts";
import {
  type Row,
  activeCampaignFromRow,
  attemptFromRow,
  campaignFromRow,
  couponDetailsFromRow,
  fraudRowFromRow,
  listedCampaignFromRow,
  num,
  requestFromRow,
  scaleStatusFromRow,
  statsFromRow,
  str,
} from "./rows.ts";
import type {
  CheckedAttemptFilter,
  CheckedCampaign,
  CheckedCampaignFilter,
  CheckedExportFilter,
  CheckedGenerationRequest,
  CheckedRequestFilter,
  EngineOps,
} from "./store.ts";
import type { CheckedRedeem } from "./validate.ts";
import { pgListUserRedemptions, pgReverseRedemption } from "./reversals.ts";
import { exportPages, purgeInBatches } from "./paging.ts";
import { documentOf, one, validateResultFromJson } from "./results.ts";
import { idempotentOutcome, recordThrottled } from "./sql-throttle.ts";

/** The channel database/postgres/0011_generation_cancel.sql NOTIFYs when a request becomes Requested. */
export const GENERATION_CHANNEL = "coupons_generation_requests";

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
  /** LISTEN on a channel until the watch is closed (database/postgres/0011: a trigger NOTIFYs). */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<GenerationWatch>;
  close(): Promise<void>;
  /** Requests held by claims of this process where the database cannot tell (embedded: one session). */
  heldRequests?: ReadonlySet<string>;
};

export class SqlEngine implements EngineOps {
  readonly engine: EngineName;
  readonly readRoute: ReadRoute;
  readonly #parts: SqlEngineParts;
  readonly #slowPath = new KeyedLimit(SLOW_PATH_LIMIT);

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

  async createCampaign(c: CheckedCampaign): Promise<Campaign> {
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
    return campaignFromRow(one(await this.#q("SELECT * FROM sp_GetCampaign($1)", [c.campaignId]), "sp_GetCampaign"));
  }

  async getCampaign(campaignId: string): Promise<Campaign | null> {
    const rows = await this.#q("SELECT * FROM sp_GetCampaign($1)", [campaignId]);
    return rows[0] ? campaignFromRow(rows[0]) : null;
  }

  async listActiveCampaigns(): Promise<ActiveCampaign[]> {
    return (await this.#read("listActiveCampaigns", "SELECT * FROM sp_GetActiveCampaigns()")).map(activeCampaignFromRow);
  }

  async getRedemptionStats(campaignId: string): Promise<RedemptionStats | null> {
    const rows = await this.#read("getRedemptionStats", "SELECT * FROM sp_GetRedemptionStats($1)", [campaignId]);
    return rows[0] ? statsFromRow(rows[0]) : null;
  }

  async listCampaigns(f: CheckedCampaignFilter): Promise<ListedCampaign[]> {
    const rows = await this.#read("listCampaigns", "SELECT * FROM sp_ListCampaigns($1,$2,$3)", [f.state, f.limit, f.after]);
    return rows.map(listedCampaignFromRow);
  }

  async updateCampaign(c: CheckedCampaign): Promise<void> {
    await this.#q("SELECT sp_UpdateCampaign($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", [
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
    ]);
  }

  async deleteCampaign(campaignId: string, force: boolean): Promise<DeleteCampaignResult> {
    const held = this.#parts.heldRequests;
    if (held && held.size > 0) {
      const rows = await this.#q("SELECT RequestId FROM GenerationRequests WHERE CampaignId = $1", [campaignId]);
      const busy = rows.map((r) => str(r, "RequestId")).find((id) => held.has(id));
      if (busy)
        throw new StoreError(
          "CONFLICT",
          `campaign ${campaignId} is being generated: request ${busy} is worked by a worker; cancel it or wait`,
        );
    }
    const r = one(await this.#q("SELECT * FROM sp_DeleteCampaign($1,$2)", [campaignId, force]), "sp_DeleteCampaign");
    return { campaignId, deletedCoupons: num(r, "DeletedCoupons"), deletedRequests: num(r, "DeletedRequests") };
  }

  async expireCoupons(code: string | null, requestId: string | null, campaignId: string | null): Promise<number> {
    const rows = await this.#q("SELECT sp_ExpireCoupons($1,$2,$3) AS n", [code, requestId, campaignId]);
    return Number(one(rows, "sp_ExpireCoupons").n);
  }

  async getCouponDetails(code: string): Promise<CouponDetails | null> {
    const rows = await this.#q("SELECT * FROM sp_GetCouponDetails($1)", [code]);
    const r = rows[0];
    if (!r) return null;
    const campaignJson = (r.campaignjson ?? r.CampaignJson) as Row;
    return couponDetailsFromRow(r, campaignFromRow(campaignJson));
  }

  async redeemCoupon(r: CheckedRedeem): Promise<RedeemResult> {
    const params = [r.code, r.userId, r.ipAddress, r.userAgent, r.idempotencyKey, r.requestHash];
    return callRedeem(this.#parts.exec, params, r.clientId, this.#slowPath);
  }

  async validateCoupon(code: string, userId: string): Promise<ValidateResult> {
    const rows = await this.#q("SELECT sp_ValidateCoupon($1,$2) AS result", [code, userId]);
    return validateResultFromJson(documentOf(rows[0]));
  }

  async assignCoupon(code: string, userId: string | null): Promise<void> {
    await this.#q("SELECT sp_AssignCoupon($1,$2)", [code, userId]);
  }

  async listRedemptionAttempts(f: CheckedAttemptFilter): Promise<RedemptionAttempt[]> {
    const rows = await this.#read("listRedemptionAttempts", "SELECT * FROM sp_ListRedemptionAttempts($1,$2,$3)", [
      f.couponCode,
      f.userId,
      f.limit,
    ]);
    return rows.map(attemptFromRow);
  }

  readonly reverseRedemption: EngineOps["reverseRedemption"] = (r) => pgReverseRedemption(this.#parts.exec, r);
  readonly listUserRedemptions: EngineOps["listUserRedemptions"] = (f) => pgListUserRedemptions(this.#parts.exec, f);

  async createGenerationRequest(r: CheckedGenerationRequest): Promise<GenerationRequest> {
    const rows = await this.#q("SELECT * FROM sp_CreateGenerationRequest($1,$2,$3,$4,$5,$6,$7,$8)", [
      r.requestId,
      r.campaignId,
      r.requestedAmount,
      r.prefix,
      r.expirationDate,
      r.requestedBy,
      r.codeLength,
      r.traceparent,
    ]);
    return requestFromRow(one(rows, "sp_CreateGenerationRequest"));
  }

  async getGenerationRequest(requestId: string): Promise<GenerationRequest | null> {
    const rows = await this.#q("SELECT * FROM sp_GetGenerationRequest($1)", [requestId]);
    return rows[0] ? requestFromRow(rows[0]) : null;
  }

  async listGenerationRequests(f: CheckedRequestFilter): Promise<GenerationRequest[]> {
    const rows = await this.#q("SELECT * FROM sp_ListGenerationRequests($1,$2,$3,$4)", [f.campaignId, f.status, f.limit, f.after]);
    return rows.map(requestFromRow);
  }

  async claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim> {
    try {
      return await this.#parts.claim(requestId, workerId);
    } catch (err) {
      throw mapPgError(err);
    }
  }

  async updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason: string | null): Promise<GenerationRequest> {
    const rows = await this.#q("SELECT * FROM sp_UpdateGenerationRequest($1,$2,$3)", [requestId, status, failureReason]);
    return requestFromRow(one(rows, "sp_UpdateGenerationRequest"));
  }

  async bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult> {
    // A deadlock victim (40P01) was rolled back whole, so the same batch is simply sent again.
    let rows: Row[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await this.#parts.exec.query("SELECT * FROM sp_BulkInsertCoupons($1,$2::json)", [requestId, JSON.stringify(codes)]);
        break;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === "string" && ROLLED_BACK_STATES.has(code) && attempt < 5) continue;
        throw mapPgError(err);
      }
    }
    const r = one(rows, "sp_BulkInsertCoupons");
    const existing = r.existing;
    return {
      inserted: Number(r.inserted),
      existing: Array.isArray(existing) ? existing.map(String) : [],
      generatedAmount: Number(r.generatedamount),
      requestedAmount: Number(r.requestedamount),
    };
  }

  async cancelGenerationRequest(requestId: string): Promise<GenerationRequest> {
    return requestFromRow(one(await this.#q("SELECT * FROM sp_CancelGenerationRequest($1)", [requestId]), "sp_CancelGenerationRequest"));
  }

  watchGenerationRequests(onRequested: (requestId: string) => void): Promise<GenerationWatch | null> {
    return this.#parts.listen ? this.#parts.listen(GENERATION_CHANNEL, onRequested) : Promise.resolve(null);
  }

  async countCouponsWithPrefix(prefix: string): Promise<number> {
    const rows = await this.#q("SELECT sp_CountCouponsWithPrefix($1) AS n", [prefix]);
    return Number(one(rows, "sp_CountCouponsWithPrefix").n);
  }

  async *streamCoupons({ campaignId, requestId }: CheckedExportFilter): AsyncIterable<ExportRow> {
    yield* exportPages((after, limit) =>
      this.#read("streamCoupons", "SELECT * FROM sp_ExportCoupons($1,$2,$3,$4)", [campaignId, requestId, after, limit]),
    );
  }

  async ping(): Promise<void> {
    await this.#q("SELECT 1");
  }

  // operations

  readonly archive: ArchiveOps = {
    list: async (before, limit) => (await this.#q("SELECT * FROM sp_ListArchivableHistory($1,$2)", [before, limit])).map(attemptFromRow),
    move: async (before, batchSize) =>
      Number(one(await this.#q("SELECT * FROM sp_ArchiveRedemptionHistory($1,$2)", [before, batchSize]), "archive").moved),
    moveIds: async (ids) =>
      Number(one(await this.#q("SELECT * FROM sp_ArchiveRedemptionHistory(NULL,$1,$2::bigint[])", [ids.length, ids]), "archive").moved),
  };

  async fraudReport(f: Required<FraudReportInput>): Promise<FraudReportRow[]> {
    const rows = await this.#read("fraudReport", "SELECT * FROM sp_FraudReport($1,$2,$3,$4)", [f.since, f.until, f.by, f.top]);
    return rows.map(fraudRowFromRow);
  }

  async getScaleStatus(before: Date): Promise<ScaleStatus> {
    const rows = await this.#read("getScaleStatus", "SELECT * FROM sp_GetScaleStatus($1)", [before]);
    return scaleStatusFromRow(one(rows, "sp_GetScaleStatus"), before);
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    return purgeInBatches(async (size) => {
      const rows = await this.#q("SELECT sp_PurgeIdempotencyKeys($1, $2) AS n", [before, size]);
      return Number(one(rows, "sp_PurgeIdempotencyKeys").n);
    });
  }

  // throttle (issue 12): the calls live in sql-throttle.ts
  getIdempotentOutcome = (key: string, hash: string) => idempotentOutcome((t, p) => this.#q(t, p), key, hash);
  recordThrottledAttempts = (rows: ThrottledAttempts[]) => recordThrottled((t, p) => this.#q(t, p), rows);

  // statistics (issue 14): the calls live in sql-statistics.ts
  syncCampaignCounters = () => syncCounters((t, p) => this.#q(t, p));
  getCampaignStatsSeries = (campaignId: string, c: CheckedStatsSeries) => statsSeries((m, t, p) => this.#read(m, t, p), campaignId, c);

  close(): Promise<void> {
    return this.#parts.close();
  }
}
