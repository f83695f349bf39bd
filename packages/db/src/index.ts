// @coupons/db: the CouponStore contract and the function that opens one from configuration.
import { type CouponStore, type RouteEvent, StoreError } from "./contract.ts";
import { type StoreConfig, storeConfigFromEnv, storeConfigFromUrl } from "./config.ts";
import type { PartitionReport } from "./engines/mssql-partition.ts";
import type { MigrationReport } from "./migrate.ts";
import { checkPostgresSchema } from "./schema-check.ts";

export * from "./contract.ts";
export {
  type StoreConfig,
  storeConfigFromEnv,
  storeConfigFromUrl,
  withReadReplica,
  describeConfig,
  redact,
  DEFAULT_EMBEDDED_DIR,
} from "./config.ts";
export { DEFAULT_ARCHIVE_BATCH, MAX_ARCHIVE_BATCH } from "./archive.ts";
export type { MigrationReport, Migration } from "./migrate.ts";
export { loadSecretsIntoEnv, resolveSecretEnv, type SecretsOptions, type ResolvedSecret } from "./secrets.ts";
export { type SchemaCheck, checkPostgresSchema } from "./schema-check.ts";
export { type LocalApi, localApiFile, publishLocalApi, readLocalApi } from "./local-api.ts";
export { MIGRATE_HINT } from "./errors.ts";
export { updateSecret, vaultUrlOf, type SecretWriteOptions } from "./secrets-write.ts";
export { hasAtMostTwoDecimals } from "./validate.ts";
export {
  DEFAULT_CODE_LENGTH,
  MAX_CODE_LENGTH,
  MAX_INT,
  MAX_PREFIX_LENGTH,
  MIN_RANDOM_LENGTH,
  PREFIX_PATTERN,
  TEXT_LIMITS,
  FORBIDDEN_CHARACTERS,
  MAX_PAGE,
} from "./limits.ts";
export { KeyedLimit, type KeyedLimitOptions } from "./keyed-limit.ts";
export { defineStore, type EngineOps } from "./store.ts";
export { MAX_THROTTLED_ROWS } from "./throttle-input.ts";
export * from "./generation-request.ts";
export { WAITING_LIST_LIMIT, type WaitingQueue, waitingQueue } from "./queue.ts";
export * from "./env.ts";

export type OpenOptions = {
  /** Apply pending migrations first (default: true for embedded, false for servers, which use `migrate`). */
  migrate?: boolean;
  /** Pool size for server engines. */
  poolSize?: number;
  applicationName?: string;
  /** Told which connection served each analytics read (see CouponStore.readRoute). */
  onRoute?: (e: RouteEvent) => void;
  /** PostgreSQL: check first that the database exists and is migrated to this version (NO_DATABASE,
   *  NOT_MIGRATED); default true. The API opens without it and reports the schema on /readyz. */
  checkSchema?: boolean;
};

/** Opens the store the configuration names (a StoreConfig, a URL, or the environment by default). */
export async function openStore(config?: StoreConfig | string, options: OpenOptions = {}): Promise<CouponStore> {
  const c = typeof config === "string" ? storeConfigFromUrl(config) : (config ?? storeConfigFromEnv());
  switch (c.engine) {
    case "embedded": {
      const { openEmbeddedStore } = await import("./engines/embedded.ts");
      return openEmbeddedStore({ dataDir: c.dataDir, migrate: options.migrate ?? true, onRoute: options.onRoute });
    }
    case "postgres": {
      const { openPostgresStore, migratePostgres } = await import("./engines/postgres.ts");
      if (options.migrate) await migratePostgres(c.url);
      else if (options.checkSchema !== false) await checkPostgresSchema(c.url);
      return openPostgresStore({
        url: c.url,
        readUrl: c.readUrl,
        max: options.poolSize,
        applicationName: options.applicationName,
        onRoute: options.onRoute,
      });
    }
    case "mssql": {
      const { openMssqlStore, migrateMssql } = await import("./engines/mssql.ts");
      if (options.migrate) await migrateMssql(c);
      return openMssqlStore(c, { poolSize: options.poolSize, applicationName: options.applicationName, onRoute: options.onRoute });
    }
  }
}

/** Applies the configured engine's pending migrations; a no-op when there are none. */
export async function migrate(config?: StoreConfig | string): Promise<MigrationReport> {
  const c = typeof config === "string" ? storeConfigFromUrl(config) : (config ?? storeConfigFromEnv());
  switch (c.engine) {
    case "embedded": {
      const { openEmbeddedStore } = await import("./engines/embedded.ts");
      const store = await openEmbeddedStore({ dataDir: c.dataDir, migrate: false });
      try {
        return await store.migrate();
      } finally {
        await store.close();
      }
    }
    case "postgres": {
      const { migratePostgres } = await import("./engines/postgres.ts");
      return migratePostgres(c.url);
    }
    case "mssql": {
      const { migrateMssql } = await import("./engines/mssql.ts");
      return migrateMssql(c);
    }
  }
}

export type { PartitionReport } from "./engines/mssql-partition.ts";

/** Converts Coupons to the partitioned layout (SQL Server; docs/scaling.md). PostgreSQL keeps one
 *  table on purpose (measured), so it is refused there with the reason. */
export async function partitionCoupons(config?: StoreConfig | string): Promise<PartitionReport> {
  const c = typeof config === "string" ? storeConfigFromUrl(config) : (config ?? storeConfigFromEnv());
  if (c.engine !== "mssql") {
    throw new StoreError(
      "CONFIG",
      `the ${c.engine} engine keeps Coupons in one table: partitioning measured slower there (docs/scaling.md, "PostgreSQL: not partitioned, measured"); nothing to convert`,
    );
  }
  const { partitionMssqlCoupons } = await import("./engines/mssql-partition.ts");
  return partitionMssqlCoupons(c);
}
export { type LogLevel, type LogService, logOptions, logPath, maskCode } from "./log-shape.ts";
export { NO_TELEMETRY, type Telemetry, type TelemetryTarget, telemetryTarget } from "./telemetry-target.ts";
