// Starts the generator for one generation request as an Azure Container Instances container group, through
// Azure Resource Manager (@azure/arm-containerinstance): the image, a user-assigned managed identity (Entra ID
// to Azure SQL and Key Vault, and the image pull from ACR), COUPONS_REQUEST_ID and the database settings in
// the environment (secrets as secure values, which ARM never returns), and restart policy Never: ACI's
// OnFailure restarts every non-zero exit, the permanent ones too (2 usage, 3 refused: refused again on each
// restart, for as long as the group exists), so the restart policy is `coupons dispatch` (dispatch.ts),
// which re-launches only a resumable end (4, 5, 6, killed, evicted). Launchers: `coupons launch`,
// `coupons dispatch`, scripts/aci-launch.sh and scripts/deploy/generator-aci.bicep, with the defaults
// below (GROUP_DEFAULTS; scripts/test/deploy.test.ts fails when the script or the template drifts).
import { createHash } from "node:crypto";
import type { TokenCredential } from "@azure/identity";
import {
  type ContainerGroup,
  ContainerInstanceManagementClient,
  type ContainerInstanceManagementClientOptionalParams,
} from "@azure/arm-containerinstance";
import { GeneratorError } from "./errors.ts";

/** The one set of container group defaults every launcher uses (checked against the script and Bicep). */
export const GROUP_DEFAULTS = {
  namePrefix: "coupons-gen-",
  restartPolicy: "Never",
  cpu: 1,
  memoryInGB: 1.5,
  containerName: "generator",
  tagApp: "coupons-generator",
  tagRequest: "coupons-request-id",
  tagAttempt: "coupons-attempt",
} as const;

export type LaunchOptions = {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** e.g. myregistry.azurecr.io/coupons-generator:1.4.0; an *.azurecr.io image is pulled with the identity. */
  image: string;
  /** /subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> */
  identityResourceId: string;
  /** The identity's client id: the container asks for tokens as this identity. */
  identityClientId?: string;
  requestId: string;
  /** Database and other settings for the container; secret-looking names become secure values. */
  env?: Record<string, string | undefined>;
  credential: TokenCredential;
  /** Resource Manager endpoint (default https://management.azure.com); other clouds, and tests. */
  endpoint?: string;
  cpu?: number;
  memoryInGB?: number;
  /** Ship the container's stdout to this Log Analytics workspace (its customer id and shared key). */
  logAnalytics?: { workspaceId: string; workspaceKey: string };
  /** Extra client options (tests: tlsOptions, retryOptions). */
  clientOptions?: ContainerInstanceManagementClientOptionalParams;
  /** Long-running operation polling interval (default: the SDK's, or the server's Retry-After). */
  pollIntervalMs?: number;
  /** Which launch of the request this is (1 first; `coupons dispatch` counts re-launches in this tag). */
  attempt?: number;
};

export type LaunchResult = { name: string; id?: string; provisioningState?: string; containerGroup: ContainerGroup };

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
const IDENTITY_ID =
  /^\/subscriptions\/([0-9a-fA-F-]{36})\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i;
// Settings whose values are secrets (or may hold one, like a URL with a password): secure values in ACI.
const SECURE_NAME = /(PASSWORD|SECRET|TOKEN|API_KEYS|_KEY|DATABASE_URL|READ_URL|CONNECTION_STRING)$/;
export const MASK = "***";

function invalid(message: string): never {
  throw new GeneratorError("INVALID_ARGUMENT", message);
}

export function isSecureName(name: string): boolean {
  return SECURE_NAME.test(name);
}

/**
 * The container group's name for a request: lower case, digits and single dashes, at most 63 characters,
 * with a hash of the exact request id so that ids differing only in case or punctuation never share a group.
 */
export function containerGroupName(requestId: string): string {
  if (!REQUEST_ID_PATTERN.test(requestId)) invalid(`--request-id must be 1-100 characters of A-Z a-z 0-9 . _ - (got "${requestId}")`);
  const slug = requestId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 42)
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(requestId).digest("hex").slice(0, 8);
  return slug ? `${GROUP_DEFAULTS.namePrefix}${slug}-${hash}` : `${GROUP_DEFAULTS.namePrefix}${hash}`;
}

/** The subscription id inside a user-assigned identity's resource id (undefined when it is not one). */
export function subscriptionOfIdentity(identityResourceId: string): string | undefined {
  return IDENTITY_ID.exec(identityResourceId)?.[1];
}

function registryOf(image: string): string | undefined {
  const host = image.split("/")[0] ?? "";
  return image.includes("/") && /\.azurecr\.(io|cn|us)$/i.test(host) ? host.toLowerCase() : undefined;
}

