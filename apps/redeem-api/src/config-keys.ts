// The API keys of the redeem API's configuration (config.ts): COUPONS_API_KEYS or the file
// COUPONS_API_KEYS_FILE names, checked once at start (ids, hashes, scopes; the same key twice is refused).
import { readFileSync } from "node:fs";
import { z } from "zod";

export const SCOPES = ["redeem", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type ApiKey = { id: string; sha256: Buffer; scopes: ReadonlySet<Scope> };

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable} ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

const apiKeysSchema = z
  .array(
    z
      .object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,50}$/, "id must be 1-50 letters, digits, '.', '_' or '-'"),
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "sha256 must be 64 hex digits (the SHA-256 of the key)"),
        scopes: z.array(z.enum(SCOPES)).min(1, "scopes must name at least one of redeem, read, admin"),
      })
      .strict(),
  )
  .superRefine((keys, ctx) => {
    const seen = new Set<string>();
    const hashes = new Map<string, string>();
    for (const [i, k] of keys.entries()) {
      if (seen.has(k.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `id ${k.id} appears twice` });
      seen.add(k.id);
      // one key would match two entries, and only the first one's scopes would ever apply
      const hash = k.sha256.toLowerCase();
      const first = hashes.get(hash);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [i, "sha256"],
          message: `the key ${k.id} has the same sha256 as the key ${first}: one key cannot have two entries; merge their scopes into one`,
        });
      } else hashes.set(hash, k.id);
    }
  });

/** The keys' JSON: COUPONS_API_KEYS itself, or the file COUPONS_API_KEYS_FILE names (one of the two). */
export function apiKeysText(value: string | undefined, file: string | undefined): { raw: string | undefined; name: string } {
  if (file === undefined) return { raw: value, name: "COUPONS_API_KEYS" };
  if (value !== undefined) throw new ConfigError("COUPONS_API_KEYS_FILE", "and COUPONS_API_KEYS are both set; set one of them");
  try {
    return { raw: readFileSync(file, "utf8"), name: `COUPONS_API_KEYS_FILE (${file})` };
  } catch (err) {
    throw new ConfigError(
      "COUPONS_API_KEYS_FILE",
      `names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}): ${file}`,
    );
  }
}

export function parseApiKeys({ raw, name }: { raw: string | undefined; name: string }, tokensAccepted: boolean): ApiKey[] {
  if (raw === undefined) {
    // Entra ID tokens alone are enough; with neither, no caller could ever be let in
    if (tokensAccepted) return [];
    throw new ConfigError(
      name,
      'is required: a JSON array like [{"id":"shop","sha256":"<hex of sha256(key)>","scopes":["redeem","read"]}], or COUPONS_API_KEYS_FILE naming a file that holds it; make a key and its entry with `coupons apikey create --id <service> --scopes redeem,read [--file <path>]` ' +
        "(or accept Entra ID tokens instead: set COUPONS_API_ENTRA_TENANT_ID and COUPONS_API_ENTRA_AUDIENCE)",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, "must be valid JSON (an array of {id, sha256, scopes})");
  }
  const r = apiKeysSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at [${issue.path.join("].[")}]` : "";
    throw new ConfigError(name, `is invalid${where}: ${issue?.message ?? "bad value"}`);
  }
  if (r.data.length === 0) throw new ConfigError(name, "must list at least one key");
  return r.data.map((k) => ({ id: k.id, sha256: Buffer.from(k.sha256.toLowerCase(), "hex"), scopes: new Set(k.scopes) }));
}
