// Generation requests (admin): POST /v1/generation-requests creates one for a worker to pick up
// (coupons worker, the API's own worker on the embedded engine, or a container job);
// GET /v1/generation-requests lists the queue; GET /v1/generation-requests/{id} reads its progress;
// DELETE /v1/generation-requests/{id} cancels it.
import { GENERATION_STATUSES, type GenerationRequest, GenerationRequestError, submitGenerationRequest } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { currentTraceparent } from "../telemetry.ts";
import { GenerationRequest as GenerationRequestSchema } from "../schemas.ts";
import { id } from "../validation.ts";

const idParams = z.object({ requestId: id(100) });

// Types only: the request's rules (prefix upper-cased, length, feasibility, dates, expiry) are
// @coupons/db's submitGenerationRequest, the same for the CLI and this API.
const requestBody = z
  .object({
    requestId: id(100).optional(),
    campaignId: id(100),
    requestedAmount: z.number("must be a number").int("must be an integer").describe("number of codes, from 1 to 2147483647"),
    prefix: z.string("must be a string").optional().describe("code prefix: A-Z, 0-9, '-' and '_', upper-cased, at most 20"),
    expirationDate: z
      .string("must be a string")
      .nullable()
      .optional()
      .describe("2030-05-31 (the end of that day, UTC) or a date-time with a zone; must be in the future"),
    codeLength: z
      .number("must be a number")
      .int("must be an integer")
      .optional()
      .describe("random characters after the prefix (default 12)"),
    allowGuessable: z
      .boolean("must be true or false")
      .optional()
      .describe(
        "make the codes even if they are easy to guess: one random guess in a million or fewer would hit a valid one (existing plus requested codes over the code space); refused otherwise, with the odds",
      ),
  })
  .strict();

/** The request as stored, plus its progress in percent. */
export function withProgress({ traceparent: _internal, ...r }: GenerationRequest) {
  return { ...r, progressPercent: Math.floor((r.generatedAmount * 10000) / r.requestedAmount) / 100 };
}

const exampleRequest = {
  requestId: "5f0c3c9e-1b7a-4d2e-9a51-0d6f2b7c8e11",
  campaignId: "SPRING-2030",
  requestedAmount: 10000,
  generatedAmount: 0,
  prefix: "SPRING-",
  codeLength: 8,
  expirationDate: "2030-05-31T23:59:59.000Z",
  status: "Requested",
  startedAt: null,
  completedAt: null,
  failureReason: null,
  requestedBy: "apikey:admin",
  createdAt: "2030-02-01T09:00:00.000Z",
  workerId: null,
  progressPercent: 0,
};

export const createGenerationRequest = {
  operationId: "createGenerationRequest",
  method: "post",
  path: "/v1/generation-requests",
  tag: "Generation requests",
  summary: "Ask for a number of new codes for a campaign",
  description:
    "Records the request; a worker (coupons worker, its container job, or on the embedded engine this API itself) picks it up and makes the codes. Follow its progress at the Location. Sending a Failed or Cancelled request's requestId again resubmits it, edited; once it has codes only its amount may change.",
  access: ["admin"],
  body: requestBody.meta({ id: "GenerationRequestInput", description: "How many codes, and their shape" }),
  bodyExample: {
    campaignId: "SPRING-2030",
    requestedAmount: 10000,
    prefix: "SPRING-",
    codeLength: 8,
    expirationDate: "2030-05-31T23:59:59Z",
  },
  success: {
    status: 201,
    description: "Recorded; a worker will pick it up",
    schema: GenerationRequestSchema,
    example: exampleRequest,
    headers: { Location: { description: "the request's URL", schema: z.string(), required: true } },
  },
  problems: {
    404: "NOT_FOUND: no such campaign",
    409: "CONFLICT: a request with this requestId exists and is not Failed or Cancelled, or the edit changes codes it made",
    ...DATABASE_DOWN,
  },
} as const satisfies Operation;

export const getGenerationRequest = {
  operationId: "getGenerationRequest",
  method: "get",
  path: "/v1/generation-requests/{requestId}",
  tag: "Generation requests",
  summary: "Follow a generation request: its status and progress",
  description: "Status Requested, Generating, Generated, Failed (with failureReason) or Cancelled, and progressPercent.",
  access: ["admin"],
  params: idParams,
  success: {
    status: 200,
    description: "The request",
    schema: GenerationRequestSchema,
    example: { ...exampleRequest, status: "Generating", generatedAmount: 2500, progressPercent: 25, workerId: "worker-1" },
  },
  problems: { 404: "NOT_FOUND: no such generation request", ...DATABASE_DOWN },
} as const satisfies Operation;

