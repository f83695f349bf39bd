// Service operations: /healthz (the process answers), /readyz (the database answers; 503 while
// shutting down, so load balancers drain), /metrics (Prometheus).
import { HttpProblem, toProblem } from "../problems.ts";
import type { Deps, Operation, Register } from "../routing.ts";
import { Health, Readiness, Text } from "../schemas.ts";

const READY_TIMEOUT_MS = 2000;

export const health = {
  operationId: "health",
  method: "get",
  path: "/healthz",
  tag: "Service",
  summary: "Is the process up?",
  description: "Answers as long as the process runs; it does not ask the database. No key needed.",
  access: "public",
  success: { status: 200, description: "The process answers", schema: Health, example: { status: "ok" } },
} as const satisfies Operation;

export const ready = {
  operationId: "ready",
  method: "get",
  path: "/readyz",
  tag: "Service",
  summary: "Can the service take requests?",
  description: `Pings the database (at most ${READY_TIMEOUT_MS / 1000} s) and checks that it is migrated to this version (PostgreSQL). While the service shuts down it answers 503, so load balancers stop sending to it. No key needed.`,
  access: "public",
  success: { status: 200, description: "The database answers", schema: Readiness, example: { status: "ready", engine: "postgres" } },
  problems: {
    503: "NOT_READY: the database does not answer, does not exist, or is not migrated to this version (the detail says which); SHUTTING_DOWN: the service is stopping",
  },
} as const satisfies Operation;

export const metrics = {
  operationId: "metrics",
  method: "get",
  path: "/metrics",
  tag: "Service",
  summary: "Prometheus metrics",
  description:
    "Redemptions by outcome (coupons_redemptions_total), request latency by route (coupons_http_request_duration_seconds), the generation queue (coupons_generation_requests_waiting, coupons_generation_oldest_waiting_seconds; read from the database when scraped) and process metrics, in Prometheus' text format.",
  access: ["read", "admin"],
  success: {
    status: 200,
    description: "Prometheus text format",
    contentType: "text/plain",
    schema: Text,
    example: 'coupons_redemptions_total{outcome="redeemed"} 42\n',
  },
} as const satisfies Operation;

export function opsRoutes(register: Register, deps: Deps): void {
  register(health, (_input, _req, res) => {
    res.json({ status: "ok" });
  });

  register(ready, async (_input, _req, res) => {
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
    const schema = await deps.schema?.problem();
    if (schema) {
      // the reason, when it is ours to tell (which migrations are pending); a driver's text stays in the log
      const reason = schema.code === "NOT_MIGRATED" && schema.expose ? schema.message : toProblem(schema).problem.detail;
      throw new HttpProblem(503, "NOT_READY", "The database is not ready for this version", reason);
    }
    res.json({ status: "ready", engine: deps.store.engine });
  });

  register(metrics, async (_input, _req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
