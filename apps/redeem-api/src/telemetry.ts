// OpenTelemetry for the redeem API, started by main.ts before it loads the app's modules. Light on
// purpose: it reads where to export (@coupons/db telemetryTarget) and only then loads the SDK
// (telemetry-sdk.ts); with neither APPLICATIONINSIGHTS_CONNECTION_STRING nor OTEL_EXPORTER_OTLP_ENDPOINT
// set nothing of OpenTelemetry's SDK is loaded and @opentelemetry/api stays a no-op.
import { context, propagation } from "@opentelemetry/api";
import { NO_TELEMETRY, type Telemetry, telemetryTarget } from "@coupons/db";

export async function startTelemetry(env: Record<string, string | undefined> = process.env): Promise<Telemetry> {
  const target = telemetryTarget(env);
  if (target.kind === "none") return NO_TELEMETRY(target);
  try {
    const { startSdk } = await import("./telemetry-sdk.ts");
    return await startSdk(target);
  } catch (err) {
    // telemetry never stops the service: say so and serve without it
    process.stderr.write(`redeem-api: telemetry (${target.kind}) not started: ${(err as Error)?.message ?? String(err)}\n`);
    return NO_TELEMETRY(target);
  }
}

/** The W3C traceparent of the active span (undefined when nothing is traced): stored with what it creates. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
