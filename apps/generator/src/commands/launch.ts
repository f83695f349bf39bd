// `coupons launch --request-id <id>`: starts the ACI container group that generates one request (aci.ts).
// Flags fall back to the same environment variables as scripts/aci-launch.sh; the database settings given
// to the container are this process's (COUPONS_DATABASE_URL or COUPONS_MSSQL_*, COUPONS_KEYVAULT_URL and
// any COUPONS_*_SECRET). --dry-run prints the container group (secure values masked) and contacts nothing.
// The Azure options and their resolution (addAzureOptions, resolveLaunchSpec) are shared with `dispatch`.
import type { TokenCredential } from "@azure/identity";
import { DefaultAzureCredential } from "@azure/identity";
import type { ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import { type Command, InvalidArgumentError } from "commander";
import { type LaunchOptions, buildContainerGroup, launchGenerationJob, masked, subscriptionOfIdentity } from "../aci.ts";
import { positiveArg } from "../args.ts";
import { loadGeneratorConfig } from "../config.ts";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";

/** Settings passed from the launching environment to the container. */
const DATABASE_VARIABLES = [
  "COUPONS_DATABASE_URL",
  "COUPONS_MSSQL_SERVER",
  "COUPONS_MSSQL_DATABASE",
  "COUPONS_MSSQL_AUTH",
  "COUPONS_MSSQL_USER",
  "COUPONS_MSSQL_PASSWORD",
  "COUPONS_MSSQL_ENCRYPT",
  "COUPONS_MSSQL_TRUST_SERVER_CERTIFICATE",
  "COUPONS_KEYVAULT_URL",
  // telemetry (the connection string is a secure value in ACI: aci.ts isSecureName)
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
];

export type LaunchDeps = {
  /** Default: DefaultAzureCredential (az login on an operator's machine, managed identity in Azure). */
  credential?: TokenCredential;
  clientOptions?: ContainerInstanceManagementClientOptionalParams;
  pollIntervalMs?: number;
  env?: Record<string, string | undefined>;
  out?: (text: string) => void;
  err?: (text: string) => void;
};

/** The Azure flags shared by `launch` and `dispatch`. */
export type AzureFlags = {
  subscription?: string;
  resourceGroup?: string;
  location?: string;
  image?: string;
  identity?: string;
  identityClientId?: string;
  cpu?: number;
  memory?: number;
  env: string[];
  armEndpoint?: string;
};

type LaunchFlags = AzureFlags & { requestId: string; dryRun?: boolean };

/** A container group spec without its request: what `launch` and `dispatch` start groups from. */
export type GroupSpec = Omit<LaunchOptions, "credential" | "requestId">;

function collect(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) throw new InvalidArgumentError("must be NAME=VALUE.");
  return [...previous, value];
}

/** The database settings of `env` that the container needs; refuses a configuration that cannot work in ACI. */
export function containerDatabaseEnv(env: Record<string, string | undefined>, databaseUrl?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of DATABASE_VARIABLES) if (env[k]) out[k] = env[k] as string;
  for (const [k, v] of Object.entries(env)) if (/^COUPONS_[A-Z0-9_]+_SECRET$/.test(k) && v) out[k] = v;
  if (databaseUrl) out.COUPONS_DATABASE_URL = databaseUrl;
  const url = out.COUPONS_DATABASE_URL;
  if (url && /^(embedded|pglite):/i.test(url)) {
    throw new GeneratorError(
      "INVALID_ARGUMENT",
      "the embedded database lives on this machine; a container needs COUPONS_DATABASE_URL of a server or the COUPONS_MSSQL_* settings",
    );
  }
  if (!url && !out.COUPONS_MSSQL_SERVER && !out.COUPONS_DATABASE_URL_SECRET) {
    throw new GeneratorError(
      "INVALID_ARGUMENT",
      "the container needs a database: set COUPONS_MSSQL_SERVER and COUPONS_MSSQL_DATABASE (Azure SQL through the identity), COUPONS_DATABASE_URL, or COUPONS_DATABASE_URL_SECRET with COUPONS_KEYVAULT_URL",
    );
  }
  return out;
}

/** Adds the Azure options (each falls back to its environment variable) to a command. */
export function addAzureOptions(cmd: Command): Command {
  return cmd
    .option("--subscription <id>", "Azure subscription id (env AZ_SUBSCRIPTION_ID; default: the identity's)")
    .option("--resource-group <name>", "resource group of the container group (env AZ_RESOURCE_GROUP)")
    .option("--location <region>", "Azure region, e.g. westeurope (env AZ_LOCATION)")
    .option("--image <ref>", "generator image, e.g. myacr.azurecr.io/coupons-generator:1.0 (env COUPONS_IMAGE)")
    .option("--identity <resourceId>", "resource id of the generator's user-assigned identity (env AZ_IDENTITY_ID)")
    .option("--identity-client-id <id>", "client id of that identity (env AZ_IDENTITY_CLIENT_ID)")
    .option("--cpu <n>", "CPU cores (env COUPONS_CPU; default 1)", positiveArg(4))
    .option("--memory <gb>", "memory in GB (env COUPONS_MEMORY_GB; default 1.5)", positiveArg(16))
    .option("--env <NAME=VALUE>", "extra environment variable for the container (repeatable)", collect, [])
    .option("--arm-endpoint <url>", "Azure Resource Manager endpoint, for other clouds (env AZ_ARM_ENDPOINT)");
}

