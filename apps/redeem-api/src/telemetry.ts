// OpenTelemetry for the redeem API, started by main.ts before it loads the app's modules. Light on
// purpose: it reads where to export (@coupons/db telemetryTarget) and only then loads the SDK
// (telemetry-sdk.ts); with neither APPLICATIONINSIGHTS_CONNECTION_STRING nor OTEL_EXPORTER_OTLP_ENDPOINT
// set nothing of OpenTelemetry's SDK is loaded and @opentelemetry/api stays a no-op.
import { context, propagation } from "@opentelemetry/api";
import { NO_TELEMETRY, type Telemetry, telemetryTarget } from "@coupons/db";

/** service.name of the API's telemetry (cloud_RoleName in Application Insights) unless OTEL_SERVICE_NAME says otherwise. */
export const SERVICE_NAME = "coupons-redeem-api";

export async function startTelemetry(env: Record<string, string | undefined> = process.env): Promise<Telemetry> {
  const target = telemetryTarget(env);
  if (target.kind === "none") return NO_TELEMETRY(target);
  // telemetry never stops the service, nor fails its stop: say so on stderr and go on without it
  const warn = (what: string, err: unknown): void => {
    process.stderr.write(`redeem-api: telemetry (${target.kind}) ${what}: ${(err as Error)?.message ?? String(err)}\n`);
  };
  try {
    const { startSdk } = await import("./telemetry-sdk.ts");
    const started = await startSdk(SERVICE_NAME, target);
    return { target, shutdown: () => started.shutdown().catch((err) => warn("flush at exit failed", err)) };
  } catch (err) {
    warn("not started", err);
    return NO_TELEMETRY(target);
  }
}

/** The W3C traceparent of the active span (undefined when nothing is traced): stored with what it creates. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
