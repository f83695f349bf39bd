// Generation requests (admin): POST /v1/generation-requests creates one for a worker to pick up
// (the generator CLI or an ACI container); GET /v1/generation-requests/{id} reads its progress.
import type { GenerationRequest } from "@coupons/db";
import { MAX_PREFIX_LENGTH } from "@coupons/db";
import { z } from "zod";
import type { Deps, Register } from "../app.ts";
import { callerOf, requireScope } from "../auth.ts";
import { notFound } from "../problems.ts";
import { id, isoDate, parse } from "../validation.ts";

const idParams = z.object({ requestId: id(100) });

const requestBody = z
  .object({
    requestId: id(100).optional(),
    campaignId: id(100),
    requestedAmount: z.number("must be a number").int("must be an integer").positive("must be positive").max(2_147_483_647),
    prefix: z
      .string("must be a string")
      .max(MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters`)
      .regex(/^[A-Z0-9_-]*$/, "must contain only upper-case letters A-Z, digits, '-' and '_'")
      .optional(),
    expirationDate: isoDate.nullable().optional(),
    codeLength: z.number("must be a number").int("must be an integer").min(4).max(50).optional(),
  })
  .strict();

/** The request as stored, plus its progress in percent. */
export function withProgress(r: GenerationRequest) {
  return { ...r, progressPercent: Math.floor((r.generatedAmount * 10000) / r.requestedAmount) / 100 };
}

export function generationRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  const keys = deps.config.apiKeys;
  register("/v1/generation-requests", {
    post: [
      requireScope(keys, "admin"),
      async (req, res) => {
        const body = parse(requestBody, req.body, "body");
        const created = await store.createGenerationRequest({ ...body, requestedBy: `apikey:${callerOf(res).keyId}` });
        res
          .status(201)
          .location(`/v1/generation-requests/${encodeURIComponent(created.requestId)}`)
          .json(withProgress(created));
      },
    ],
  });
  register("/v1/generation-requests/:requestId", {
    get: [
      requireScope(keys, "admin"),
      async (req, res) => {
        const { requestId } = parse(idParams, req.params, "path");
        const r = await store.getGenerationRequest(requestId);
        if (!r) throw notFound(`generation request ${requestId} does not exist`);
        res.json(withProgress(r));
      },
    ],
  });
}
