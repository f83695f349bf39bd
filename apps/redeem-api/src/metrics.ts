// Prometheus metrics of one app instance (its own registry, so several apps in one process, as in
// tests, do not collide): redemptions by outcome, request latency by route, and the generation queue
// (waiting requests and the oldest one's age, read from the store when scraped).
import { type CouponStore, WAITING_LIST_LIMIT, type WaitingQueue, waitingQueue } from "@coupons/db";
import type { NextFunction, Request, Response } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { mirrorToOtel } from "./otel-metrics.ts";

export type Metrics = {
  registry: Registry;
  redemptions: Counter<"outcome">;
  /** Attempts the throttle answered 429, by operation and by the subject that had no allowance left. */
  throttled: Counter<"operation" | "by">;
  middleware(req: Request, res: Response, next: NextFunction): void;
};

export function createMetrics(store?: CouponStore): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (store) queueGauges(registry, store);
  const redemptions = new Counter({
    name: "coupons_redemptions_total",
    help: "Redemption attempts by outcome: redeemed, a refusal code, replayed, throttled, error",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const throttled = new Counter({
    name: "coupons_throttled_total",
    help: "Attempts answered 429 by the throttle, by operation (redeem, validate, lookup) and by the subject out of allowance (user, ip, client)",
    labelNames: ["operation", "by"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "coupons_http_request_duration_seconds",
    help: "HTTP request latency by route template, method and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  mirrorToOtel(registry); // the same counts as OpenTelemetry metrics (when an SDK runs)
  return {
    registry,
    redemptions,
    throttled,
    middleware(req, res, next) {
      const start = process.hrtime.bigint();
      res.once("finish", () => {
        // the route template, never the raw path: coupon codes in paths would explode the label set
        const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched";
        duration.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
      });
      next();
    },
  };
}

/** Two gauges read from one look at the queue per scrape; NaN when the store cannot be read. */
function queueGauges(registry: Registry, store: CouponStore): void {
  let pending: Promise<WaitingQueue | null> | null = null;
  const read = () => {
    pending ??= waitingQueue(store)
      .catch(() => null)
      .finally(() => {
        pending = null;
      });
    return pending;
  };
  new Gauge({
    name: "coupons_generation_requests_waiting",
    help: `Generation requests waiting for a worker (status Requested); counted up to ${WAITING_LIST_LIMIT}`,
    registers: [registry],
    async collect() {
      const q = await read();
      this.set(q ? q.waiting : Number.NaN);
    },
  });
  new Gauge({
    name: "coupons_generation_oldest_waiting_seconds",
    help: "Seconds since the oldest waiting (Requested) generation request was created; 0 when none waits",
    registers: [registry],
    async collect() {
      const q = await read();
      this.set(q ? (q.oldestCreatedAt ? (Date.now() - q.oldestCreatedAt.getTime()) / 1000 : 0) : Number.NaN);
    },
  });
}
