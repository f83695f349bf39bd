// Where a process sends its OpenTelemetry traces and metrics, read from the environment once at start
// (shared by the redeem API, the generator and the operations entry point; each app starts the SDK
// itself, see its telemetry.ts). Azure Monitor when an Application Insights connection string is set,
// else OTLP/HTTP when an OTLP endpoint is set, else nowhere: then no SDK module is even loaded.

export type TelemetryTarget =
  | { kind: "azure-monitor"; connectionString: string }
  | { kind: "otlp"; endpoint: string }
  | { kind: "none"; reason: string };

export function telemetryTarget(env: Record<string, string | undefined> = process.env): TelemetryTarget {
  const set = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  if (set("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { kind: "none", reason: "OTEL_SDK_DISABLED=true" };
  const connectionString = set("APPLICATIONINSIGHTS_CONNECTION_STRING");
  if (connectionString) return { kind: "azure-monitor", connectionString };
  const endpoint = set("OTEL_EXPORTER_OTLP_ENDPOINT") ?? set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (endpoint) return { kind: "otlp", endpoint };
  return { kind: "none", reason: "neither APPLICATIONINSIGHTS_CONNECTION_STRING nor OTEL_EXPORTER_OTLP_ENDPOINT is set" };
}

/** What telemetry a process started; shutdown() flushes what is buffered (call it before exiting). */
export type Telemetry = { target: TelemetryTarget; shutdown(): Promise<void> };

export const NO_TELEMETRY = (target: TelemetryTarget): Telemetry => ({ target, shutdown: async () => {} });
