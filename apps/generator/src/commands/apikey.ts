// `coupons apikey create`: a new API key for a consumer service of the redeem API. The key (32 random
// bytes, base64url, prefixed "cpn_") is printed once and stored nowhere; what the API is configured
// with is its entry: {"id","sha256","scopes"} (COUPONS_API_KEYS is a JSON array of entries, see
// apps/redeem-api/src/config.ts). The entry can be added to a keys file (COUPONS_API_KEYS_FILE) or to
// the Key Vault secret the API reads (COUPONS_API_KEYS_SECRET), through the managed identity.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type SecretWriteOptions, StoreError, updateSecret, vaultUrlOf } from "@coupons/db";
import { type Command, InvalidArgumentError } from "commander";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, out, printJson } from "./context.ts";

/** The API's scopes (apps/redeem-api/src/config.ts SCOPES). */
export const API_SCOPES = ["redeem", "read", "admin"] as const;
type ApiScope = (typeof API_SCOPES)[number];
export type ApiKeyEntry = { id: string; sha256: string; scopes: ApiScope[] };

const ID = /^[A-Za-z0-9._-]{1,50}$/;
export const DEFAULT_KEYS_SECRET = "coupons-api-keys";

const scopesArg = (v: string): ApiScope[] => {
  const scopes = [
    ...new Set(
      v
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  const bad = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`must be a comma list of ${API_SCOPES.join(", ")}${bad.length ? ` (unknown: ${bad.join(", ")})` : ""}.`);
  }
  return scopes as ApiScope[];
};

const idArg = (v: string): string => {
  if (!ID.test(v)) throw new InvalidArgumentError("must be 1-50 letters, digits, '.', '_' or '-'.");
  return v;
};

/** A new key and its entry: the key is 256 random bits; the entry holds only its SHA-256. */
export function newApiKey(id: string, scopes: ApiScope[]): { key: string; entry: ApiKeyEntry } {
  const key = `cpn_${randomBytes(32).toString("base64url")}`;
  return { key, entry: { id, sha256: createHash("sha256").update(key, "utf8").digest("hex"), scopes } };
}

/** `current` (a JSON array of entries, or nothing) with `entry` added; refused when its id is there already. */
export function addEntry(current: string | undefined, entry: ApiKeyEntry, where: string): string {
  let list: unknown = [];
  if (current !== undefined && current.trim() !== "") {
    try {
      list = JSON.parse(current);
    } catch {
      throw new GeneratorError("INVALID_ARGUMENT", `${where} is not JSON; it should hold an array of {id, sha256, scopes}`);
    }
  }
  if (!Array.isArray(list)) throw new GeneratorError("INVALID_ARGUMENT", `${where} should hold a JSON array of {id, sha256, scopes}`);
  if (list.some((k) => (k as { id?: unknown })?.id === entry.id)) {
    throw new StoreError("CONFLICT", `${where} has a key with id ${entry.id} already; choose another --id (the old key keeps working)`);
  }
  return `${JSON.stringify([...list, entry], null, 2)}\n`;
}

/** The keys file with the entry added (checked before anything is written), and its writer: the file
 *  written whole (temp file, then rename), readable by this user only, its folder created. */
function fileUpdate(path: string, entry: ApiKeyEntry): { file: string; write(): void } {
  const file = resolve(path);
  const next = addEntry(existsSync(file) ? readFileSync(file, "utf8") : undefined, entry, file);
  return {
    file,
    write() {
      mkdirSync(dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, next, { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
  };
}

/** `vault`: how Key Vault is reached (tests: a fake credential and the loopback fake's certificate). */
export function registerApiKeyCommands(program: Command, ctx: CliContext, deps: { vault?: SecretWriteOptions } = {}): void {
  const apikey = program.command("apikey").description("API keys of the redeem API's consumer services.");
  apikey
    .command("create")
    .description(
      "Make a strong random API key: prints the key once (it is stored nowhere) and the configuration entry with its SHA-256 " +
        "(COUPONS_API_KEYS is a JSON array of these); --file or --key-vault adds the entry where the API reads it. --json for JSON.",
    )
    .requiredOption("--id <service>", "the consumer service the key is for (1-50 letters, digits, '.', '_', '-'; shown in logs)", idArg)
    .option("--scopes <list>", `comma list of ${API_SCOPES.join(", ")}`, scopesArg, ["redeem", "read"] as ApiScope[])
    .option(
      "--file <path>",
      "add the entry to this JSON keys file (created, readable by you only); run the API with COUPONS_API_KEYS_FILE=<path>",
    )
    .option(
      "--key-vault <name>",
      "add the entry to the Key Vault secret the API reads (COUPONS_API_KEYS_SECRET), as the managed identity (DefaultAzureCredential); a vault name or its https URL",
    )
    .option("--secret <name>", "the Key Vault secret holding the keys", DEFAULT_KEYS_SECRET)
    .addHelpText("after", exitHelp([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE]))
    .action(async (o: { id: string; scopes: ApiScope[]; file?: string; keyVault?: string; secret: string }) => {
      const { key, entry } = newApiKey(o.id, o.scopes);
      const file = o.file === undefined ? undefined : fileUpdate(o.file, entry);
      let vault: { url: string; secret: string; version?: string } | undefined;
      if (o.keyVault !== undefined) {
        const url = vaultUrlOf(o.keyVault);
        const stored = await updateSecret(
          url,
          o.secret,
          (current) => addEntry(current, entry, `Key Vault secret "${o.secret}" in ${url}`),
          deps.vault,
        );
        vault = { url, secret: o.secret, version: stored.version };
      }
      file?.write();
      const apiKeys = JSON.stringify([entry]);
      if (ctx.globals().json) {
        printJson({ id: entry.id, key, entry, apiKeys, file: file?.file ?? null, keyVault: vault ?? null });
        return;
      }
      out(`API key for ${entry.id} (shown once, stored nowhere: give it to the service now; it sends it as X-API-Key):`);
      out(`  ${key}`);
      out("");
      out("Configuration entry (the key's SHA-256; COUPONS_API_KEYS is a JSON array of entries):");
      out(`  ${JSON.stringify(entry)}`);
      out("");
      if (vault)
        out(`Added to Key Vault secret "${vault.secret}" in ${vault.url}; the API reads it with COUPONS_API_KEYS_SECRET=${vault.secret}.`);
      if (file) out(`Added to ${file.file}; run the API with: COUPONS_API_KEYS_FILE=${o.file} npm run api`);
      if (!vault && !o.file) out(`Run the API with it: COUPONS_API_KEYS='${apiKeys}' npm run api`);
    });
}
