// Builds the express app of the redeem API from a store and a configuration; never listens (see
// server.ts). Order: request id + log, security headers, metrics, body, routes, 404/405, problems.
// The routes' operations are registered here, and the OpenAPI document is generated from them.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type Express, type RequestHandler } from "express";
import helmet from "helmet";
import pino, { type Logger } from "pino";
import { pinoHttp } from "pino-http";
import { type CouponStore, logOptions, logPath } from "@coupons/db";
import { createAdmission } from "./admission.ts";
import { fairIntake } from "./intake.ts";
import type { ApiConfig } from "./config.ts";
import { createMetrics } from "./metrics.ts";
import { createAuthenticator, requireScope } from "./auth.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { HttpProblem, problemHandler } from "./problems.ts";
import { campaignStatsRoutes } from "./routes/campaign-stats.ts";
import { campaignRoutes } from "./routes/campaigns.ts";
import { mountConsole } from "./routes/console.ts";
import { couponRoutes } from "./routes/coupons.ts";
import { docsRoutes, mountDocsAssets } from "./routes/docs.ts";
import { fraudRoutes } from "./routes/fraud.ts";
import { generationRoutes } from "./routes/generation.ts";
import { opsRoutes } from "./routes/ops.ts";
import { redemptionRoutes } from "./routes/redemptions.ts";
import { reversalRoutes } from "./routes/reversals.ts";
import type { SchemaGate } from "./schema-gate.ts";
import type { Deps, Operation, Register } from "./routing.ts";
import { type Throttle, createThrottle } from "./throttle.ts";
import { parse } from "./validation.ts";

export type BuiltApp = { app: Express; deps: Deps; close(): Promise<void> };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The API's logger: the shape every process logs in (@coupons/db logOptions). */
export function createLogger(config: Pick<ApiConfig, "logLevel">): Logger {
  return pino(logOptions("redeem-api", config.logLevel));
}

/**
 * What a request's log line says about its outcome: the route pattern (`/v1/coupons/:code`, never
 * the URL: no code, no query string), the calling key's id (never the key), the problem code.
 * Unmatched paths (404) are logged masked and without their query string.
 */
function outcomeOf(req: IncomingMessage, res: ServerResponse): Record<string, unknown> {
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; originalUrl?: string };
  const locals = (res as ServerResponse & { locals?: Record<string, unknown> }).locals ?? {};
  const pattern = typeof r.route?.path === "string" ? `${r.baseUrl ?? ""}${r.route.path}` : undefined;
  const caller = locals.caller as { keyId?: unknown } | undefined;
  return {
    route: pattern ?? logPath(r.originalUrl ?? req.url ?? ""),
    ...(typeof caller?.keyId === "string" ? { keyId: caller.keyId } : {}),
    ...(typeof locals.problemCode === "string" ? { problem: locals.problemCode } : {}),
  };
}

/** /v1/coupons/{code} -> /v1/coupons/:code */
const expressPath = (path: string) => path.replace(/\{([A-Za-z]+)\}/g, ":$1");

/** Any method a path does not declare answers 405 with Allow. */
function methodNotAllowed(app: Express, operations: readonly Operation[]): void {
  const byPath = new Map<string, string[]>();
  for (const op of operations) {
    const allowed = byPath.get(op.path) ?? [];
    allowed.push(op.method.toUpperCase(), ...(op.method === "get" ? ["HEAD"] : []));
    byPath.set(op.path, allowed);
  }
  for (const [path, allowed] of byPath) {
    const allow = allowed.join(", ");
    app.all(expressPath(path), (req, _res, next) => {
      next(
        new HttpProblem(
          405,
          "METHOD_NOT_ALLOWED",
          "Method not allowed",
          `${req.method} is not allowed here; use ${allow}`,
          {},
          { Allow: allow },
        ),
      );
    });
  }
}

