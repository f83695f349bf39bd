// The redeem API as the benchmarks run it (scripts/bench-api.ts, bench-campaign-page.ts,
// bench-soldout.ts): apps/redeem-api/src/main.ts in a child process on a free loopback port, with one
// API key, started and awaited in one place.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hashKey } from "../apps/redeem-api/src/auth.ts";
import { freePort } from "../packages/db/test/urls.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export type ApiProcess = { child: ChildProcess; base: string; port: number };

/**
 * Spawns the API and waits (60 s at most) for its /readyz. `onSpawn` gets the child at once, so the
 * caller's clean-up can stop it even when it never becomes ready. Only PATH of this environment is
 * passed on, with the settings given.
 */
export async function startApi(opts: {
  databaseUrl: string;
  key: string;
  scopes: string[];
  logLevel?: "info" | "warn";
  env?: Record<string, string>;
  nodeArgs?: string[];
  onSpawn?: (child: ChildProcess) => void;
}): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--conditions=source", join(root, "apps/redeem-api/src/main.ts")], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      COUPONS_DATABASE_URL: opts.databaseUrl,
      COUPONS_API_PORT: String(port),
      COUPONS_API_HOST: "127.0.0.1",
      COUPONS_LOG_LEVEL: opts.logLevel ?? "warn",
      COUPONS_API_KEYS: JSON.stringify([{ id: "bench", sha256: hashKey(opts.key), scopes: opts.scopes }]),
      ...opts.env,
    },
  });
  opts.onSpawn?.(child);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/readyz`, child);
  return { child, base, port };
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up in 60 s`);
}
