// Operations: /healthz (the process answers), /readyz (the database answers; 503 while shutting
// down, so load balancers drain), /metrics (Prometheus), /openapi.json (this API's document).
import type { Deps, Register } from "../app.ts";
import { requireScope } from "../auth.ts";
import { openApiDocument } from "../openapi.ts";
import { HttpProblem, toProblem } from "../problems.ts";

const READY_TIMEOUT_MS = 2000;

export function opsRoutes(register: Register, deps: Deps): void {
  register("/healthz", {
    get: [
      (_req, res) => {
        res.json({ status: "ok" });
      },
    ],
  });

  register("/readyz", {
    get: [
      async (_req, res) => {
        if (deps.state.shuttingDown) throw new HttpProblem(503, "SHUTTING_DOWN", "The service is shutting down");
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            deps.store.ping(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error("timeout")), READY_TIMEOUT_MS);
            }),
          ]);
        } catch (err) {
          const p = toProblem(err);
          throw new HttpProblem(
            503,
            "NOT_READY",
            "The database does not answer",
            p.problem.status === 503 ? p.problem.detail : "the database did not answer in time",
          );
        } finally {
          clearTimeout(timer);
        }
        res.json({ status: "ready", engine: deps.store.engine });
      },
    ],
  });

  register("/metrics", {
    get: [
      requireScope(deps.config.apiKeys, "read", "admin"),
      async (_req, res) => {
        res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
      },
    ],
  });

  const doc = JSON.stringify(openApiDocument);
  register("/openapi.json", {
    get: [
      requireScope(deps.config.apiKeys),
      (_req, res) => {
        res.type("application/json").send(doc);
      },
    ],
  });
}
