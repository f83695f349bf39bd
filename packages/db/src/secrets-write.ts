// Writing a setting into Azure Key Vault (the other side of secrets.ts, which reads them at start): read
// the secret's current value, compute the new one, store it as a new version. Through the same identity
// chain as the readers: DefaultAzureCredential (a managed identity in Azure, the Azure CLI's sign-in on a
// developer machine), with COUPONS_KEYVAULT_CLIENT_ID naming a user-assigned identity. Values are never
// put in a message; errors name the secret and the vault only.
import type { TokenCredential } from "@azure/identity";
import type { SecretClientOptions } from "@azure/keyvault-secrets";
import { StoreError } from "./contract.ts";
import { type Env, vaultUrlFrom } from "./secrets.ts";

export type SecretWriteOptions = {
  /** Default: DefaultAzureCredential (COUPONS_KEYVAULT_CLIENT_ID as its managed identity, when set). */
  credential?: TokenCredential;
  /** Passed to SecretClient (tests: tlsOptions, retryOptions, disableChallengeResourceVerification). */
  clientOptions?: SecretClientOptions;
  env?: Env;
};

/** A vault given by name (`coupons-kv`: https://coupons-kv.vault.azure.net) or by its https URL. */
export function vaultUrlOf(nameOrUrl: string, env: Env = {}): string {
  const given = nameOrUrl.trim();
  if (/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(given)) return `https://${given.toLowerCase()}.vault.azure.net`;
  if (/^https:\/\//i.test(given)) return vaultUrlFrom(env, { vaultUrl: given });
  throw new StoreError("CONFIG", `--key-vault must be a vault name (3-24 letters, digits and dashes) or its https:// URL (got "${given}")`);
}

function explain(err: unknown, secret: string, vaultUrl: string, verb: string): never {
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    throw new StoreError(
      "CONFIG",
      `Key Vault secret "${secret}" in ${vaultUrl} cannot be ${verb} by this identity (HTTP ${status}); grant it the "Key Vault Secrets Officer" role on the vault`,
      { cause: err },
    );
  }
  const detail = ((err as Error)?.message ?? String(err)).split("\n")[0]?.slice(0, 200);
  throw new StoreError("UNAVAILABLE", `Key Vault secret "${secret}" in ${vaultUrl} could not be ${verb}: ${detail}`, { cause: err });
}

/**
 * Sets secret `name` in the vault to `update(its current value, or undefined when it does not exist)`.
 * Not atomic across writers (Key Vault has no compare-and-set): one operator at a time.
 */
export async function updateSecret(
  vaultUrl: string,
  name: string,
  update: (current: string | undefined) => string,
  opts: SecretWriteOptions = {},
): Promise<{ version: string | undefined }> {
  const env = opts.env ?? process.env;
  const clientId = env.COUPONS_KEYVAULT_CLIENT_ID?.trim() || undefined;
  const [{ DefaultAzureCredential }, { SecretClient }] = await Promise.all([import("@azure/identity"), import("@azure/keyvault-secrets")]);
  const credential = opts.credential ?? new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  const client = new SecretClient(vaultUrl, credential, opts.clientOptions);
  let current: string | undefined;
  try {
    current = (await client.getSecret(name)).value;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) explain(err, name, vaultUrl, "read");
  }
  const next = update(current);
  try {
    const stored = await client.setSecret(name, next, { contentType: "application/json" });
    return { version: stored.properties.version };
  } catch (err) {
    return explain(err, name, vaultUrl, "written");
  }
}
