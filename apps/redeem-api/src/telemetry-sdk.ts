// The OpenTelemetry SDK of the redeem API (loaded by telemetry.ts only when telemetry is configured):
// traces and metrics of HTTP (server spans carry the route, never a coupon code or a query string),
// Express route handlers, pg, tedious and ioredis, exported to Azure Monitor (the distro) or to OTLP
// over HTTP (JSON). W3C traceparent in and out (the SDK's default propagator).
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Span, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { ExpressInstrumentation, ExpressLayerType } from "@opentelemetry/instrumentation-express";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { TediousInstrumentation } from "@opentelemetry/instrumentation-tedious";
import { NodeSDK, metrics } from "@opentelemetry/sdk-node";
import { type Telemetry, type TelemetryTarget, logPath } from "@coupons/db";

/** Server spans: the URL as the logs show it (no query string, a coupon code masked), the key id and problem code. */
function httpInstrumentation(): HttpInstrumentation {
  return new HttpInstrumentation({
    ignoreIncomingRequestHook: (req) => req.url === "/healthz" || req.url === "/readyz" || req.url === "/metrics",
    applyCustomAttributesOnSpan(span, request, response) {
      if (!("headers" in request) || (request as IncomingMessage).socket === undefined || !("locals" in response)) return;
      const req = request as IncomingMessage & { originalUrl?: string };
      const url = req.originalUrl ?? req.url ?? "";
      const path = logPath(url);
      const host = req.headers.host ?? "localhost";
      // the instrumentation's URL attributes overwritten (one cannot be removed), old and stable names
      if (url.includes("?")) span.setAttribute("url.query", "[redacted]");
      span.setAttributes({
        "url.path": path,
        "http.target": path,
        "url.full": `http://${host}${path}`,
        "http.url": `http://${host}${path}`,
      });
      const locals = (response as ServerResponse & { locals: Record<string, unknown> }).locals;
      const keyId = (locals.caller as { keyId?: unknown } | undefined)?.keyId;
      if (typeof keyId === "string") span.setAttribute("coupons.key_id", keyId);
      if (typeof locals.problemCode === "string") span.setAttribute("coupons.problem", locals.problemCode);
    },
  });
}

/**
 * ioredis 6 reports its commands on diagnostics channels (ioredis:command, ioredis:connect) instead
 * of being patched (@opentelemetry/instrumentation-ioredis supports ioredis below 6): one client span
 * per command made inside a trace, as the caller's child.
 */
async function traceIoredis(): Promise<void> {
  const dc = await import("node:diagnostics_channel");
  const tracer = trace.getTracer("coupons-ioredis");
  const spans = new WeakMap<object, Span>();
  type Message = { command?: string; database?: number; serverAddress?: string; serverPort?: number; error?: unknown };
  for (const name of ["command", "connect"] as const) {
    dc.tracingChannel<Message>(`ioredis:${name}`).subscribe({
      start(m) {
        // only inside a trace (as pg's requireParentSpan): connection chatter makes no traces of its own
        if (!trace.getSpan(context.active())) return;
        const span = tracer.startSpan(
          name === "command" ? `redis ${m.command ?? "command"}` : "redis connect",
          {
            kind: SpanKind.CLIENT,
            attributes: {
              "db.system.name": "redis",
              ...(m.command ? { "db.operation.name": m.command } : {}),
              ...(m.serverAddress ? { "server.address": m.serverAddress } : {}),
              ...(m.serverPort ? { "server.port": m.serverPort } : {}),
            },
          },
          context.active(),
        );
        spans.set(m, span);
      },
      end() {},
      asyncStart() {},
      asyncEnd(m) {
        spans.get(m)?.end();
        spans.delete(m);
      },
      error(m) {
        const span = spans.get(m);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: m.error instanceof Error ? m.error.message : String(m.error) });
        span?.end();
        spans.delete(m);
      },
    });
  }
}

export async function startSdk(serviceName: string, target: Exclude<TelemetryTarget, { kind: "none" }>): Promise<Telemetry> {
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  const instrumentations = () => [
    httpInstrumentation(),
    // route handlers only: a span per middleware (helmet, the body parser, ...) says nothing useful
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    new PgInstrumentation({ requireParentSpan: true }),
    new TediousInstrumentation(),
  ];
  let shutdown: () => Promise<void>;
  if (target.kind === "azure-monitor") {
    const azure = await import("@azure/monitor-opentelemetry");
    azure.useAzureMonitor({
      azureMonitorExporterOptions: { connectionString: target.connectionString },
      // these two are ours (with the masking above), the rest of the distro's stay on
      instrumentationOptions: { http: { enabled: false }, postgreSql: { enabled: false } },
    });
    // constructed after the distro set the global providers: each enables itself against them
    instrumentations();
    shutdown = azure.shutdownAzureMonitor;
  } else {
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
    shutdown = () => sdk.shutdown();
  }
  // express is CommonJS imported from ESM, which the require hook does not see: require it once here,
  // so that it is patched in the module cache before the app imports it
  createRequire(import.meta.url)("express");
  await traceIoredis();
  return { target, shutdown };
}
