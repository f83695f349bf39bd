// The mssql engine: Azure SQL / SQL Server through an `mssql` (tedious) pool, calling only the stored
// procedures of database/mssql (the app's role may EXECUTE them and touch no table). Arguments are
// checked by validate.ts before any call; results are mapped by rows.ts and results.ts, as for the
// PostgreSQL engines. A generation claim is a session application lock held on a connection of its
// own, so it dies with the worker.
import sql from "mssql";
import {
  type ActiveCampaign,
  type ArchiveOptions,
  type ArchiveResult,
  type BulkInsertResult,
  type Campaign,
  type CampaignInput,
  type CouponDetails,
  type CouponStore,
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
} from "../contract.ts";
import { runArchive } from "../archive.ts";
import { exportPages, purgeInBatches } from "../paging.ts";
import { documentOf, one, redeemResultFromJson, validateResultFromJson } from "../results.ts";
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
  str,
  strOrNull,
} from "../rows.ts";
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
} from "../validate.ts";
import { type MssqlOptions, type MssqlSettings, type MssqlStoreConfig, buildMssqlSettings } from "./mssql-config.ts";
import { claimOnOwnConnection } from "./mssql-claim.ts";
import { mapMssqlError, withRetry } from "./mssql-errors.ts";

export { migrateMssql } from "./mssql-migrate.ts";
export { buildMssqlSettings } from "./mssql-config.ts";

type SqlType = sql.ISqlType | sql.ISqlTypeFactoryWithNoParams;
type Param = [name: string, type: SqlType, value: unknown];

const nv = (n: number) => sql.NVarChar(n);

export type MssqlStoreOptions = MssqlOptions & { onRoute?: (e: RouteEvent) => void };

/** The analytics read pool's settings: the read URL's server, or the primary's, with
 *  ApplicationIntent=ReadOnly (Azure SQL routes such sessions to a readable secondary). */
export function readReplicaSettings(c: MssqlStoreConfig, o: MssqlOptions = {}): MssqlSettings | null {
  if (!c.readUrl && !c.readIntent) return null;
  const base = buildMssqlSettings(c.readUrl ? { engine: "mssql", url: c.readUrl } : { ...c, readUrl: undefined }, o);
  return {
    ...base,
    config: { ...base.config, options: { ...base.config.options, readOnlyIntent: true } },
    describe: `${base.describe}, ApplicationIntent=ReadOnly`,
  };
}

async function connect(settings: MssqlSettings): Promise<sql.ConnectionPool> {
  const pool = new sql.ConnectionPool(settings.config);
  // An idle connection that breaks emits 'error' on the pool; the next call gets a fresh connection.
  pool.on("error", () => {});
  try {
    await withRetry(() => pool.connect(), true);
  } catch (err) {
    await pool.close().catch(() => {});
    const mapped = mapMssqlError(err);
    if (mapped instanceof StoreError) throw new StoreError(mapped.code, `${settings.describe}: ${mapped.message}`, { cause: err, expose: mapped.expose });
    throw mapped;
  }
  return pool;
}

export async function openMssqlStore(c: MssqlStoreConfig, o: MssqlStoreOptions = {}): Promise<MssqlCouponStore> {
  const settings = buildMssqlSettings(c, o);
  const readSettings = readReplicaSettings(c, o);
  const pool = await connect(settings);
  let readPool: sql.ConnectionPool | undefined;
  try {
    readPool = readSettings ? await connect(readSettings) : undefined;
  } catch (err) {
    await pool.close().catch(() => {});
    throw err;
  }
  return new MssqlCouponStore(pool, settings, readPool, o.onRoute);
}

export class MssqlCouponStore implements CouponStore {
  readonly engine = "mssql" as const;
  readonly readRoute: ReadRoute;
  readonly #pool: sql.ConnectionPool;
  readonly #readPool: sql.ConnectionPool | undefined;
  readonly #settings: MssqlSettings;
  readonly #onRoute: ((e: RouteEvent) => void) | undefined;

  constructor(pool: sql.ConnectionPool, settings: MssqlSettings, readPool?: sql.ConnectionPool, onRoute?: (e: RouteEvent) => void) {
    this.#pool = pool;
    this.#settings = settings;
    this.#readPool = readPool;
    this.#onRoute = onRoute;
    this.readRoute = readPool ? "replica" : "primary";
  }

