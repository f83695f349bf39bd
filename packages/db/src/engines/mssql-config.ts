// Connection settings of the mssql engine, built from a StoreConfig as one explicit `mssql` config
// object (never a connection string with Authentication= keywords, which tedious can silently turn
// into a SQL login). Pure: nothing here connects or asks for a token.
//
//   URL (SQL login):  mssql://user:password@host:1433/database?encrypt=true&trustServerCertificate=false
//                     (sqlserver:// is the same)
//   or environment:   COUPONS_MSSQL_SERVER      host, host:port, host,port or tcp:host,port
//                     COUPONS_MSSQL_DATABASE    database name
//                     COUPONS_MSSQL_AUTH        sql | managed-identity | default
//                                               (unset: sql when COUPONS_MSSQL_USER is set, else managed-identity)
//                     COUPONS_MSSQL_USER, COUPONS_MSSQL_PASSWORD   for sql
//                     COUPONS_MSSQL_CLIENT_ID   client id of a user-assigned managed identity (optional)
//                     COUPONS_MSSQL_ENCRYPT     true (default) | false: the explicit local opt-out
//                     COUPONS_MSSQL_TRUST_SERVER_CERTIFICATE   false (default) | true (self-signed local servers)
import type { TokenCredential } from "@azure/identity";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import type sql from "mssql";
import { parseBoolean } from "../env.ts";
import { StoreError } from "../contract.ts";
import type { StoreConfig } from "../config.ts";

export type MssqlStoreConfig = Extract<StoreConfig, { engine: "mssql" }>;
export type MssqlAuth = "sql" | "managed-identity" | "default";

export type MssqlSettings = {
  config: sql.config;
  auth: MssqlAuth;
  server: string;
  port: number;
  database: string;
  /** For messages and logs: no secret in it. */
  describe: string;
};

/** How credentials are made; tests pass their own to see what was asked for. */
export type CredentialFactory = {
  managedIdentity(clientId: string | undefined): TokenCredential;
  defaultChain(clientId: string | undefined): TokenCredential;
};

export const azureCredentials: CredentialFactory = {
  managedIdentity: (clientId) => (clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential()),
  defaultChain: (clientId) => new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
};

export type MssqlOptions = { poolSize?: number; applicationName?: string; credentials?: CredentialFactory };

const DEFAULT_PORT = 1433;

function fail(message: string): never {
  throw new StoreError("CONFIG", message);
}

function flag(name: string, value: string | undefined | null, fallback: boolean): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  try {
    return parseBoolean(value);
  } catch {
    return fail(`${name} must be true or false (got "${value}")`);
  }
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} must have a port from 1 to 65535 (got "${value}")`);
  return n;
}

/** host, host:port, host,port or tcp:host,port (the form the Azure portal shows). */
export function parseServer(value: string): { server: string; port: number } {
  const v = value.trim().replace(/^tcp:/i, "");
  const m = /^([^,:\s]+)(?:[,:](\d+))?$/.exec(v);
  if (!m) return fail(`COUPONS_MSSQL_SERVER must be host, host:port or tcp:host,port (got "${value}")`);
  return { server: m[1] as string, port: m[2] ? port("COUPONS_MSSQL_SERVER", m[2]) : DEFAULT_PORT };
}

type Parts = {
  server: string;
  port: number;
  database: string;
  auth: MssqlAuth;
  user?: string;
  password?: string;
  clientId?: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
};

function partsFromUrl(url: string): Parts {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new StoreError("CONFIG", "the SQL Server URL is malformed (expected mssql://user:password@host:1433/database)", { cause: err });
  }
  if (!/^(mssql|sqlserver):$/i.test(u.protocol)) fail(`the SQL Server URL must start with mssql:// or sqlserver:// (got ${u.protocol}//)`);
  if (!u.hostname) fail("the SQL Server URL has no host (expected mssql://user:password@host:1433/database)");
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!database) fail("the SQL Server URL has no database (expected mssql://user:password@host:1433/database)");
  if (!u.username) {
    fail(
      "the SQL Server URL needs a user and password (SQL login); for Microsoft Entra ID set COUPONS_MSSQL_SERVER and COUPONS_MSSQL_AUTH instead",
    );
  }
  const known = new Set(["encrypt", "trustservercertificate"]);
  for (const key of u.searchParams.keys()) {
    if (!known.has(key.toLowerCase())) fail(`the SQL Server URL has an unknown option "${key}"; known: encrypt, trustServerCertificate`);
  }
  const param = (name: string) => [...u.searchParams].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  return {
    server: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port ? port("the SQL Server URL", u.port) : DEFAULT_PORT,
    database,
    auth: "sql",
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    encrypt: flag("the URL option encrypt", param("encrypt"), true),
    trustServerCertificate: flag("the URL option trustServerCertificate", param("trustServerCertificate"), false),
  };
}

