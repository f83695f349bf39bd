// The OpenTelemetry SDK of the generator (loaded by telemetry.ts only when telemetry is configured):
// traces of pg, tedious and outgoing HTTP (Azure Resource Manager, Blob storage), and the generation
// spans of tracing.ts, exported to Azure Monitor (the distro) or to OTLP over HTTP (JSON).
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { TediousInstrumentation } from "@opentelemetry/instrumentation-tedious";
import { NodeSDK, metrics } from "@opentelemetry/sdk-node";
import type { Telemetry, TelemetryTarget } from "@coupons/db";

export async function startSdk(service: string, target: Exclude<TelemetryTarget, { kind: "none" }>): Promise<Telemetry> {
  process.env.OTEL_SERVICE_NAME ??= service;
  const instrumentations = () => [
    new HttpInstrumentation(),
    new PgInstrumentation({ requireParentSpan: true }),
    new TediousInstrumentation(),
  ];
  if (target.kind === "azure-monitor") {
    const azure = await import("@azure/monitor-opentelemetry");
    azure.useAzureMonitor({
      azureMonitorExporterOptions: { connectionString: target.connectionString },
      instrumentationOptions: { http: { enabled: false }, postgreSql: { enabled: false } },
    });
    // constructed after the distro set the global providers: each enables itself against them
    instrumentations();
    return { target, shutdown: azure.shutdownAzureMonitor };
  }
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME,
    traceExporter: new OTLPTraceExporter(),
    metricReaders: [
      new metrics.PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000,
      }),
    ],
    instrumentations: instrumentations(),
  });
  sdk.start();
  return { target, shutdown: () => sdk.shutdown() };
}