  /** Executes one procedure; `idempotent` calls are retried on any transient failure, others only
   *  when the server surely did not run them. Returns its result sets. */
  async #exec(proc: string, params: Param[], idempotent: boolean, pool: sql.ConnectionPool = this.#pool): Promise<Row[][]> {
    try {
      return await withRetry(async () => {
        const req = pool.request();
        for (const [name, type, value] of params) req.input(name, type, value);
        const res = await req.execute(proc);
        return (res.recordsets ?? []) as unknown as Row[][];
      }, idempotent);
    } catch (err) {
      throw mapMssqlError(err);
    }
  }

  async #rows(proc: string, params: Param[], idempotent = true): Promise<Row[]> {
    return (await this.#exec(proc, params, idempotent))[0] ?? [];
  }

  /** An analytics read: to the read pool when there is one (see the contract's operations section). */
  async #read(method: string, proc: string, params: Param[]): Promise<Row[]> {
    this.#onRoute?.({ method, route: this.readRoute });
    return (await this.#exec(proc, params, true, this.#readPool ?? this.#pool))[0] ?? [];
  }

  async createCampaign(input: CampaignInput): Promise<Campaign> {
    const c = checkCampaignInput(input);
    const rows = await this.#rows(
      "dbo.sp_CreateCampaign",
      [
        ["CampaignId", nv(100), c.campaignId],
        ["Name", nv(200), c.name],
        ["Description", nv(1000), c.description],
        ["StartDate", sql.DateTime2, c.startDate],
        ["EndDate", sql.DateTime2, c.endDate],
        ["DiscountPercentage", sql.Decimal(5, 2), c.discountPercentage],
        ["DiscountAmount", sql.Decimal(10, 2), c.discountAmount],
        ["MaxRedemptionsPerUser", sql.Int, c.maxRedemptionsPerUser],
        ["MaxTotalRedemptions", sql.Int, c.maxTotalRedemptions],
        ["IsActive", sql.Bit, c.isActive],
        ["CreatedBy", nv(100), c.createdBy],
      ],
      false,
    );
    return campaignFromRow(one(rows, "sp_CreateCampaign"));
  }

  async getCampaign(campaignId: string): Promise<Campaign | null> {
    const rows = await this.#rows("dbo.sp_GetCampaign", [["CampaignId", nv(100), checkId("campaignId", campaignId)]]);
    return rows[0] ? campaignFromRow(rows[0]) : null;
  }

  async listActiveCampaigns(): Promise<ActiveCampaign[]> {
    return (await this.#read("listActiveCampaigns", "dbo.sp_GetActiveCampaigns", [])).map(activeCampaignFromRow);
  }

  async getRedemptionStats(campaignId: string): Promise<RedemptionStats | null> {
    const rows = await this.#read("getRedemptionStats", "dbo.sp_GetRedemptionStats", [
      ["CampaignId", nv(100), checkId("campaignId", campaignId)],
    ]);
    return rows[0] ? statsFromRow(rows[0]) : null;
  }

  async getCouponDetails(code: string): Promise<CouponDetails | null> {
    const rows = await this.#rows("dbo.sp_GetCouponDetails", [["CouponCode", nv(200), normalizeCode(checkCode(code))]]);
    const r = rows[0];
    if (!r) return null;
    return couponDetailsFromRow(r, campaignFromRow(JSON.parse(str(r, "CampaignJson")) as Row));
  }

  async redeemCoupon(input: RedeemInput): Promise<RedeemResult> {
    const code = normalizeCode(checkCode(input.code));
    const userId = checkId("userId", input.userId);
    const key = input.idempotencyKey == null ? null : checkId("idempotencyKey", input.idempotencyKey, 200);
    // With a key, a repeat is a replay of the stored outcome, so any transient failure may be retried.
    const rows = await this.#rows(
      "dbo.sp_RedeemCoupon",
      [
        ["CouponCode", nv(200), code],
        ["UserId", nv(100), userId],
        ["IpAddress", nv(200), checkOptionalText("ipAddress", input.ipAddress, 45)],
        ["UserAgent", nv(4000), checkOptionalText("userAgent", input.userAgent, 4000)],
        ["IdempotencyKey", nv(200), key],
        ["RequestHash", nv(4000), checkOptionalText("requestHash", input.requestHash, 4000)],
      ],
      key !== null,
    );
    return redeemResultFromJson(documentOf(rows[0]));
  }

  async validateCoupon(input: { code: string; userId: string }): Promise<ValidateResult> {
    const rows = await this.#rows("dbo.sp_ValidateCoupon", [
      ["CouponCode", nv(200), normalizeCode(checkCode(input.code))],
      ["UserId", nv(100), checkId("userId", input.userId)],
    ]);
    return validateResultFromJson(documentOf(rows[0]));
  }

  assignCoupon(code: string, userId: string): Promise<CouponDetails> {
    return this.#assign(code, checkId("userId", userId));
  }

  unassignCoupon(code: string): Promise<CouponDetails> {
    return this.#assign(code, null);
  }

  async #assign(code: string, userId: string | null): Promise<CouponDetails> {
    const normalized = normalizeCode(checkCode(code));
    await this.#exec(
      "dbo.sp_AssignCoupon",
      [
        ["CouponCode", nv(200), normalized],
        ["UserId", nv(100), userId],
      ],
      true,
    );
    const details = await this.getCouponDetails(normalized);
    if (!details) throw new StoreError("NOT_FOUND", `coupon ${normalized} does not exist`);
    return details;
  }

  async listRedemptionAttempts(filter: { couponCode?: string; userId?: string; limit?: number }): Promise<RedemptionAttempt[]> {
    const rows = await this.#read("listRedemptionAttempts", "dbo.sp_ListRedemptionAttempts", [
      ["CouponCode", nv(200), filter.couponCode === undefined ? null : normalizeCode(checkCode(filter.couponCode))],
      ["UserId", nv(100), filter.userId === undefined ? null : checkId("userId", filter.userId)],
      ["Limit", sql.Int, checkLimit(filter.limit)],
    ]);
    return rows.map(attemptFromRow);
  }

  async createGenerationRequest(input: GenerationRequestInput): Promise<GenerationRequest> {
    const r = checkGenerationRequestInput(input);
    const rows = await this.#rows(
      "dbo.sp_CreateGenerationRequest",
      [
        ["RequestId", nv(100), r.requestId],
        ["CampaignId", nv(100), r.campaignId],
        ["RequestedAmount", sql.Int, r.requestedAmount],
        ["Prefix", nv(20), r.prefix],
        ["ExpirationDate", sql.DateTime2, r.expirationDate],
        ["RequestedBy", nv(100), r.requestedBy],
        ["CodeLength", sql.Int, r.codeLength],
      ],
      false,
    );
    return requestFromRow(one(rows, "sp_CreateGenerationRequest"));
  }

  async getGenerationRequest(requestId: string): Promise<GenerationRequest | null> {
    const rows = await this.#rows("dbo.sp_GetGenerationRequest", [["RequestId", nv(100), checkId("requestId", requestId)]]);
    return rows[0] ? requestFromRow(rows[0]) : null;
  }

  async listGenerationRequests(
    filter: { campaignId?: string; status?: GenerationStatus; limit?: number } = {},
  ): Promise<GenerationRequest[]> {
    const rows = await this.#rows("dbo.sp_ListGenerationRequests", [
      ["CampaignId", nv(100), filter.campaignId === undefined ? null : checkId("campaignId", filter.campaignId)],
      ["Status", nv(20), filter.status === undefined ? null : checkStatus(filter.status)],
      ["Limit", sql.Int, checkLimit(filter.limit)],
    ]);
    return rows.map(requestFromRow);
  }

  async claimGenerationRequest(requestId: string, workerId: string): Promise<GenerationClaim> {
    return claimOnOwnConnection(this.#settings, checkId("requestId", requestId), checkId("workerId", workerId));
  }

  async updateGenerationRequest(requestId: string, status: GenerationStatus, failureReason?: string | null): Promise<GenerationRequest> {
    const rows = await this.#rows("dbo.sp_UpdateGenerationRequest", [
      ["RequestId", nv(100), checkId("requestId", requestId)],
      ["Status", nv(20), checkStatus(status)],
      ["FailureReason", sql.NVarChar(sql.MAX), failureReason ?? null],
    ]);
    return requestFromRow(one(rows, "sp_UpdateGenerationRequest"));
  }

  async bulkInsertCoupons(requestId: string, codes: readonly string[]): Promise<BulkInsertResult> {
    checkId("requestId", requestId);
    if (!Array.isArray(codes)) throw new StoreError("INVALID_INPUT", "codes must be an array of strings");
    const rows = await this.#rows(
      "dbo.sp_BulkInsertCoupons",
      [
        ["RequestId", nv(100), requestId],
        ["Codes", sql.NVarChar(sql.MAX), JSON.stringify(codes)],
      ],
      false,
    );
    const r = one(rows, "sp_BulkInsertCoupons");
    const existing = strOrNull(r, "existing");
    return {
      inserted: Number(r.inserted),
      existing: existing ? (JSON.parse(existing) as { code: string }[]).map((e) => e.code) : [],
      generatedAmount: Number(r.generatedAmount),
      requestedAmount: Number(r.requestedAmount),
    };
  }

  async countCouponsWithPrefix(prefix: string): Promise<number> {
    const rows = await this.#rows("dbo.sp_CountCouponsWithPrefix", [["Prefix", nv(400), prefix]]);
    return Number(one(rows, "sp_CountCouponsWithPrefix").n);
  }

  async *streamCoupons(filter: { campaignId?: string; requestId?: string }): AsyncIterable<ExportRow> {
    const campaignId = filter.campaignId === undefined ? null : checkId("campaignId", filter.campaignId);
    const requestId = filter.requestId === undefined ? null : checkId("requestId", filter.requestId);
    yield* exportPages((after, limit) =>
      this.#read("streamCoupons", "dbo.sp_ExportCoupons", [
        ["CampaignId", nv(100), campaignId],
        ["RequestId", nv(100), requestId],
        ["AfterCouponId", sql.BigInt, after],
        ["Limit", sql.Int, limit],
      ]),
    );
  }

  async ping(): Promise<void> {
    // No table is read, so the execute-only role may run it.
    try {
      await withRetry(() => this.#pool.request().query("SELECT 1 AS ok"), true);
    } catch (err) {
      throw mapMssqlError(err);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.close(), this.#readPool?.close()]);
  }

  // operations

  archiveRedemptionHistory(options: ArchiveOptions = {}): Promise<ArchiveResult> {
    // Each call is one DELETE ... OUTPUT INTO: atomic, and re-running a move of the same ids moves
    // nothing twice, so the moves are retried like reads.
    return runArchive(
      {
        list: async (before, limit) =>
          (
            await this.#rows("dbo.sp_ListArchivableHistory", [
              ["Before", sql.DateTime2, before],
              ["Limit", sql.Int, limit],
            ])
          ).map(attemptFromRow),
        move: async (before, batchSize) =>
          Number(
            one(
              await this.#rows("dbo.sp_ArchiveRedemptionHistory", [
                ["Before", sql.DateTime2, before],
                ["BatchSize", sql.Int, batchSize],
              ]),
              "sp_ArchiveRedemptionHistory",
            ).moved,
          ),
        moveIds: async (ids) =>
          Number(
            one(
              await this.#rows("dbo.sp_ArchiveRedemptionHistory", [
                ["BatchSize", sql.Int, ids.length],
                ["Ids", sql.NVarChar(sql.MAX), JSON.stringify(ids.map(Number))],
              ]),
              "sp_ArchiveRedemptionHistory",
            ).moved,
          ),
      },
      options,
    );
  }

  async fraudReport(input: FraudReportInput): Promise<FraudReportRow[]> {
    const f = checkFraudReportInput(input);
    const rows = await this.#read("fraudReport", "dbo.sp_FraudReport", [
      ["Since", sql.DateTime2, f.since],
      ["Until", sql.DateTime2, f.until],
      ["By", nv(20), f.by],
      ["Top", sql.Int, f.top],
    ]);
    return rows.map(fraudRowFromRow);
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const b = checkBefore(before);
    return purgeInBatches(async (size) => {
      const rows = await this.#rows("dbo.sp_PurgeIdempotencyKeys", [
        ["Before", sql.DateTime2, b],
        ["BatchSize", sql.Int, size],
      ]);
      return Number(one(rows, "sp_PurgeIdempotencyKeys").n);
    });
  }

  async getScaleStatus(options: { archiveBefore?: Date } = {}): Promise<ScaleStatus> {
    const before = options.archiveBefore ?? lastClosedQuarterEnd();
    const rows = await this.#read("getScaleStatus", "dbo.sp_GetScaleStatus", [["ArchiveBefore", sql.DateTime2, before]]);
    return scaleStatusFromRow(one(rows, "sp_GetScaleStatus"), before);
  }
}
