// @coupons/redeem-api: the app factory and server start/stop, for tests, benchmarks and embedding.
export { createApp, createLogger, type BuiltApp } from "./app.ts";
export type { Deps, Operation } from "./routing.ts";
export { loadConfig, ConfigError, type ApiConfig, type ApiKey, type Scope, SCOPES } from "./config.ts";
export { startServer, stopServer, type RunningServer } from "./server.ts";
export { hashKey } from "./auth.ts";
export { buildOpenApiDocument } from "./openapi.ts";
