// Idempotency keys expire: the API purges those older than the retention, hourly, first a minute in.
// On a server, the API's own database role (coupon_api, docs/database.md "Roles") may not purge: the
// operations job does (`coupons-ops purge-idempotency-keys`, a login in coupon_ops). Refused so, the
// API says it once and stops trying; any other failure is retried at the next hour.
import type { CouponStore } from "@coupons/db";
import type { Logger } from "pino";

export type KeyPurgeOptions = {
  retentionHours: number;
  /** Defaults: a minute, then an hour. */
  firstAfterMs?: number;
  everyMs?: number;
  /** Told the outcome of each run: keys purged, "not-permitted", or "failed". */
  onRun?: (outcome: number | "not-permitted" | "failed") => void;
};

/** A refusal by the database's permissions (PostgreSQL 42501, SQL Server 229), anywhere in the cause chain. */
export function permissionDenied(err: unknown): boolean {
  for (let e = err as { code?: unknown; number?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "42501" || e.number === 229) return true;
  }
  return false;
}

export function startKeyPurge(store: Pick<CouponStore, "purgeIdempotencyKeys">, logger: Logger, o: KeyPurgeOptions): { stop(): void } {
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(every);
  };
  const purge = () => {
    const before = new Date(Date.now() - o.retentionHours * 3_600_000);
    store.purgeIdempotencyKeys(before).then(
      (n) => {
        if (n > 0) logger.info({ purged: n, before }, "idempotency keys purged");
        o.onRun?.(n);
      },
      (err) => {
        if (!permissionDenied(err)) {
          logger.warn({ err }, "idempotency key purge failed; retrying in an hour");
          return o.onRun?.("failed");
        }
        if (!stopped)
          logger.info(
            { event: "idempotency.purge.notPermitted" },
            "this API's database role may not purge idempotency keys (coupon_api, by design): the operations job purges them (coupons-ops purge-idempotency-keys); the API stops trying",
          );
        stop();
        o.onRun?.("not-permitted");
      },
    );
  };
  const first = setTimeout(purge, o.firstAfterMs ?? 60_000).unref();
  const every = setInterval(purge, o.everyMs ?? 3_600_000).unref();
  return { stop };
}
