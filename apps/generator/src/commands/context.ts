// What every command of the `coupons` CLI is given: the global options, the store to work on, where
// output goes, the settings from the environment, and where to say the exit code.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type CouponStore, type StoreConfig, openStore, storeConfigFromEnv, storeConfigFromUrl } from "@coupons/db";
import type { Command } from "commander";
import type { GeneratorConfig } from "../config.ts";
import type { ExitCode } from "../errors.ts";
import { isStdoutClosed } from "../output.ts";
import { defaultConcurrency } from "../pipeline.ts";

export type GlobalOptions = { database?: string; json?: boolean; localTime?: boolean };

export type CliContext = {
  globals(): GlobalOptions;
  /** The environment's settings (read on first use). */
  config(): GeneratorConfig;
  /** Told the exit code of a command that ended without an error but not simply done. */
  setExit(code: ExitCode): void;
};

export function storeConfig(globals: GlobalOptions): StoreConfig {
  return globals.database ? storeConfigFromUrl(globals.database) : storeConfigFromEnv();
}

/** Opens the configured store for one command and closes it afterwards. */
export async function withStore<T>(
  ctx: CliContext,
  fn: (store: CouponStore, config: StoreConfig) => Promise<T>,
  poolSize?: number,
): Promise<T> {
  const config = storeConfig(ctx.globals());
  const store = await openStore(config, { poolSize, applicationName: "coupons-generator" });
  try {
    return await fn(store, config);
  } finally {
    await store.close().catch(() => {});
  }
}

/** The embedded data folder the configuration names, when it does not exist yet (else null): a
 *  command that could only refuse or find nothing there checks this first, so that it creates and
 *  migrates no database. */
export function missingEmbeddedFolder(ctx: CliContext): string | null {
  const config = storeConfig(ctx.globals());
  if (config.engine !== "embedded" || config.dataDir === "memory") return null;
  const folder = resolve(config.dataDir);
  return existsSync(folder) ? null : folder;
}

/** Connections a generation run needs: its batches in flight, the claim and a reader. */
export function poolFor(ctx: CliContext, concurrency?: number): number {
  return (concurrency ?? defaultConcurrency(storeConfig(ctx.globals()).engine)) + 2;
}

export function out(line: string): void {
  // a reader that closed the pipe (`| head -1`) gets nothing more; the command ends quietly
  if (!isStdoutClosed()) process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export type Register = (program: Command, ctx: CliContext) => void;