/** The flags merged with their environment variables into a container group spec; refuses what is missing. */
export function resolveLaunchSpec(flags: AzureFlags, env: Record<string, string | undefined>, databaseUrl?: string): GroupSpec {
  const c = loadGeneratorConfig(env);
  const o: AzureFlags = {
    ...flags,
    subscription: flags.subscription ?? c.AZ_SUBSCRIPTION_ID,
    resourceGroup: flags.resourceGroup ?? c.AZ_RESOURCE_GROUP,
    location: flags.location ?? c.AZ_LOCATION,
    image: flags.image ?? c.COUPONS_IMAGE,
    identity: flags.identity ?? c.AZ_IDENTITY_ID,
    identityClientId: flags.identityClientId ?? c.AZ_IDENTITY_CLIENT_ID,
    cpu: flags.cpu ?? c.COUPONS_CPU,
    memory: flags.memory ?? c.COUPONS_MEMORY_GB,
    armEndpoint: flags.armEndpoint ?? c.AZ_ARM_ENDPOINT,
  };
  const missing = (
    [
      ["--resource-group", o.resourceGroup, "AZ_RESOURCE_GROUP"],
      ["--location", o.location, "AZ_LOCATION"],
      ["--image", o.image, "COUPONS_IMAGE"],
      ["--identity", o.identity, "AZ_IDENTITY_ID"],
    ] as const
  ).filter(([, v]) => !v);
  if (missing.length > 0) {
    throw new GeneratorError("INVALID_ARGUMENT", `missing ${missing.map(([f, , e]) => `${f} (or ${e})`).join(", ")}`);
  }
  const subscriptionId = o.subscription ?? subscriptionOfIdentity(o.identity as string);
  if (!subscriptionId) throw new GeneratorError("INVALID_ARGUMENT", "missing --subscription (or AZ_SUBSCRIPTION_ID)");
  const extra = Object.fromEntries(o.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return {
    subscriptionId,
    resourceGroup: o.resourceGroup as string,
    location: o.location as string,
    image: o.image as string,
    identityResourceId: o.identity as string,
    identityClientId: o.identityClientId,
    env: { ...containerDatabaseEnv(env, databaseUrl), ...extra },
    cpu: o.cpu,
    memoryInGB: o.memory,
    endpoint: o.armEndpoint,
    ...(c.COUPONS_LOG_ANALYTICS_WORKSPACE_ID && c.COUPONS_LOG_ANALYTICS_KEY
      ? { logAnalytics: { workspaceId: c.COUPONS_LOG_ANALYTICS_WORKSPACE_ID, workspaceKey: c.COUPONS_LOG_ANALYTICS_KEY } }
      : {}),
  };
}

/** Adds `launch` to the program (the caller keeps its exitOverride/error handling). */
export function registerLaunchCommand(program: Command, deps: LaunchDeps = {}): Command {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  return addAzureOptions(program.command("launch"))
    .description("Start the Azure Container Instances job that generates one request (restart policy Never; see `dispatch`).")
    .requiredOption("--request-id <id>", "the generation request")
    .option("--dry-run", "print the container group (secure values masked) and contact nothing")
    .addHelpText(
      "after",
      "\nThe database settings come from this environment: COUPONS_DATABASE_URL (or --database) or COUPONS_MSSQL_SERVER/\n" +
        "COUPONS_MSSQL_DATABASE, COUPONS_KEYVAULT_URL and COUPONS_*_SECRET. Secrets go in as secure values.\n" +
        "Credentials: DefaultAzureCredential (az login). The caller needs Contributor on the resource group and\n" +
        "Managed Identity Operator on the identity. Delete the group when it has ended; its exit code is in\n" +
        "`az container show`. A resumable end (4, 5, 6) is not restarted: launch again, or run `coupons dispatch`.\n" +
        "Logs: COUPONS_LOG_ANALYTICS_WORKSPACE_ID and COUPONS_LOG_ANALYTICS_KEY ship the job's stdout to Log Analytics.\n" +
        exitHelp([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.UNAVAILABLE]),
    )
    .action(async (flags: LaunchFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as { database?: string };
      const spec: Omit<LaunchOptions, "credential"> = {
        ...resolveLaunchSpec(flags, deps.env ?? process.env, globals.database),
        requestId: flags.requestId,
      };
      const o = { ...flags, armEndpoint: spec.endpoint };
      if (o.dryRun) {
        const { name, containerGroup } = buildContainerGroup(spec);
        const endpoint = (o.armEndpoint ?? "https://management.azure.com").replace(/\/+$/, "");
        const url = `${endpoint}/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.ContainerInstance/containerGroups/${name}`;
        out(`${JSON.stringify({ method: "PUT", url, name, body: masked(containerGroup) }, null, 2)}\n`);
        return;
      }
      const credential = deps.credential ?? new DefaultAzureCredential();
      err(`Starting container group for request ${o.requestId} in ${spec.resourceGroup}...\n`);
      const r = await launchGenerationJob({ ...spec, credential, clientOptions: deps.clientOptions, pollIntervalMs: deps.pollIntervalMs });
      out(`${JSON.stringify({ name: r.name, id: r.id, provisioningState: r.provisioningState, requestId: o.requestId })}\n`);
      err(`Follow it:  az container logs -g ${spec.resourceGroup} -n ${r.name} --follow\n`);
      err(`Remove it:  az container delete -g ${spec.resourceGroup} -n ${r.name} --yes\n`);
    });
}
