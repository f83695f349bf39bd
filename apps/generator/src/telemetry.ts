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
  // telemetry never stops a job, nor changes its exit code: say so on stderr and go on without it
  const warn = (what: string, err: unknown): void => {
    process.stderr.write(`${service}: telemetry (${target.kind}) ${what}: ${(err as Error)?.message ?? String(err)}\n`);
  };
  try {
    const { startSdk } = await import("./telemetry-sdk.ts");
    const started = await startSdk(service, target);
    return { target, shutdown: () => started.shutdown().catch((err) => warn("flush at exit failed", err)) };
  } catch (err) {
    warn("not started", err);
    return NO_TELEMETRY(target);
  }
}
