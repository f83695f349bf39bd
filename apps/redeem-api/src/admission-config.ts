// The settings of admission per campaign (admission.ts), read with the rest of the configuration
// (config.ts spreads these variables into its one zod schema).
import { envInt } from "@coupons/db";

export type AdmissionConfig = {
  /** Calls in flight per campaign; 0: admission off. Default max(2, pool size / 4). */
  perCampaign: number;
  /** Calls in flight for codes whose campaign is not known (no known prefix). Default max(2, pool size / 2). */
  unknownLane: number;
  /** Calls waiting per lane; one more is refused 503 at once. */
  maxQueue: number;
  /** Longest wait for a turn; then 503. */
  maxWaitMs: number;
  /** The prefix -> campaign index is read again this often... */
  refreshSeconds: number;
  /** ...and when a code matches no prefix, at most this often. */
  missRefreshSeconds: number;
  /** Fair intake (intake.ts): work per turn of the event loop before it yields (ms). */
  sliceMs: number;
};

/** The engines' pool size when COUPONS_DB_POOL_SIZE is not set (postgres.ts, mssql-config.ts). */
export const DEFAULT_POOL_SIZE = 10;

export const admissionEnv = {
  COUPONS_ADMISSION_PER_CAMPAIGN: envInt(0, 1000).optional(),
  COUPONS_ADMISSION_UNKNOWN: envInt(1, 1000).optional(),
  COUPONS_ADMISSION_QUEUE: envInt(0, 100_000).default(1000),
  COUPONS_ADMISSION_WAIT_MS: envInt(1, 600_000).default(5000),
  COUPONS_ADMISSION_REFRESH_SECONDS: envInt(1, 3600).default(5),
  COUPONS_ADMISSION_MISS_REFRESH_SECONDS: envInt(0, 3600).default(1),
  COUPONS_ADMISSION_SLICE_MS: envInt(0, 1000).default(1),
} as const;

/** From the parsed variables; the bounds follow COUPONS_DB_POOL_SIZE unless set. */
export function admissionOf(v: Record<string, unknown>): AdmissionConfig {
  const pool = (v.COUPONS_DB_POOL_SIZE as number | undefined) ?? DEFAULT_POOL_SIZE;
  return {
    perCampaign: (v.COUPONS_ADMISSION_PER_CAMPAIGN as number | undefined) ?? Math.max(2, Math.floor(pool / 4)),
    unknownLane: (v.COUPONS_ADMISSION_UNKNOWN as number | undefined) ?? Math.max(2, Math.floor(pool / 2)),
    maxQueue: v.COUPONS_ADMISSION_QUEUE as number,
    maxWaitMs: v.COUPONS_ADMISSION_WAIT_MS as number,
    refreshSeconds: v.COUPONS_ADMISSION_REFRESH_SECONDS as number,
    missRefreshSeconds: v.COUPONS_ADMISSION_MISS_REFRESH_SECONDS as number,
    sliceMs: v.COUPONS_ADMISSION_SLICE_MS as number,
  };
}