function partsFromEnv(env: Record<string, string | undefined>): Parts {
  const server = env.COUPONS_MSSQL_SERVER?.trim();
  if (!server) fail("COUPONS_MSSQL_SERVER must be set to the server's host name (e.g. myserver.database.windows.net)");
  const database = env.COUPONS_MSSQL_DATABASE?.trim();
  if (!database) fail("COUPONS_MSSQL_DATABASE must be set to the database name");
  const user = env.COUPONS_MSSQL_USER || undefined;
  const auth = (env.COUPONS_MSSQL_AUTH?.trim().toLowerCase() || (user ? "sql" : "managed-identity")) as MssqlAuth;
  if (!["sql", "managed-identity", "default"].includes(auth)) {
    fail(`COUPONS_MSSQL_AUTH must be sql, managed-identity or default (got "${env.COUPONS_MSSQL_AUTH}")`);
  }
  if (auth === "sql" && (!user || !env.COUPONS_MSSQL_PASSWORD)) {
    fail("COUPONS_MSSQL_USER and COUPONS_MSSQL_PASSWORD must both be set for COUPONS_MSSQL_AUTH=sql");
  }
  const clientId = env.COUPONS_MSSQL_CLIENT_ID?.trim() || undefined;
  if (clientId && auth === "sql") fail("COUPONS_MSSQL_CLIENT_ID is for managed-identity or default authentication, not sql");
  return {
    ...parseServer(server),
    database,
    auth,
    user: auth === "sql" ? user : undefined,
    password: auth === "sql" ? env.COUPONS_MSSQL_PASSWORD : undefined,
    clientId,
    encrypt: flag("COUPONS_MSSQL_ENCRYPT", env.COUPONS_MSSQL_ENCRYPT, true),
    trustServerCertificate: flag("COUPONS_MSSQL_TRUST_SERVER_CERTIFICATE", env.COUPONS_MSSQL_TRUST_SERVER_CERTIFICATE, false),
  };
}

/** The mssql config (and what it was built from) for a StoreConfig; throws StoreError CONFIG naming the bad setting. */
export function buildMssqlSettings(c: MssqlStoreConfig, opts: MssqlOptions = {}): MssqlSettings {
  const p = c.url ? partsFromUrl(c.url) : partsFromEnv(c.env ?? process.env);
  const credentials = opts.credentials ?? azureCredentials;
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) fail(`poolSize must be a positive integer (got ${poolSize})`);
  let authentication: NonNullable<sql.config["authentication"]>;
  switch (p.auth) {
    case "sql":
      authentication = { type: "default", options: { userName: p.user, password: p.password } };
      break;
    case "managed-identity":
      authentication = { type: "token-credential", options: { credential: credentials.managedIdentity(p.clientId) } };
      break;
    case "default":
      authentication = { type: "token-credential", options: { credential: credentials.defaultChain(p.clientId) } };
      break;
  }
  const config: sql.config = {
    server: p.server,
    port: p.port,
    database: p.database,
    authentication,
    // Azure SQL serverless resumes in up to a minute; the retry (mssql-errors.ts) covers the rest.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    pool: { max: poolSize, min: 0, idleTimeoutMillis: 30_000 },
    options: {
      encrypt: p.encrypt,
      trustServerCertificate: p.trustServerCertificate,
      cryptoCredentialsDetails: { minVersion: "TLSv1.2" },
      appName: opts.applicationName ?? "coupons",
      useUTC: true,
      enableArithAbort: true,
    },
  };
  const tls = p.encrypt ? (p.trustServerCertificate ? "TLS, certificate not verified" : "TLS") : "NOT encrypted";
  return {
    config,
    auth: p.auth,
    server: p.server,
    port: p.port,
    database: p.database,
    describe: `mssql ${p.server}:${p.port}/${p.database} (${p.auth}${p.clientId ? ` client ${p.clientId}` : ""}, ${tls})`,
  };
}
