// One place decides which engine a process talks to, from a URL or the environment:
//   COUPONS_DATABASE_URL=embedded:./path | embedded:memory | postgres://... | mssql://... | sqlserver://...
//   or the Azure SQL variables (COUPONS_MSSQL_SERVER, ...: see engines/mssql-config.ts)
//   or nothing: the embedded engine in ./.coupons/db.
// Optionally a read replica for analytics reads (never for redemption, validation or generation):
//   COUPONS_DATABASE_READ_URL=postgres://... (a streaming replica) | mssql://... (opened with
//   ApplicationIntent=ReadOnly), or COUPONS_MSSQL_READ_INTENT=true for Azure SQL's own read replica
//   on the same server (the COUPONS_MSSQL_* settings with ApplicationIntent=ReadOnly).
import { parseBoolean } from "./env.ts";
import { StoreError } from "./contract.ts";

export const DEFAULT_EMBEDDED_DIR = ".coupons/db";

export type StoreConfig =
  | { engine: "embedded"; dataDir: string }
  | { engine: "postgres"; url: string; readUrl?: string }
  | {
      engine: "mssql";
      url?: string;
      env?: Record<string, string | undefined>;
      /** A second server for analytics reads, opened with ApplicationIntent=ReadOnly. */
      readUrl?: string;
      /** Analytics reads on a second pool to the same server with ApplicationIntent=ReadOnly. */
      readIntent?: boolean;
    };

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
  let config: StoreConfig;
  if (url !== undefined && url !== "") config = storeConfigFromUrl(url);
  else if (env.COUPONS_MSSQL_SERVER) config = { engine: "mssql", env };
  else config = { engine: "embedded", dataDir: env.COUPONS_DATA_DIR || DEFAULT_EMBEDDED_DIR };
  return withReadReplica(config, env.COUPONS_DATABASE_READ_URL, env.COUPONS_MSSQL_READ_INTENT);
}

/** Adds the read replica settings to a primary's config; refuses one that cannot serve it. */
export function withReadReplica(config: StoreConfig, readUrl: string | undefined, readIntent?: string): StoreConfig {
  const url = readUrl?.trim() || undefined;
  let wantsIntent = false;
  if (readIntent !== undefined && readIntent.trim() !== "") {
    try {
      wantsIntent = parseBoolean(readIntent);
    } catch {
      throw new StoreError("CONFIG", `COUPONS_MSSQL_READ_INTENT must be true or false (got "${readIntent}")`);
    }
  }
  if (!url && !wantsIntent) return config;
  if (config.engine === "embedded") {
    throw new StoreError(
      "CONFIG",
      "COUPONS_DATABASE_READ_URL needs a server engine (postgres:// or mssql://); the embedded database has no replicas",
    );
  }
  if (wantsIntent && config.engine !== "mssql") {
    throw new StoreError("CONFIG", "COUPONS_MSSQL_READ_INTENT is for SQL Server; for PostgreSQL set COUPONS_DATABASE_READ_URL");
  }
  if (url) {
    const read = storeConfigFromUrl(url);
    if (read.engine !== config.engine) {
      throw new StoreError(
        "CONFIG",
        `COUPONS_DATABASE_READ_URL must name the same engine as the primary (${config.engine}), got ${read.engine}: ${redact(url)}`,
      );
    }
  }
  if (config.engine === "postgres") return { ...config, readUrl: url };
  return { ...config, ...(url ? { readUrl: url } : {}), ...(wantsIntent ? { readIntent: true } : {}) };
}

/**
 * Text (a URL, a connection string, or a message holding them) with every password replaced, for
 * messages and logs. In a URL the password runs from the first ':' after `//` to the LAST '@' of
 * the URL: a password may hold '@', '/', '?' or ':' unencoded, and a user may hold '@' (Azure's
 * `user@server`), so nothing shorter is safe; a path or query holding '@' is masked along with it.
 * `password=`/`pwd=` values (URL queries, ADO strings, quoted or braced) are masked whole.
 */
export function redact(text: string): string {
  return text
    .replace(/\/\/([^\s"'<>]*)/g, (whole, rest: string) => {
      const at = rest.lastIndexOf("@");
      const colon = rest.indexOf(":");
      if (at < 0 || colon < 0 || colon > at) return whole;
      return `//${rest.slice(0, colon + 1)}***${rest.slice(at)}`;
    })
    .replace(/(password|pwd)(\s*=\s*)("(?:[^"]|"")*"|'(?:[^']|'')*'|\{(?:[^}]|\}\})*\}|[^;&]*)/gi, "$1$2***");
}

export function describeConfig(c: StoreConfig): string {
  switch (c.engine) {
    case "embedded":
      return c.dataDir === "memory" ? "embedded (in memory)" : `embedded (${c.dataDir})`;
    case "postgres":
      return `postgres (${redact(c.url)})${c.readUrl ? `, analytics reads on ${redact(c.readUrl)}` : ""}`;
    case "mssql": {
      const reads = c.readUrl
        ? `, analytics reads on ${redact(c.readUrl)}`
        : c.readIntent
          ? ", analytics reads ApplicationIntent=ReadOnly"
          : "";
      return `${c.url ? `mssql (${redact(c.url)})` : `mssql (${c.env?.COUPONS_MSSQL_SERVER ?? "?"})`}${reads}`;
    }
  }
}
