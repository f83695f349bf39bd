// The generation queue as operators see it (`coupons request list`, the API's /metrics): how many
// requests wait (Requested) and since when the oldest has waited, read through the store's list.
import type { CouponStore } from "./contract.ts";

/** The store's list returns at most this many rows: more waiting than that is told as "at least". */
export const WAITING_LIST_LIMIT = 1000;

export type WaitingQueue = {
  /** Requested requests (at most WAITING_LIST_LIMIT; `atLeast` when there may be more). */
  waiting: number;
  atLeast: boolean;
  /** When the oldest of them was created (of the newest WAITING_LIST_LIMIT when `atLeast`). */
  oldestCreatedAt: Date | null;
};

export async function waitingQueue(store: CouponStore, campaignId?: string): Promise<WaitingQueue> {
  const rows = await store.listGenerationRequests({ status: "Requested", campaignId, limit: WAITING_LIST_LIMIT });
  return {
    waiting: rows.length,
    atLeast: rows.length === WAITING_LIST_LIMIT,
    oldestCreatedAt: rows.reduce<Date | null>((min, r) => (min === null || r.createdAt < min ? r.createdAt : min), null),
  };
}
