// One place decides which engine a process talks to, from a URL or the environment:
//   COUPONS_DATABASE_URL=embedded:./path | embedded:memory | postgres://... | mssql://... | sqlserver://...
//   or the Azure SQL variables (COUPONS_MSSQL_SERVER, ...: see engines/mssql-config.ts)
//   or nothing: the embedded engine in ./.coupons/db.
import { StoreError } from "./contract.ts";

export const DEFAULT_EMBEDDED_DIR = ".coupons/db";

export type StoreConfig =
  | { engine: "embedded"; dataDir: string }
  | { engine: "postgres"; url: string }
  | { engine: "mssql"; url?: string; env?: Record<string, string | undefined> };

export function storeConfigFromUrl(url: string): StoreConfig {
  const trimmed = url.trim();
  if (trimmed === "")
    throw new StoreError("CONFIG", "the database URL is empty; leave COUPONS_DATABASE_URL unset for the embedded default");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  switch (scheme) {
    case "embedded":
    case "pglite": {
      const rest = trimmed.slice(scheme.length + 1).replace(/^\/\//, "");
      if (rest === "") throw new StoreError("CONFIG", `the embedded URL needs a folder or "memory", e.g. embedded:./data (got ${url})`);
      return { engine: "embedded", dataDir: rest };
    }
    case "postgres":
    case "postgresql": {
      try {
        const u = new URL(trimmed);
        if (!u.hostname && !u.searchParams.get("host")) throw new Error("no host");
      } catch (err) {
        throw new StoreError("CONFIG", `the PostgreSQL URL is malformed (expected postgres://user@host:port/database): ${redact(url)}`, {
          cause: err,
        });
      }
      return { engine: "postgres", url: trimmed };
    }
    case "mssql":
    case "sqlserver":
      return { engine: "mssql", url: trimmed };
    case undefined:
      throw new StoreError("CONFIG", `the database URL has no scheme; use embedded:, postgres:// or mssql:// (got ${redact(url)})`);
    default:
      throw new StoreError("CONFIG", `unknown database scheme "${scheme}:"; use embedded:, postgres:// or mssql://`);
  }
}

export function storeConfigFromEnv(env: Record<string, string | undefined> = process.env): StoreConfig {
  const url = env.COUPONS_DATABASE_URL;
  if (url !== undefined && url !== "") return storeConfigFromUrl(url);
  if (env.COUPONS_MSSQL_SERVER) return { engine: "mssql", env };
  return { engine: "embedded", dataDir: env.COUPONS_DATA_DIR || DEFAULT_EMBEDDED_DIR };
}

/** A URL with its password replaced, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, "$1***@").replace(/(password|pwd)=([^;&]*)/gi, "$1=***");
}

export function describeConfig(c: StoreConfig): string {
  switch (c.engine) {
    case "embedded":
      return c.dataDir === "memory" ? "embedded (in memory)" : `embedded (${c.dataDir})`;
    case "postgres":
      return `postgres (${redact(c.url)})`;
    case "mssql":
      return c.url ? `mssql (${redact(c.url)})` : `mssql (${c.env?.COUPONS_MSSQL_SERVER ?? "?"})`;
  }
}