const listQuery = z
  .object({
    campaignId: id(100).optional().describe("only this campaign's requests"),
    status: z
      .string("must be a string")
      .transform((s, ctx) => {
        const found = GENERATION_STATUSES.find((x) => x.toLowerCase() === s.toLowerCase());
        if (!found) ctx.addIssue({ code: "custom", message: `must be one of ${GENERATION_STATUSES.join(", ")} (any case)` });
        return found ?? "Requested";
      })
      .optional()
      .describe(`only requests in this status: ${GENERATION_STATUSES.join(", ")} (any case)`),
    limit: z
      .string("must be a string")
      .regex(/^\d{1,4}$/, "must be a whole number from 1 to 1000")
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, "must be a whole number from 1 to 1000")
      .optional()
      .describe("at most this many, newest first (default 100)"),
    cursor: id(100).optional().describe("the nextCursor of the page before"),
  })
  .strict();

const RequestList = z
  .object({
    requests: z.array(GenerationRequestSchema).describe("newest first"),
    waiting: z.number().int().describe("requests in this answer that wait for a worker (Requested)"),
    oldestWaitingSeconds: z.number().nullable().describe("age of the oldest Requested request in this answer; null when none waits"),
    nextCursor: z.string().nullable().describe("pass as ?cursor= for the next page; null on the last page"),
  })
  .meta({ id: "GenerationRequestList" });

export const listGenerationRequests = {
  operationId: "listGenerationRequests",
  method: "get",
  path: "/v1/generation-requests",
  tag: "Generation requests",
  summary: "See the generation queue: waiting, running, finished and failed requests",
  description:
    "Newest first, with progress; filter by campaign and status. Says how many wait for a worker and for how long the oldest has.",
  access: ["admin"],
  query: listQuery,
  success: {
    status: 200,
    description: "The requests",
    schema: RequestList,
    example: { requests: [exampleRequest], waiting: 1, oldestWaitingSeconds: 12, nextCursor: null },
  },
  problems: { ...DATABASE_DOWN },
} as const satisfies Operation;

export const cancelGenerationRequest = {
  operationId: "cancelGenerationRequest",
  method: "delete",
  path: "/v1/generation-requests/{requestId}",
  tag: "Generation requests",
  summary: "Cancel a generation request; codes made so far are kept",
  description:
    "A waiting request will not be started; a running one stops at its next batch and keeps the codes it inserted. Cancelling twice answers the same; a Generated request cannot be cancelled.",
  access: ["admin"],
  params: idParams,
  success: {
    status: 200,
    description: "The request, Cancelled",
    schema: GenerationRequestSchema,
    example: { ...exampleRequest, status: "Cancelled", generatedAmount: 2500, progressPercent: 25 },
  },
  problems: { 404: "NOT_FOUND: no such generation request", 409: "CONFLICT: the request is Generated already", ...DATABASE_DOWN },
} as const satisfies Operation;

export function generationRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(createGenerationRequest, async ({ body }, _req, res) => {
    const traceparent = currentTraceparent(); // its worker continues this request's trace
    const created = await submitGenerationRequest(store, { ...body, requestedBy: callerOf(res).principal, traceparent }).catch(
      (err: unknown) => {
        // a refused field answers like a body that fails its schema: 400 naming the field
        if (!(err instanceof GenerationRequestError) || err.code !== "INVALID_INPUT") throw err;
        throw new HttpProblem(400, "VALIDATION_FAILED", "The request is not valid", err.message, {
          errors: [{ field: err.field, message: err.message }],
        });
      },
    );
    res
      .status(201)
      .location(`/v1/generation-requests/${encodeURIComponent(created.requestId)}`)
      .json(withProgress(created));
  });
  register(listGenerationRequests, async ({ query }, _req, res) => {
    const limit = query.limit ?? 100;
    const requests = await store.listGenerationRequests({ campaignId: query.campaignId, status: query.status, limit, after: query.cursor });
    const waiting = requests.filter((r) => r.status === "Requested");
    const oldest = waiting.reduce<number | null>((min, r) => Math.min(min ?? Number.POSITIVE_INFINITY, r.createdAt.getTime()), null);
    res.json({
      requests: requests.map(withProgress),
      waiting: waiting.length,
      oldestWaitingSeconds: oldest === null ? null : Math.max(0, Math.round((Date.now() - oldest) / 1000)),
      nextCursor: requests.length === limit ? (requests.at(-1)?.requestId ?? null) : null,
    });
  });
  register(cancelGenerationRequest, async ({ params }, _req, res) => {
    res.json(withProgress(await store.cancelGenerationRequest(params.requestId)));
  });
  register(getGenerationRequest, async ({ params }, _req, res) => {
    const r = await store.getGenerationRequest(params.requestId);
    if (!r) throw notFound(`generation request ${params.requestId} does not exist`);
    res.json(withProgress(r));
  });
}
