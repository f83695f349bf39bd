// Test helpers for the generator: the real CLI as a child process (each one dies with its test),
// fresh databases, and code counts.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type CouponStore, openStore } from "@coupons/db";
import type { EngineUnderTest } from "../../../packages/db/test/support.ts";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const MAIN_SRC = join(ROOT, "apps/generator/src/main.ts");

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

// ---------------------------------------------------------------------------------------------
// child processes: every one started through here is SIGKILLed after its test, also when the test
// failed or timed out, and waited for (an embedded worker left running keeps its data folder locked)

const children = new Set<ChildProcess>();

/** Registers a child process to be killed (and waited for) after the current test. */
export function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGKILLs every tracked child still running and resolves when all have exited. */
export async function killChildren(): Promise<void> {
  const alive = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  children.clear();
  await Promise.all(
    alive.map((c) => {
      const gone = once(c, "exit");
      c.kill("SIGKILL");
      return gone;
    }),
  );
}

// root-level hooks (this module is evaluated once per run); not under mocha (a script), nothing to do
if (typeof afterEach === "function") afterEach("kill the child processes the test left running", killChildren);
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Starts `coupons <args>` from source with the Node running the tests (tracked: it dies with the test). */
export function startCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined, ...opts.env };
  return track(
    spawn(process.execPath, ["--conditions=source", "--disable-warning=ExperimentalWarning", MAIN_SRC, ...args], {
      env: env as NodeJS.ProcessEnv,
      cwd: opts.cwd ?? ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/**
 * Resolves with the first JSON log line (stdout or stderr) whose `event` is `event`, or with null when
 * the child exits without writing one: a test acts on what the program says it did, not on a clock.
 */
export function nextEvent(child: ChildProcess, event: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const buffers = new Map<unknown, string>();
    const listeners: [NodeJS.ReadableStream, (d: Buffer) => void][] = [];
    const done = (value: Record<string, unknown> | null) => {
      for (const [stream, fn] of listeners) stream.off("data", fn);
      child.off("exit", onExit);
      resolve(value);
    };
    const onExit = () => done(null);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const fn = (d: Buffer) => {
        const lines = `${buffers.get(stream) ?? ""}${d}`.split("\n");
        buffers.set(stream, lines.pop() ?? "");
        for (const line of lines) {
          if (!line.startsWith("{")) continue;
          try {
            const record = JSON.parse(line) as Record<string, unknown>;
            if (record.event === event) return done(record);
          } catch {
            // not a log line
          }
        }
      };
      stream.on("data", fn);
      listeners.push([stream, fn]);
    }
    if (child.exitCode !== null || child.signalCode !== null) done(null);
    else child.once("exit", onExit);
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

/** Mocha hooks for a suite on one engine: a fresh database with campaign c1 before, dropped after;
 *  `set` is given the store. */
export function storeWithCampaign(engine: EngineUnderTest, set: (store: CouponStore) => void): void {
  let cleanup = async () => {};
  before(async () => {
    const opened = await engine.open();
    cleanup = opened.cleanup;
    set(opened.store);
    await createCampaign(opened.store);
  });
  after(async () => cleanup());
}

/** A CLI result as a failure message: its exit code and everything it wrote. */
export const explain = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Mocha hooks for CLI tests on a fresh embedded folder per test: `path` (the temp folder, made and
 *  removed around each test), `url` (its embedded database) and `env` (the variable naming it). */
export function embeddedFolder(): { readonly path: string; readonly url: string; env(): { COUPONS_DATABASE_URL: string } } {
  let dir: ReturnType<typeof tempDir> | undefined;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir?.remove());
  return {
    get path() {
      if (!dir) throw new Error("embeddedFolder() is used outside a test");
      return dir.path;
    },
    get url() {
      return `embedded:${join(this.path, "db")}`;
    },
    env() {
      return { COUPONS_DATABASE_URL: this.url };
    },
  };
}
