// What a route declares and what it is given: an operation (path, method, access, summary, the zod
// schemas of its input and answers, an example) is written once, here-shaped, in routes/*; the app
// registers it (scope check, input parsing, 405 for other methods) and the OpenAPI document is
// generated from the same declarations (openapi.ts). Routes import only types from this file.
import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { z } from "zod";
import type { CouponStore } from "@coupons/db";
import type { ApiConfig, Scope } from "./config.ts";
import type { Metrics } from "./metrics.ts";
import type { SchemaGate } from "./schema-gate.ts";
import type { Throttle } from "./throttle.ts";
import type { Admission } from "./admission.ts";

export type Deps = {
  store: CouponStore;
  config: ApiConfig;
  throttle: Throttle;
  /** Per-campaign admission in front of redemptions, validations and lookups. */
  admission: Admission;
  metrics: Metrics;
  logger: Logger;
  state: { shuttingDown: boolean };
  /** The schema check /readyz reports (none: the engine migrates itself, or nothing to check). */
  schema?: SchemaGate;
};

export type Method = "get" | "post" | "put" | "patch" | "delete";

export type Tag = "Redemptions" | "Coupons" | "Campaigns" | "Generation requests" | "Service";

export type HeaderSpec = { description: string; schema: z.ZodType; required: boolean };

/** The statuses of problem documents an operation may answer with. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 431 | 500 | 503;

export type Operation = {
  operationId: string;
  method: Method;
  /** In OpenAPI's form: /v1/coupons/{code}. */
  path: string;
  tag: Tag;
  /** One line for consumers: what the call does for them. */
  summary: string;
  description: string;
  /** "public": no key needed; otherwise a valid key with at least one of the scopes. */
  access: "public" | readonly [Scope, ...Scope[]];
  /** Path parameters, request headers (by their documented name) and the JSON body, parsed before the handler runs. */
  params?: z.ZodObject;
  /** Query string parameters (each a string or absent), parsed like the others. */
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out (no body parses as {}). */
  bodyOptional?: boolean;
  bodyExample?: unknown;
  success: {
    status: 200 | 201;
    description: string;
    /** The answer's body; JSON unless contentType says otherwise. */
    schema: z.ZodType;
    contentType?: string;
    example: unknown;
    headers?: Record<string, HeaderSpec>;
  };
  /** Refusals beyond those the declaration implies (auth from access, 400/413/415 from a body, 431 always). */
  problems?: Partial<Record<ProblemStatus, string>>;
};

/** The refusal of every operation that calls the database. */
export const DATABASE_DOWN = { 503: "UNAVAILABLE: the database cannot be reached; retry after Retry-After seconds" } as const;

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What the handler receives: the operation's input, already parsed by its schemas. */
export type Input<O extends Operation> = {
  params: Parsed<O["params"]>;
  query: Parsed<O["query"]>;
  headers: Parsed<O["headers"]>;
  body: Parsed<O["body"]>;
};

export type Handler<O extends Operation> = (input: Input<O>, req: Request, res: Response) => unknown;

/** Serves an operation; any method the path does not declare answers 405 with Allow. */
export type Register = <O extends Operation>(op: O, handler: Handler<O>) => void;
