// Generation requests (admin): POST /v1/generation-requests creates one for a worker to pick up
// (the generator CLI or an ACI container); GET /v1/generation-requests/{id} reads its progress.
import { type GenerationRequest, GenerationRequestError, submitGenerationRequest } from "@coupons/db";
import { z } from "zod";
import { callerOf } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
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
  })
  .strict();

/** The request as stored, plus its progress in percent. */
export function withProgress(r: GenerationRequest) {
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
    "Records the request; a generator worker (the coupons CLI or its container job) picks it up and makes the codes. Follow its progress at the Location.",
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
  problems: { 404: "NOT_FOUND: no such campaign", 409: "CONFLICT: a request with this requestId exists", ...DATABASE_DOWN },
} as const satisfies Operation;

export const getGenerationRequest = {
  operationId: "getGenerationRequest",
  method: "get",
  path: "/v1/generation-requests/{requestId}",
  tag: "Generation requests",
  summary: "Follow a generation request: its status and progress",
  description: "Status Requested, Generating, Generated or Failed (with failureReason), and progressPercent.",
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

export function generationRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(createGenerationRequest, async ({ body }, _req, res) => {
    const created = await submitGenerationRequest(store, { ...body, requestedBy: `apikey:${callerOf(res).keyId}` }).catch(
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
  register(getGenerationRequest, async ({ params }, _req, res) => {
    const r = await store.getGenerationRequest(params.requestId);
    if (!r) throw notFound(`generation request ${params.requestId} does not exist`);
    res.json(withProgress(r));
  });
}
