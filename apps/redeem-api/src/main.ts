// The process entry point (the container's CMD): configuration from the environment, open the store,
// serve, and stop gracefully on SIGTERM/SIGINT. Exits 1 with a readable message on bad configuration.
// OpenTelemetry starts first (telemetry.ts); the app's modules (express, the drivers) load after it.
// (type-only imports are erased: they load nothing)
import { createHash } from "node:crypto";
import type { storeConfigFromEnv as StoreConfigFromEnv } from "@coupons/db";
import type { loadConfig as LoadConfig } from "./config.ts";
import { startTelemetry } from "./telemetry.ts";

const telemetry = await startTelemetry();
const { checkPostgresSchema, describeConfig, loadSecretsIntoEnv, openStore, publishLocalApi, storeConfigFromEnv } = await import(
  "@coupons/db"
);
const { createLogger } = await import("./app.ts");
const { ConfigError, loadConfig } = await import("./config.ts");
const { startCounterSync } = await import("./counter-sync.ts");
const { startEmbeddedWorker } = await import("./embedded-worker.ts");
const { createSchemaGate } = await import("./schema-gate.ts");
const { startKeyPurge } = await import("./key-purge.ts");
const { startServer, stopServer } = await import("./server.ts");

async function main(): Promise<void> {
  let config: ReturnType<typeof LoadConfig>;
  let storeConfig: ReturnType<typeof StoreConfigFromEnv>;
  let secrets: Awaited<ReturnType<typeof loadSecretsIntoEnv>>;
  try {
    // *_SECRET settings (e.g. COUPONS_API_KEYS_SECRET) name Key Vault secrets; read before the config
    secrets = await loadSecretsIntoEnv(process.env);
    config = loadConfig();
    storeConfig = storeConfigFromEnv();
  } catch (err) {
    const message = err instanceof ConfigError || (err as { code?: string }).code === "CONFIG" ? (err as Error).message : String(err);
    process.stderr.write(`redeem-api: configuration error: ${message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config);
  logger.info({ database: describeConfig(storeConfig), secrets: secrets.describe }, "opening the store");
  const store = await openStore(storeConfig, {
    migrate: config.migrateOnStart,
    poolSize: config.dbPoolSize,
    applicationName: "coupons-redeem-api",
    // checked below instead: the API starts and /readyz tells what is wrong until it is fixed
    checkSchema: false,
    // analytics reads (views, stats, exports, reports) may go to a read replica: say which served each
    onRoute: (e) => logger.info({ db: { method: e.method, route: e.route } }, "analytics read"),
  });
  logger.info({ analyticsReads: store.readRoute }, "analytics reads go to the %s", store.readRoute);
  const target = storeConfig;
  const schema =
    target.engine === "postgres" && !config.migrateOnStart ? createSchemaGate(() => checkPostgresSchema(target.url)) : undefined;
  const problem = await schema?.problem();
  if (problem) logger.warn({ code: problem.code }, "not ready: %s", problem.message);
  const running = await startServer({ store, config, logger, schema });
  // embedded: the CLI's read commands cannot open the folder this process holds; they ask this API
  const local =
    storeConfig.engine === "embedded" && storeConfig.dataDir !== "memory" ? publishLocalApi(storeConfig.dataDir, running.url) : undefined;
  if (local)
    config.apiKeys.push({ id: "local-cli", sha256: createHash("sha256").update(local.key).digest(), scopes: new Set(["read", "admin"]) });
  // embedded: generation requests made through this API are generated in this process
  const worker = await startEmbeddedWorker(store, config.embeddedWorker, logger);
  // Idempotency keys expire: an hourly purge (unless the database role may not: key-purge.ts)
  const keyPurge = startKeyPurge(store, logger, { retentionHours: config.idempotencyRetentionHours });
  // Campaigns.CurrentRedemptions follows the slot sums every COUPONS_COUNTER_SYNC_SECONDS
  const counterSync = startCounterSync(store, config.counterSyncSeconds, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    keyPurge.stop();
    logger.info({ signal }, "stopping: no new connections, finishing in-flight requests");
    // the worker drains first (batches in flight finish, requests stay resumable), then the server
    local?.remove();
    Promise.all([worker?.stop(), counterSync?.stop()])
      .then(() => stopServer(running))
      .then(() => telemetry.shutdown()) // flush the last spans and metrics
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`redeem-api: cannot start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
