// OpenTelemetry for the generator (CLI, ACI job, worker) and the operations entry point, started by
// main.ts / ops-main.ts before the commands load. Light on purpose: with neither
// APPLICATIONINSIGHTS_CONNECTION_STRING nor OTEL_EXPORTER_OTLP_ENDPOINT set, no SDK module is loaded
// and @opentelemetry/api stays a no-op (the spans of tracing.ts cost nothing then).
import { NO_TELEMETRY, type Telemetry, telemetryTarget } from "@coupons/db";

export async function startTelemetry(
  service: "coupons-generator" | "coupons-ops",
  env: Record<string, string | undefined> = process.env,
): Promise<Telemetry> {
  const target = telemetryTarget(env);
  if (target.kind === "none") return NO_TELEMETRY(target);
  try {
    const { startSdk } = await import("./telemetry-sdk.ts");
    return await startSdk(service, target);
  } catch (err) {
    // telemetry never stops a job: say so and run without it
    process.stderr.write(`${service}: telemetry (${target.kind}) not started: ${(err as Error)?.message ?? String(err)}\n`);
    return NO_TELEMETRY(target);
  }
}
