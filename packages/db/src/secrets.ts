// Settings kept in Azure Key Vault, read by name at start: `X_SECRET=<secret name>` becomes `X=<its value>`.
// Values are never logged nor put in a message; errors name the variable, the secret and the vault only.
//
//   COUPONS_KEYVAULT_URL                  https://<vault>.vault.azure.net
//   COUPONS_DATABASE_URL_SECRET=<name>    -> COUPONS_DATABASE_URL   (any COUPONS_*_SECRET works the same:
//   COUPONS_API_KEYS_SECRET=<name>        -> COUPONS_API_KEYS        COUPONS_MSSQL_PASSWORD_SECRET, ...)
//   <name> may be `name/version` to pin a version.
//   COUPONS_KEYVAULT_CLIENT_ID            client id of the user-assigned identity that reads the vault
//                                         (default: COUPONS_MSSQL_CLIENT_ID, then the credential chain's own)
// The Azure SDKs are imported when a secret is first read, not when @coupons/db is: most processes
// never name a Key Vault, and loading both SDKs costs every importer start-up time and memory.
import type { TokenCredential } from "@azure/identity";
import type { SecretClientOptions } from "@azure/keyvault-secrets";
import { redact } from "./config.ts";
import { StoreError } from "./contract.ts";

export type Env = Record<string, string | undefined>;

/** Reads one secret's current (or pinned) value; the Key Vault client by default, a fake in tests. */
export type SecretReader = (name: string, version: string | undefined) => Promise<string | undefined>;

export type SecretsOptions = {
  /** The vault; default COUPONS_KEYVAULT_URL from the environment. */
  vaultUrl?: string;
  /** Default: DefaultAzureCredential (managed identity in Azure, Azure CLI on a developer machine). */
  credential?: TokenCredential;
  /** Passed to SecretClient (tests: tlsOptions, retryOptions, disableChallengeResourceVerification). */
  clientOptions?: SecretClientOptions;
  /** Replaces the Key Vault client altogether. */
  reader?: SecretReader;
};

/** What was resolved, without values: safe to log. */
export type ResolvedSecret = { variable: string; secret: string; version?: string };

export const SECRET_SUFFIX = "_SECRET";
export const KEYVAULT_URL_VARIABLE = "COUPONS_KEYVAULT_URL";
const DEFAULT_PATTERN = /^COUPONS_[A-Z0-9_]+_SECRET$/;
// Key Vault object names: 1-127 of letters, digits and dashes; versions are 32 hex digits.
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const SECRET_VERSION = /^[0-9A-Za-z]{1,64}$/;

function fail(message: string, cause?: unknown): never {
  throw new StoreError("CONFIG", redact(message), cause === undefined ? undefined : { cause });
}

