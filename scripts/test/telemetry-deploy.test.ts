// Telemetry on Azure, checked structurally (no Bicep compiler here): Application Insights on the Log
// Analytics workspace, its connection string a Key Vault secret that the API and both jobs read as a Key
// Vault reference, and the workbook, whose queries may name only what the apps export.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "scripts/deploy");

describe("telemetry on Azure: Application Insights, its connection string and the workbook", () => {
  const read = (f: string) => readFileSync(join(DEPLOY, f), "utf8");

  it("Application Insights is workspace-based, its connection string a Key Vault secret, read by the API and every job as a Key Vault reference", () => {
    const ai = read("modules/appinsights.bicep");
    expect(ai).to.include("Microsoft.Insights/components@").and.include("WorkspaceResourceId: workspaceId");
    expect(ai).to.include("Microsoft.KeyVault/vaults/secrets@").and.include("value: insights.properties.ConnectionString");
    expect(ai).to.include("loadTextContent('../workbook.json')");
    const main = read("main.bicep");
    for (const m of ["api", "jobs"]) {
      const body = new RegExp(`^module ${m} '[^']+' = [^\\n]*\\n([\\s\\S]*?)\\n\\}$`, "m").exec(main)?.[1] ?? "";
      expect(body, m).to.include("    appInsightsSecretName: appInsights.outputs.connectionSecretName");
    }
    for (const f of ["modules/containerapp.bicep", "modules/jobs.bicep"]) {
      const t = read(f);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep's interpolation, as written in the file
      expect(t, f).to.include("keyVaultUrl: '${keyVaultUri}secrets/${appInsightsSecretName}'");
      expect(t, f).to.include("{ name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection' }");
    }
    // every job (generation, archive, purge) defines the secret its containers refer to
    const jobs = read("modules/jobs.bicep");
    const jobCount = jobs.match(/^resource \w+ 'Microsoft\.App\/jobs@/gm)?.length ?? 0;
    expect(jobCount).to.be.at.least(2);
    expect(jobs.match(/secrets: (concat\(telemetrySecrets|telemetrySecrets)/g)).to.have.length(jobCount);
  });

  it("the workbook parses, and its queries name only metrics, spans, attributes and the service name the apps export", async () => {
    const { OTEL_METRICS } = await import("../../apps/redeem-api/src/otel-metrics.ts");
    const { SERVICE_NAME } = await import("../../apps/redeem-api/src/telemetry.ts");
    const workbook = JSON.parse(read("workbook.json")) as { version: string; items: { type: number; content: { query?: string } }[] };
    expect(workbook.version).to.equal("Notebook/1.0");
    const queries = workbook.items.filter((i) => i.type === 3).map((i) => i.content.query ?? "");
    expect(queries).to.have.length.greaterThan(3);
    const text = queries.join("\n");
    // redemptions by outcome, p99 latency, throttled attempts and the generation queue
    for (const needed of ['"coupons.redemptions"', "percentile(duration, 99)", '"throttled"', '"coupons.generation.waiting"'])
      expect(text).to.include(needed);
    const metricNames = [...text.matchAll(/customMetrics\n\| where name (?:== "([^"]+)"|in \(([^)]*)\))/g)].flatMap((m) =>
      m[1] ? [m[1]] : (m[2] as string).split(",").map((s) => s.trim().replace(/^"|"$/g, "")),
    );
    expect(metricNames.length).to.be.greaterThan(2);
    for (const n of metricNames) expect(Object.keys(OTEL_METRICS), n).to.include(n);
    for (const [, role] of text.matchAll(/cloud_RoleName == "([^"]+)"/g)) expect(role).to.equal(SERVICE_NAME);
    const tracing = readFileSync(join(ROOT, "apps/generator/src/tracing.ts"), "utf8");
    for (const [, span] of text.matchAll(/"(generation\.[a-z]+)"/g)) expect(tracing, span).to.include(`"${span}"`);
    for (const [, attribute] of text.matchAll(/customDimensions\["([^"]+)"\]/g)) {
      if (attribute === "outcome")
        expect(readFileSync(join(ROOT, "apps/redeem-api/src/metrics.ts"), "utf8")).to.include('labelNames: ["outcome"]');
      else expect(tracing, attribute).to.include(`"${attribute}"`);
    }
  });
});
