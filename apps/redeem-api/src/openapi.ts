// The OpenAPI 3.1 document of the redeem API, generated from the operations the app registers (their
// zod schemas, summaries and examples), so the document and the code cannot drift. Served at
// /openapi.json and browsable at /docs.
import { z } from "zod";
import type { Operation, ProblemStatus } from "./routing.ts";
import { Problem } from "./schemas.ts";

type Json = Record<string, unknown>;

/** \p{Cc} and \p{Cs} (validation.ts's "printable") as ranges. */
const CONTROL = "\\u0000-\\u001f\\u007f-\\u009f";
const SURROGATE = "\\ud800-\\udfff";

const PROBLEM_HEADERS: Partial<Record<ProblemStatus, Json>> = {
  401: {
    "WWW-Authenticate": {
      required: true,
      description: "the accepted credentials: ApiKey and/or Bearer (with error=invalid_token for a refused token)",
      schema: { type: "string" },
    },
  },
  405: { Allow: { required: true, description: "the methods the path answers", schema: { type: "string" } } },
  429: { "Retry-After": { required: true, description: "seconds until the window ends", schema: { type: "string", pattern: "^\\d+$" } } },
  503: { "Retry-After": { required: false, description: "seconds", schema: { type: "string", pattern: "^\\d+$" } } },
};

/** Refusals every operation of a kind can answer; an operation's own `problems` add to and override these. */
function impliedProblems(op: Operation): Partial<Record<ProblemStatus, string>> {
  const implied: Partial<Record<ProblemStatus, string>> = {
    431: "HEADERS_TOO_LARGE: the URL and headers together pass 16 KB (answered before any route)",
    500: "INTERNAL: an unexpected failure, logged with the request's X-Request-Id",
  };
  if (op.access !== "public") {
    implied[401] =
      "UNAUTHENTICATED: no credentials, an unknown X-API-Key, or a bearer token that is not valid (signature, issuer, audience, expiry)";
    implied[403] = `FORBIDDEN: the key, or the token's app roles, lack the scope ${op.access.join(" or ")}`;
    implied[503] =
      "UNAVAILABLE: the Entra ID tenant's signing keys cannot be fetched to check a bearer token; retry after Retry-After seconds";
  }
  if (op.params || op.query || op.headers) implied[400] = "VALIDATION_FAILED: errors[] names each refused field";
  if (op.body) {
    implied[400] = "VALIDATION_FAILED (errors[] names each refused field) or MALFORMED_JSON";
    implied[413] = "PAYLOAD_TOO_LARGE: the body passes the configured limit";
    implied[415] = "UNSUPPORTED_MEDIA_TYPE: send application/json";
  }
  return implied;
}

/**
 * Turns zod schemas into JSON Schema for the document: named schemas (meta id) go to
 * components.schemas and are referenced; request schemas are read as input (before transforms),
 * answers as output.
 */
class SchemaWriter {
  readonly components: Record<string, Json> = {};

  write(schema: z.ZodType, io: "input" | "output"): Json {
    const out = z.toJSONSchema(schema, {
      io,
      target: "draft-2020-12",
      unrepresentable: "throw",
      override: ({ jsonSchema: j }) => {
        // a format says it better than zod's long regular expression for it
        if (typeof j.format === "string") delete j.pattern;
        // readers that test patterns without Unicode mode (Swagger UI's "Try it out") get the classes spelled out
        if (typeof j.pattern === "string") j.pattern = j.pattern.replaceAll("\\p{Cc}", CONTROL).replaceAll("\\p{Cs}", SURROGATE);
        // zod's int() bounds: the safe integers, which say nothing to a reader
        if (j.minimum === Number.MIN_SAFE_INTEGER) delete j.minimum;
        if (j.maximum === Number.MAX_SAFE_INTEGER) delete j.maximum;
      },
    }) as Json;
    const defs = (out.$defs ?? {}) as Record<string, Json>;
    delete out.$defs;
    delete out.$schema;
    const refs = (j: Json) => JSON.parse(JSON.stringify(j).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
    for (const [id, def] of Object.entries(defs)) {
      const written = refs(def);
      const before = this.components[id];
      if (before && JSON.stringify(before) !== JSON.stringify(written))
        throw new Error(`the schema ${id} reads differently as request and as answer; name them apart`);
      this.components[id] = written;
    }
    return refs(out);
  }

  /** The properties of an object schema as OpenAPI parameters. */
  parameters(schema: z.ZodObject, where: "path" | "query" | "header"): Json[] {
    const s = this.write(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
    return Object.entries(s.properties ?? {}).map(([name, prop]) => {
      const { description, ...rest } = prop;
      return {
        name,
        in: where,
        required: where === "path" || (s.required ?? []).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: rest,
      };
    });
  }
}

function operationObject(op: Operation, w: SchemaWriter): Json {
  const parameters = [
    ...(op.params ? w.parameters(op.params, "path") : []),
    ...(op.query ? w.parameters(op.query, "query") : []),
    ...(op.headers ? w.parameters(op.headers, "header") : []),
  ];
  const success = op.success;
  const headers = Object.fromEntries(
    Object.entries(success.headers ?? {}).map(([name, h]) => [
      name,
      { description: h.description, required: h.required, schema: w.write(h.schema, "output") },
    ]),
  );
  const responses: Record<string, Json> = {
    [success.status]: {
      description: success.description,
      ...(success.headers ? { headers } : {}),
      content: {
        [success.contentType ?? "application/json"]: { schema: w.write(success.schema, "output"), example: success.example },
      },
    },
  };
  const implied = impliedProblems(op);
  const problems = { ...implied, ...op.problems };
  // both the database and the token check may be away: say both
  if (implied[503] && op.problems?.[503]) problems[503] = `${op.problems[503]}; or ${implied[503]}`;
  for (const status of Object.keys(problems).map(Number).sort() as ProblemStatus[]) {
    responses[status] = {
      description: problems[status],
      ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: op.description,
    security: op.access === "public" ? [] : op.access.flatMap((scope) => [{ apiKey: [scope] }, { entraId: [scope] }]),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.bodyOptional !== true,
            content: { "application/json": { schema: w.write(op.body, "input"), example: op.bodyExample } },
          },
        }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(operations: readonly Operation[]): Json {
  const w = new SchemaWriter();
  w.write(Problem, "output");
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, Json>)[op.method] = operationObject(op, w);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Coupon redeem API",
      version: "1.0.0",
      description:
        "Redeem, validate and look up coupons for consumer services; create campaigns and generation requests as an admin. " +
        "Send the API key in X-API-Key, or a Microsoft Entra ID access token for this API in Authorization: Bearer " +
        "(its app roles Coupons.Redeem, Coupons.Read, Coupons.Admin grant the scopes redeem, read, admin by default). " +
        "Errors are RFC 9457 problem details with a stable `code`.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "Redemptions", description: "Redeem a coupon, or check whether it could be redeemed" },
      { name: "Coupons", description: "Look a coupon up; assign it to one user" },
      { name: "Campaigns", description: "Campaigns and their figures" },
      { name: "Generation requests", description: "Ask for codes; a generator worker makes them" },
      { name: "Service", description: "Health, readiness, metrics and this documentation" },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "An API key; its configured scopes apply" },
        entraId: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "An access token issued by the configured Microsoft Entra ID tenant for this API (audience: its client id or App ID URI), " +
            "e.g. to a service's managed identity. Its app roles (`roles`) map to the scopes (COUPONS_API_ENTRA_ROLES).",
        },
      },
      schemas: w.components,
    },
  };
}