/** The container group body for a request (pure: no network). Secure values are real here; see masked(). */
export function buildContainerGroup(o: Omit<LaunchOptions, "credential">): { name: string; containerGroup: ContainerGroup } {
  const name = containerGroupName(o.requestId);
  if (!o.location?.trim()) invalid("location must be set (e.g. westeurope)");
  if (!o.image?.trim() || /\s/.test(o.image))
    invalid(`image must be an image reference like myacr.azurecr.io/coupons-generator:1.0 (got "${o.image ?? ""}")`);
  if (!IDENTITY_ID.test(o.identityResourceId ?? "")) {
    invalid(
      "the identity must be a user-assigned identity's resource id: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
    );
  }
  const cpu = o.cpu ?? GROUP_DEFAULTS.cpu;
  const memoryInGB = o.memoryInGB ?? GROUP_DEFAULTS.memoryInGB;
  const attempt = o.attempt ?? 1;
  if (!Number.isInteger(attempt) || attempt < 1) invalid(`attempt must be a positive integer (got ${attempt})`);
  if (!(cpu > 0 && cpu <= 4)) invalid(`cpu must be above 0 and at most 4 (got ${cpu})`);
  if (!(memoryInGB > 0 && memoryInGB <= 16)) invalid(`memory must be above 0 and at most 16 GB (got ${memoryInGB})`);

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined || v === "") continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) invalid(`environment variable names must be letters, digits and _ (got "${k}")`);
    env[k] = v;
  }
  if (env.COUPONS_REQUEST_ID !== undefined && env.COUPONS_REQUEST_ID !== o.requestId)
    invalid("COUPONS_REQUEST_ID in the environment differs from the request id");
  env.COUPONS_REQUEST_ID = o.requestId;
  if (o.identityClientId) {
    // The container has one identity; the app and DefaultAzureCredential both ask for tokens as it.
    env.AZURE_CLIENT_ID ??= o.identityClientId;
    if (env.COUPONS_MSSQL_SERVER) {
      env.COUPONS_MSSQL_AUTH ??= "managed-identity";
      env.COUPONS_MSSQL_CLIENT_ID ??= o.identityClientId;
    }
    if (env.COUPONS_KEYVAULT_URL) env.COUPONS_KEYVAULT_CLIENT_ID ??= o.identityClientId;
  }
  const registry = registryOf(o.image);
  const containerGroup: ContainerGroup = {
    location: o.location,
    identity: { type: "UserAssigned", userAssignedIdentities: { [o.identityResourceId]: {} } },
    osType: "Linux",
    restartPolicy: GROUP_DEFAULTS.restartPolicy,
    ...(registry ? { imageRegistryCredentials: [{ server: registry, identity: o.identityResourceId }] } : {}),
    containers: [
      {
        name: GROUP_DEFAULTS.containerName,
        image: o.image,
        resources: { requests: { cpu, memoryInGB } },
        environmentVariables: Object.entries(env)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => (isSecureName(k) ? { name: k, secureValue: v } : { name: k, value: v })),
      },
    ],
    ...(o.logAnalytics
      ? { diagnostics: { logAnalytics: { workspaceId: o.logAnalytics.workspaceId, workspaceKey: o.logAnalytics.workspaceKey } } }
      : {}),
    tags: {
      app: GROUP_DEFAULTS.tagApp,
      [GROUP_DEFAULTS.tagRequest]: o.requestId,
      [GROUP_DEFAULTS.tagAttempt]: String(attempt),
    },
  };
  return { name, containerGroup };
}

/** A copy with every secure value replaced by ***, for printing. */
export function masked(group: ContainerGroup): ContainerGroup {
  const la = group.diagnostics?.logAnalytics;
  return {
    ...group,
    ...(la ? { diagnostics: { ...group.diagnostics, logAnalytics: { ...la, workspaceKey: MASK } } } : {}),
    containers: group.containers.map((c) => ({
      ...c,
      environmentVariables: c.environmentVariables?.map((e) => (e.secureValue === undefined ? e : { ...e, secureValue: MASK })),
    })),
  };
}

export function describeFailure(err: unknown, what: string): GeneratorError {
  const status = (err as { statusCode?: number }).statusCode;
  const code = (err as { code?: string }).code;
  const message = ((err as Error)?.message ?? String(err)).split("\n")[0]?.slice(0, 400);
  if (status === 401 || status === 403) {
    return new GeneratorError(
      "FAILED",
      `${what} was refused (HTTP ${status}${code ? ` ${code}` : ""}): the caller needs Contributor on the resource group and Managed Identity Operator on the identity. ${message}`,
      { cause: err },
    );
  }
  if (status === undefined || status >= 500 || status === 429) {
    return new GeneratorError(
      "UNAVAILABLE",
      `${what} failed (${status ? `HTTP ${status}` : (code ?? "no response")}); retry later: ${message}`,
      { cause: err },
    );
  }
  return new GeneratorError("FAILED", `${what} failed (HTTP ${status}${code ? ` ${code}` : ""}): ${message}`, { cause: err });
}

/** The Resource Manager client for container groups ($host builds the URLs, endpoint the token scope). */
export function containerGroupsClient(
  o: Pick<LaunchOptions, "credential" | "subscriptionId" | "endpoint" | "clientOptions">,
): ContainerInstanceManagementClient {
  const endpoint = o.endpoint?.replace(/\/+$/, "");
  return new ContainerInstanceManagementClient(o.credential, o.subscriptionId, {
    ...o.clientOptions,
    ...(endpoint ? { endpoint, $host: endpoint } : {}),
  });
}

/** Creates (or updates to the same spec) the request's container group and waits until ARM has provisioned it. */
export async function launchGenerationJob(o: LaunchOptions): Promise<LaunchResult> {
  if (!/^[0-9a-fA-F-]{36}$/.test(o.subscriptionId ?? "")) invalid(`the subscription id must be a GUID (got "${o.subscriptionId ?? ""}")`);
  if (!/^[-\w._()]{1,90}$/.test(o.resourceGroup ?? "")) invalid(`the resource group name is not valid (got "${o.resourceGroup ?? ""}")`);
  const { name, containerGroup } = buildContainerGroup(o);
  const client = containerGroupsClient(o);
  try {
    const created = await client.containerGroups.beginCreateOrUpdateAndWait(o.resourceGroup, name, containerGroup, {
      ...(o.pollIntervalMs !== undefined ? { updateIntervalInMs: o.pollIntervalMs } : {}),
    });
    return { name, id: created.id, provisioningState: created.provisioningState, containerGroup };
  } catch (err) {
    throw describeFailure(err, `creating container group ${name} in ${o.resourceGroup}`);
  }
}