/** The vault URL from the options or the environment, checked: https and a host. */
export function vaultUrlFrom(env: Env, opts: SecretsOptions = {}): string {
  const raw = (opts.vaultUrl ?? env[KEYVAULT_URL_VARIABLE] ?? "").trim();
  if (raw === "")
    return fail(`${KEYVAULT_URL_VARIABLE} must be set to the vault's URL (https://<vault>.vault.azure.net) to read *_SECRET settings`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch (err) {
    return fail(`${KEYVAULT_URL_VARIABLE} must be a URL like https://<vault>.vault.azure.net (got "${raw}")`, err);
  }
  if (u.protocol !== "https:") fail(`${KEYVAULT_URL_VARIABLE} must be an https:// URL (got ${u.protocol}//)`);
  if (u.username || u.password) fail(`${KEYVAULT_URL_VARIABLE} must not contain a user or password`);
  return u.origin;
}

type Wanted = { variable: string; source: string; secret: string; version?: string };

/** Which `X_SECRET` variables name a secret: `names` (the X's) if given, else every COUPONS_*_SECRET that is set. */
export function secretReferences(env: Env, names?: readonly string[]): Wanted[] {
  const sources = names
    ? names.map((n) => `${n}${SECRET_SUFFIX}`)
    : Object.keys(env)
        .filter((k) => DEFAULT_PATTERN.test(k))
        .sort();
  const wanted: Wanted[] = [];
  for (const source of sources) {
    const ref = env[source]?.trim();
    if (!ref) continue;
    const variable = source.slice(0, -SECRET_SUFFIX.length);
    if (env[variable] !== undefined && env[variable] !== "") {
      fail(`${variable} and ${source} are both set; set the value or the Key Vault secret name, not both`);
    }
    const [secret = "", version, ...rest] = ref.split("/");
    if (!SECRET_NAME.test(secret) || rest.length > 0 || (version !== undefined && !SECRET_VERSION.test(version))) {
      fail(`${source} must be a Key Vault secret name (letters, digits, dashes; optionally name/version), got "${ref}"`);
    }
    wanted.push(version ? { variable, source, secret, version } : { variable, source, secret });
  }
  return wanted;
}

function keyVaultReader(vaultUrl: string, env: Env, opts: SecretsOptions): SecretReader {
  const clientId = env.COUPONS_KEYVAULT_CLIENT_ID?.trim() || env.COUPONS_MSSQL_CLIENT_ID?.trim() || undefined;
  let client: Promise<import("@azure/keyvault-secrets").SecretClient> | undefined;
  const open = async () => {
    const [{ DefaultAzureCredential }, { SecretClient }] = await Promise.all([
      import("@azure/identity"),
      import("@azure/keyvault-secrets"),
    ]);
    // Constructing the credential contacts nothing; the first getSecret asks it for a token.
    const credential = opts.credential ?? new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    return new SecretClient(vaultUrl, credential, opts.clientOptions);
  };
  return async (name, version) => {
    client ??= open();
    return (await (await client).getSecret(name, version ? { version } : {})).value;
  };
}

function explain(err: unknown, w: Wanted, vaultUrl: string, values: readonly string[]): never {
  const status = (err as { statusCode?: number }).statusCode;
  const what = `Key Vault secret "${w.secret}"${w.version ? ` version ${w.version}` : ""} (for ${w.variable}, named by ${w.source}) in ${vaultUrl}`;
  let detail = (err as Error)?.message ?? String(err);
  for (const v of values) if (v) detail = detail.split(v).join("***");
  detail = redact(detail).split("\n")[0]?.slice(0, 300) ?? "";
  if (status === 404) fail(`${what} does not exist; create it or fix ${w.source}`, err);
  if (status === 401 || status === 403) {
    fail(`${what} cannot be read by this identity (HTTP ${status}); grant it the "Key Vault Secrets User" role on the vault`, err);
  }
  throw new StoreError("UNAVAILABLE", `${what} could not be read: ${detail}`, { cause: err });
}

/**
 * Returns a copy of `env` with every `X_SECRET=<name>` (for X in `names`, or every COUPONS_*_SECRET) replaced
 * by `X=<the secret's value>` read from Key Vault, and what was resolved (names only). With no reference the
 * vault is not contacted and COUPONS_KEYVAULT_URL need not be set.
 */
export async function resolveSecretEnv(
  env: Env,
  names?: readonly string[],
  opts: SecretsOptions = {},
): Promise<{ env: Env; resolved: ResolvedSecret[] }> {
  const wanted = secretReferences(env, names);
  if (wanted.length === 0) return { env: { ...env }, resolved: [] };
  const vaultUrl = vaultUrlFrom(env, opts);
  const read = opts.reader ?? keyVaultReader(vaultUrl, env, opts);
  const settled = await Promise.allSettled(wanted.map((w) => read(w.secret, w.version)));
  const values = settled.flatMap((s) => (s.status === "fulfilled" && s.value ? [s.value] : []));
  const out: Env = { ...env };
  const resolved: ResolvedSecret[] = [];
  settled.forEach((s, i) => {
    const w = wanted[i] as Wanted;
    if (s.status === "rejected") explain(s.reason, w, vaultUrl, values);
    if (s.value === undefined || s.value === "") {
      fail(`Key Vault secret "${w.secret}" (for ${w.variable}, named by ${w.source}) in ${vaultUrl} is empty`);
    }
    out[w.variable] = s.value;
    resolved.push(w.version ? { variable: w.variable, secret: w.secret, version: w.version } : { variable: w.variable, secret: w.secret });
  });
  return { env: out, resolved };
}

/**
 * Start-up hook for the CLI and the API: resolves the Key Vault references in `env` (process.env by default)
 * and writes the values into it, before the configuration is read. Returns one log line's worth of facts,
 * never a value. A no-op (no network) when no `*_SECRET` variable is set.
 */
export async function loadSecretsIntoEnv(
  env: Env = process.env,
  opts: SecretsOptions & { names?: readonly string[] } = {},
): Promise<{ resolved: ResolvedSecret[]; describe: string }> {
  const { env: next, resolved } = await resolveSecretEnv(env, opts.names, opts);
  for (const r of resolved) env[r.variable] = next[r.variable];
  const describe =
    resolved.length === 0
      ? "no settings from Key Vault"
      : `from Key Vault ${vaultUrlFrom(env, opts)}: ${resolved.map((r) => `${r.variable} <- ${r.secret}${r.version ? `/${r.version}` : ""}`).join(", ")}`;
  return { resolved, describe };
}
