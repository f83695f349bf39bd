// One process owns an embedded data folder (PGlite cannot be opened by two processes: see
// process-lock.ts). When that process is the redeem API, it publishes how to ask it, so that the CLI's
// read commands work while it runs: `<folder>.api.json`, readable by this user only, holding the API's
// loopback URL, its pid and a key made for this run (scopes read and admin: whoever can read the file
// can open the folder itself once the API stops, so it grants nothing new). Removed when the API stops;
// a file left by a dead API names a pid that is gone or a URL that does not answer, and is ignored.
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export type LocalApi = { url: string; pid: number; key: string };

/** The side file of an embedded data folder. */
export function localApiFile(dataDir: string): string {
  return `${resolve(dataDir)}.api.json`;
}

/** Publishes the API for `dataDir`; returns the key (to accept) and the removal. */
export function publishLocalApi(dataDir: string, url: string): { key: string; remove(): void } {
  const file = localApiFile(dataDir);
  const key = `local_${randomBytes(32).toString("base64url")}`;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ url, pid: process.pid, key } satisfies LocalApi), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return { key, remove: () => rmSync(file, { force: true }) };
}

/** The API published for `dataDir` by a live process, or null. */
export function readLocalApi(dataDir: string): LocalApi | null {
  let api: Partial<LocalApi>;
  try {
    api = JSON.parse(readFileSync(localApiFile(dataDir), "utf8")) as Partial<LocalApi>;
  } catch {
    return null;
  }
  if (typeof api.url !== "string" || typeof api.key !== "string" || typeof api.pid !== "number") return null;
  try {
    process.kill(api.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return null;
  }
  return { url: api.url, pid: api.pid, key: api.key };
}
