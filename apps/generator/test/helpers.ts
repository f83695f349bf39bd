// Test helpers for the generator: the real CLI as a child process, fresh databases, and code counts.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type CouponStore, openStore } from "@coupons/db";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const MAIN_SRC = join(ROOT, "apps/generator/src/main.ts");

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Starts `coupons <args>` from source with the Node running the tests. */
export function startCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined, ...opts.env };
  return spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", MAIN_SRC, ...args], {
    env: env as NodeJS.ProcessEnv,
    cwd: opts.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise((res, rej) => {
    child.on("error", rej);
    child.on("close", (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

export function cli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  return finished(startCli(args, opts));
}

/** A throw-away folder; remove() deletes it. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "coupons-gen-test-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The request's codes, as a set (throws if a code appears twice). */
export async function codesOf(store: CouponStore, requestId: string): Promise<Set<string>> {
  const set = new Set<string>();
  for await (const row of store.streamCoupons({ requestId })) {
    if (set.has(row.couponCode)) throw new Error(`code ${row.couponCode} appears twice`);
    set.add(row.couponCode);
  }
  return set;
}

export async function withStore<T>(url: string, fn: (store: CouponStore) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function createCampaign(store: CouponStore, campaignId = "c1"): Promise<void> {
  await store.createCampaign({
    campaignId,
    name: `Campaign ${campaignId}`,
    startDate: new Date(Date.now() - 86_400_000),
    endDate: new Date(Date.now() + 30 * 86_400_000),
    discountPercentage: 10,
  });
}

/** Polls until the predicate holds (or fails after timeoutMs). */
export async function until(what: string, predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await predicate())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A deterministic code source: PREFIX + a zero-padded counter from 0, for forcing collisions. */
export function counterSource(prefix: string): () => string {
  let i = 0;
  return () => `${prefix}${String(i++).padStart(8, "0")}`;
}
