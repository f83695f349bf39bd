// Prometheus metrics of one app instance (its own registry, so several apps in one process, as in
// tests, do not collide): redemptions by outcome and request latency by route.
import type { NextFunction, Request, Response } from "express";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type Metrics = {
  registry: Registry;
  redemptions: Counter<"outcome">;
  middleware(req: Request, res: Response, next: NextFunction): void;
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const redemptions = new Counter({
    name: "coupons_redemptions_total",
    help: "Redemption attempts by outcome: redeemed, a refusal code, replayed, throttled, error",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "coupons_http_request_duration_seconds",
    help: "HTTP request latency by route template, method and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    registry,
    redemptions,
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
