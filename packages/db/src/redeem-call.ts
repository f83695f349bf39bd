// How the SQL engines over database/postgres call sp_RedeemCoupon: the retries its answers ask for,
// and the per-campaign bound in front of its slow path (keyed-limit.ts). Used by sql-store.ts.
import type { RedeemResult } from "./contract.ts";
import { ROLLED_BACK_STATES, mapPgError } from "./errors.ts";
import type { KeyedLimit } from "./keyed-limit.ts";
import { documentOf, redeemResultFromJson } from "./results.ts";
import type { Row } from "./rows.ts";

/** Slow-path redemptions (p_Slow: all 16 slots of a campaign locked) in flight per campaign, and how
 *  long and how many may wait for a turn. They serialise on the slot locks anyway; two keep one
 *  ready while the other commits, and the rest of the pool serves other campaigns. */
export const SLOW_PATH_LIMIT = { perKey: 2, maxWaitMs: 10_000, maxQueue: 2_000 } as const;

type Exec = { query(text: string, params?: readonly unknown[]): Promise<Row[]> };

/**
 * CP503: the coupon's counter slot is spent (and the campaign is not sold out); the call rolled back
 * and is made again on the slow path that rebalances the campaign's budget (see fn_TakeCampaignUnit),
 * after waiting for a turn of its campaign (the CP503's DETAIL), holding no connection. 40P01/40001:
 * the database chose this transaction as a deadlock or serialization victim and rolled it back whole,
 * so calling again is safe.
 */
export async function callRedeem(
  exec: Exec,
  params: readonly unknown[],
  clientId: string | null,
  slowPath: KeyedLimit,
): Promise<RedeemResult> {
  let slow = false;
  let release: (() => void) | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await exec.query("SELECT sp_RedeemCoupon($1,$2,$3,$4,$5,$6,$7,$8) AS result", [...params, slow, clientId]);
        return redeemResultFromJson(documentOf(rows[0]));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "CP503" && !slow) {
          slow = true;
          const detail = (err as { detail?: unknown }).detail;
          const campaign = typeof detail === "string" ? detail : "";
          release = await slowPath.acquire(campaign, `the budget of campaign ${campaign}`);
          continue;
        }
        if (typeof code === "string" && ROLLED_BACK_STATES.has(code) && attempt < 5) continue;
        throw mapPgError(err);
      }
    }
  } finally {
    release?.();
  }
}
