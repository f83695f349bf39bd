// Keeps the seed's Campaigns.CurrentRedemptions column within a few seconds of the truth while the
// API runs: every COUPONS_COUNTER_SYNC_SECONDS the store copies each campaign's exact count (the sum
// of its counter slots) into the column where the two differ (syncCampaignCounters). Redemptions
// never write that row, so no hot row comes back on their path; replicas all doing it is harmless
// (a campaign already right is not written). One run at a time per process; a failed run is logged
// and the next one tries again.
import type { CouponStore } from "@coupons/db";
import type { Logger } from "pino";

export type CounterSync = {
  /** Stops the timer; resolves when a run in flight has finished. */
  stop(): Promise<void>;
};

export function startCounterSync(
  store: Pick<CouponStore, "syncCampaignCounters">,
  seconds: number,
  logger: Pick<Logger, "debug" | "info" | "warn">,
): CounterSync | null {
  if (seconds <= 0) return null;
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return; // the previous run is still going: skip this tick
    const started = Date.now();
    running = store
      .syncCampaignCounters()
      .then(
        (changed) => {
          const fields = { counterSync: { changed, ms: Date.now() - started, startedAt: new Date(started).toISOString() } };
          if (changed > 0) logger.info(fields, "campaign counters synced");
          else logger.debug(fields, "campaign counters synced");
        },
        (err) => logger.warn({ err }, "campaign counter sync failed; the next run tries again"),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(run, seconds * 1000).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
