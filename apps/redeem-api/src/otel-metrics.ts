// The API's own metrics as OpenTelemetry instruments, read from the Prometheus registry when the
// OpenTelemetry SDK collects (so each is counted once, by the code that counts it for /metrics). The
// names below are what Application Insights (customMetrics) and an OTLP backend receive; the workbook
// in scripts/deploy/ and docs/deployment.md use them. Without an SDK the meter is a no-op.
import { ValueType, metrics } from "@opentelemetry/api";
import type { Registry } from "prom-client";

/** OpenTelemetry metric name -> the Prometheus metric it reads, and how. */
export const OTEL_METRICS = {
  "coupons.redemptions": {
    from: "coupons_redemptions_total",
    kind: "counter",
    description: "Redemption attempts by outcome (attribute outcome: redeemed, replayed, throttled, error or a refusal code)",
    unit: "{attempt}",
  },
  "coupons.generation.waiting": {
    from: "coupons_generation_requests_waiting",
    kind: "gauge",
    description: "Generation requests waiting for a worker (status Requested)",
    unit: "{request}",
  },
  "coupons.generation.oldest_waiting": {
    from: "coupons_generation_oldest_waiting_seconds",
    kind: "gauge",
    description: "Age of the oldest waiting generation request",
    unit: "s",
  },
} as const;

export function mirrorToOtel(registry: Registry): void {
  const meter = metrics.getMeter("coupons-redeem-api");
  const pairs = Object.entries(OTEL_METRICS).map(([name, m]) => {
    const options = { description: m.description, unit: m.unit, valueType: ValueType.DOUBLE };
    const instrument = m.kind === "counter" ? meter.createObservableCounter(name, options) : meter.createObservableGauge(name, options);
    return { from: m.from, instrument };
  });
  meter.addBatchObservableCallback(
    async (result) => {
      for (const { from, instrument } of pairs) {
        const metric = registry.getSingleMetric(from);
        if (!metric) continue;
        for (const v of (await metric.get()).values) {
          if (Number.isFinite(v.value)) result.observe(instrument, v.value, v.labels);
        }
      }
    },
    pairs.map((p) => p.instrument),
  );
}