export function createApp(options: {
  store: CouponStore;
  config: ApiConfig;
  logger?: Logger;
  throttle?: Throttle;
  schema?: SchemaGate;
}): BuiltApp {
  const { store, config } = options;
  const logger = options.logger ?? createLogger(config);
  const deps: Deps = {
    store,
    config,
    logger,
    throttle: options.throttle ?? createThrottle(config.throttle, logger, store),
    admission: createAdmission(config.admission, store, logger),
    metrics: createMetrics(store),
    state: { shuttingDown: false },
    schema: options.schema,
  };

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("trust proxy", config.trustProxy);
  app.set("query parser", "simple");

  // fair intake (intake.ts): the hot operations' bodies are read first, the rest of their work waits
  // in their campaign's lane
  const json = express.json({ limit: config.bodyLimitBytes, strict: true, type: ["application/json", "application/*+json"] });
  const auth = createAuthenticator(config);
  app.use(fairIntake(deps.admission, json, auth));
  app.use(
    pinoHttp({
      logger,
      genReqId(req: IncomingMessage, res: ServerResponse) {
        const given = req.headers["x-request-id"];
        const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : "info"),
      // the request's serializer runs when it arrives (before routing): what it says is known then
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, remoteAddress: req.remoteAddress }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      customSuccessObject: (req, res, value) => ({ ...value, ...outcomeOf(req, res) }),
      customErrorObject: (req, res, _err, value) => ({ ...value, ...outcomeOf(req, res) }),
    }),
  );
  app.use(helmet());
  app.use(deps.metrics.middleware);
  app.use((_req, res, next) => {
    // while draining, tell keep-alive clients to reconnect (to another replica)
    if (deps.state.shuttingDown) res.setHeader("Connection", "close");
    next();
  });
  // the body: read already for the operations of the fair intake (its refusal or the body's error is
  // raised here), else now
  app.use((_req, res, next) => (res.locals.earlyProblem ? next(res.locals.earlyProblem) : next()));
  app.use(json);
  app.use((req, _res, next) => {
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if ((req.method === "POST" || req.method === "PUT") && hasBody && !req.is(["application/json", "application/*+json"])) {
      next(new HttpProblem(415, "UNSUPPORTED_MEDIA_TYPE", "The body must be JSON", "send Content-Type: application/json"));
      return;
    }
    next();
  });

  const operations: Operation[] = [];
  const register: Register = (op, handler) => {
    operations.push(op);
    const handlers: RequestHandler[] = op.access === "public" ? [] : [requireScope(auth, ...op.access)];
    handlers.push(async (req, res) => {
      const headers = op.headers && Object.fromEntries(Object.keys(op.headers.shape).map((name) => [name, req.get(name)]));
      const input = {
        params: op.params && parse(op.params, req.params, "path"),
        query: op.query && parse(op.query, req.query, "query"),
        headers: op.headers && parse(op.headers, headers, "header"),
        body: op.body && parse(op.body, req.body === undefined && op.bodyOptional ? {} : req.body, "body"),
      };
      await handler(input as Parameters<typeof handler>[0], req, res);
    });
    app[op.method](expressPath(op.path), ...handlers);
  };

  let document: string | undefined;
  mountDocsAssets(app);
  docsRoutes(register, () => {
    document ??= JSON.stringify(buildOpenApiDocument(operations));
    return document;
  });
  opsRoutes(register, deps);
  redemptionRoutes(register, deps);
  reversalRoutes(register, deps);
  couponRoutes(register, deps);
  campaignRoutes(register, deps);
  campaignStatsRoutes(register, deps);
  generationRoutes(register, deps);
  fraudRoutes(register, deps);
  mountConsole(app);
  methodNotAllowed(app, operations);

  app.use((req, _res, next) => {
    next(
      new HttpProblem(404, "ROUTE_NOT_FOUND", "No such endpoint", `${req.method} ${logPath(req.path)} does not exist; see /openapi.json`),
    );
  });
  app.use(problemHandler);

  return {
    app,
    deps,
    async close() {
      deps.admission.stop();
      await deps.throttle.close();
    },
  };
}
