// The OpenAPI 3.1 document of the redeem API, served at /openapi.json. Tests check every real
// response of the HTTP suites against it, so it stays true.
import { REFUSAL_CODES } from "@coupons/db";

const str = { type: "string" } as const;
const strOrNull = { type: ["string", "null"] } as const;
const dateTime = { type: "string", format: "date-time" } as const;
const dateTimeOrNull = { type: ["string", "null"], format: "date-time" } as const;
const int = { type: "integer" } as const;
const intOrNull = { type: ["integer", "null"] } as const;
const numOrNull = { type: ["number", "null"] } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemRef = (description: string) => ({ description, content: { "application/problem+json": { schema: ref("Problem") } } });
const json = (description: string, schema: object, headers?: object) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema } },
});
const R = (name: string) => ({ $ref: `#/components/responses/${name}` });

const campaignProps = {
  campaignId: str,
  name: str,
  description: strOrNull,
  startDate: dateTime,
  endDate: dateTime,
  discountPercentage: numOrNull,
  discountAmount: numOrNull,
  maxRedemptionsPerUser: intOrNull,
  maxTotalRedemptions: intOrNull,
  currentRedemptions: int,
  isActive: { type: "boolean" },
  createdAt: dateTime,
  updatedAt: dateTime,
  createdBy: strOrNull,
};

const security = (scope: string) => [{ apiKey: [scope] }];
// Refused by the HTTP parser before any route runs (URL and headers above Node's 16 KB): any endpoint.
const parser = { "431": R("HeadersTooLarge") };
const common = { "401": R("Unauthenticated"), "403": R("Forbidden"), "503": R("Unavailable"), "500": R("Internal"), ...parser };
const withBody = { "400": R("BadRequest"), "413": R("TooLarge"), "415": R("UnsupportedMediaType") };
const codeParam = { name: "code", in: "path", required: true, schema: { type: "string", minLength: 1, maxLength: 50 } };

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Coupon redeem API",
    version: "1.0.0",
    description:
      "Redemption and lookups of coupons for consumer services. Errors are RFC 9457 problem details with a stable `code`. See docs/api.md.",
  },
  servers: [{ url: "/" }],
  security: [{ apiKey: [] }],
  paths: {
    "/v1/redemptions": {
      post: {
        operationId: "redeemCoupon",
        summary: "Redeem a coupon for a user (sp_RedeemCoupon)",
        security: security("redeem"),
        parameters: [
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description:
              "A retry with the same key and body returns the original outcome; the same key with another body is refused (422).",
            schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" },
          },
        ],
        requestBody: { required: true, content: { "application/json": { schema: ref("RedeemRequest") } } },
        responses: {
          "200": json("Redeemed (or the replay of an earlier redemption: header Idempotent-Replayed)", ref("Redemption"), {
            "Idempotent-Replayed": { schema: { type: "string", enum: ["true"] } },
          }),
          "403": problemRef("NOT_ASSIGNED_TO_USER refusal, or the API key lacks the redeem scope"),
          "404": problemRef("COUPON_NOT_FOUND"),
          "409": problemRef("ALREADY_REDEEMED, USER_LIMIT_REACHED or CAMPAIGN_LIMIT_REACHED"),
          "422": problemRef("CAMPAIGN_INACTIVE, COUPON_EXPIRED, or IDEMPOTENCY_MISMATCH"),
          "429": R("Throttled"),
          ...withBody,
          "401": R("Unauthenticated"),
          "500": R("Internal"),
          "503": R("Unavailable"),
        },
      },
    },
    "/v1/validations": {
      post: {
        operationId: "validateCoupon",
        summary: "Check a coupon for a user without redeeming it (the same checks, nothing changes)",
        security: [{ apiKey: ["redeem"] }, { apiKey: ["read"] }],
        requestBody: { required: true, content: { "application/json": { schema: ref("ValidateRequest") } } },
        responses: { "200": json("The verdict", ref("Validation")), "429": R("Throttled"), ...withBody, ...common },
      },
    },
    "/v1/coupons/{code}": {
      get: {
        operationId: "getCouponDetails",
        summary: "Coupon, its campaign and its computed status (sp_GetCouponDetails)",
        security: security("read"),
        parameters: [codeParam],
        responses: { "200": json("The coupon", ref("CouponDetails")), "400": R("BadRequest"), "404": R("NotFound"), ...common },
      },
    },
    "/v1/coupons/{code}/assignment": {
      put: {
        operationId: "assignCoupon",
        summary: "Assign the coupon to a user",
        security: security("admin"),
        parameters: [codeParam],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["userId"],
                additionalProperties: false,
                properties: { userId: { type: "string", minLength: 1, maxLength: 100 } },
              },
            },
          },
        },
        responses: {
          "200": json("The coupon after the change", ref("CouponDetails")),
          "404": R("NotFound"),
          "409": R("Conflict"),
          ...withBody,
          ...common,
        },
      },
      delete: {
        operationId: "unassignCoupon",
        summary: "Remove the coupon's assignment",
        security: security("admin"),
        parameters: [codeParam],
        responses: {
          "200": json("The coupon after the change", ref("CouponDetails")),
          "400": R("BadRequest"),
          "404": R("NotFound"),
          "409": R("Conflict"),
          ...common,
        },
      },
    },
    "/v1/campaigns": {
      get: {
        operationId: "listActiveCampaigns",
        summary: "Campaigns active now (vw_ActiveCampaigns)",
        security: security("read"),
        responses: {
          "200": json("Active campaigns", {
            type: "object",
            required: ["campaigns"],
            properties: { campaigns: { type: "array", items: ref("ActiveCampaign") } },
          }),
          ...common,
        },
      },
      post: {
        operationId: "createCampaign",
        summary: "Create a campaign",
        security: security("admin"),
        requestBody: { required: true, content: { "application/json": { schema: ref("CampaignInput") } } },
        responses: {
          "201": json("Created", ref("Campaign"), { Location: { schema: { type: "string" } } }),
          "409": R("Conflict"),
          ...withBody,
          ...common,
        },
      },
    },
    "/v1/campaigns/{campaignId}": {
      get: {
        operationId: "getCampaign",
        summary: "One campaign",
        security: security("read"),
        parameters: [{ name: "campaignId", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": json("The campaign", ref("Campaign")), "400": R("BadRequest"), "404": R("NotFound"), ...common },
      },
    },
    "/v1/campaigns/{campaignId}/stats": {
      get: {
        operationId: "getRedemptionStats",
        summary: "A campaign's coupon counts (vw_RedemptionStats)",
        security: security("read"),
        parameters: [{ name: "campaignId", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": json("Counts", ref("RedemptionStats")), "400": R("BadRequest"), "404": R("NotFound"), ...common },
      },
    },
    "/v1/generation-requests": {
      post: {
        operationId: "createGenerationRequest",
        summary: "Ask for N codes for a campaign; a generator worker picks the request up",
        security: security("admin"),
        requestBody: { required: true, content: { "application/json": { schema: ref("GenerationRequestInput") } } },
        responses: {
          "201": json("Created", ref("GenerationRequest"), { Location: { schema: { type: "string" } } }),
          "404": R("NotFound"),
          "409": R("Conflict"),
          ...withBody,
          ...common,
        },
      },
    },
    "/v1/generation-requests/{requestId}": {
      get: {
        operationId: "getGenerationRequest",
        summary: "A generation request and its progress",
        security: security("admin"),
        parameters: [{ name: "requestId", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": json("The request", ref("GenerationRequest")), "400": R("BadRequest"), "404": R("NotFound"), ...common },
      },
    },
    "/healthz": {
      get: {
        operationId: "health",
        summary: "The process answers (no key needed)",
        security: [],
        responses: {
          "200": json("Alive", { type: "object", required: ["status"], properties: { status: { const: "ok" } } }),
          ...parser,
        },
      },
    },
    "/readyz": {
      get: {
        operationId: "ready",
        summary: "The database answers (no key needed); 503 while shutting down",
        security: [],
        responses: {
          "200": json("Ready", {
            type: "object",
            required: ["status", "engine"],
            properties: { status: { const: "ready" }, engine: { type: "string", enum: ["embedded", "postgres", "mssql"] } },
          }),
          "503": R("Unavailable"),
          ...parser,
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics (scope read or admin)",
        security: [{ apiKey: ["read"] }, { apiKey: ["admin"] }],
        responses: {
          "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } },
          "401": R("Unauthenticated"),
          "403": R("Forbidden"),
          ...parser,
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document (any valid key)",
        responses: { "200": json("OpenAPI 3.1", { type: "object" }), "401": R("Unauthenticated"), ...parser },
      },
    },
  },
  components: {
    securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-Key" } },
    responses: {
      BadRequest: problemRef("VALIDATION_FAILED (errors[] names each field) or MALFORMED_JSON"),
      Unauthenticated: problemRef("UNAUTHENTICATED: no X-API-Key, or not a known key"),
      Forbidden: problemRef("FORBIDDEN: the key lacks the endpoint's scope"),
      NotFound: problemRef("NOT_FOUND or COUPON_NOT_FOUND"),
      Conflict: problemRef("CONFLICT: exists already, or the state forbids the change"),
      TooLarge: problemRef("PAYLOAD_TOO_LARGE"),
      UnsupportedMediaType: problemRef("UNSUPPORTED_MEDIA_TYPE: send application/json"),
      Throttled: {
        description: "TOO_MANY_FAILED_ATTEMPTS: too many refusals for the user or client address",
        headers: { "Retry-After": { schema: { type: "string" }, description: "seconds" } },
        content: { "application/problem+json": { schema: ref("Problem") } },
      },
      Unavailable: problemRef("UNAVAILABLE / NOT_READY / SHUTTING_DOWN"),
      Internal: problemRef("INTERNAL"),
      HeadersTooLarge: problemRef("HEADERS_TOO_LARGE: the URL and headers together pass 16 KB"),
    },
    schemas: {
      Problem: {
        type: "object",
        description: "RFC 9457 problem details",
        required: ["type", "title", "status", "code"],
        properties: {
          type: { type: "string", format: "uri" },
          title: str,
          status: { type: "integer", minimum: 400, maximum: 599 },
          code: {
            type: "string",
            description: `A refusal code (${REFUSAL_CODES.join(", ")}) or an API error code`,
            pattern: "^[A-Z_]+$",
          },
          detail: str,
          instance: str,
          errors: {
            type: "array",
            items: { type: "object", required: ["field", "message"], properties: { field: str, message: str } },
          },
          couponCode: str,
          campaignId: strOrNull,
        },
      },
      RedeemRequest: {
        type: "object",
        required: ["code", "userId"],
        additionalProperties: false,
        properties: {
          code: { type: "string", minLength: 1, maxLength: 50, description: "compared case-insensitively" },
          userId: { type: "string", minLength: 1, maxLength: 100 },
          ipAddress: { type: "string", description: "the end user's IP, when a service calls on the user's behalf" },
          userAgent: { type: "string", maxLength: 500 },
        },
      },
      ValidateRequest: {
        type: "object",
        required: ["code", "userId"],
        additionalProperties: false,
        properties: {
          code: { type: "string", minLength: 1, maxLength: 50 },
          userId: { type: "string", minLength: 1, maxLength: 100 },
          ipAddress: { type: "string" },
        },
      },
      Redemption: {
        type: "object",
        additionalProperties: false,
        required: ["redeemed", "couponId", "couponCode", "campaignId", "redeemedAt", "discountPercentage", "discountAmount"],
        properties: {
          redeemed: { const: true },
          couponId: str,
          couponCode: str,
          campaignId: str,
          redeemedAt: dateTime,
          discountPercentage: numOrNull,
          discountAmount: numOrNull,
        },
      },
      Validation: {
        oneOf: [
          {
            type: "object",
            additionalProperties: false,
            required: ["valid", "couponCode", "campaignId", "discountPercentage", "discountAmount"],
            properties: {
              valid: { const: true },
              couponCode: str,
              campaignId: str,
              discountPercentage: numOrNull,
              discountAmount: numOrNull,
            },
          },
          {
            type: "object",
            additionalProperties: false,
            required: ["valid", "couponCode", "campaignId", "reason"],
            properties: {
              valid: { const: false },
              couponCode: str,
              campaignId: strOrNull,
              reason: { type: "string", enum: [...REFUSAL_CODES] },
            },
          },
        ],
      },
      Campaign: { type: "object", additionalProperties: false, required: Object.keys(campaignProps), properties: campaignProps },
      ActiveCampaign: {
        type: "object",
        additionalProperties: false,
        required: [...Object.keys(campaignProps), "redemptionPercentage"],
        properties: { ...campaignProps, redemptionPercentage: numOrNull },
      },
      CampaignInput: {
        type: "object",
        required: ["campaignId", "name", "startDate", "endDate"],
        additionalProperties: false,
        description: "Exactly one of discountPercentage and discountAmount.",
        properties: {
          campaignId: { type: "string", minLength: 1, maxLength: 100 },
          name: { type: "string", minLength: 1, maxLength: 200 },
          description: { type: ["string", "null"], maxLength: 1000 },
          startDate: dateTime,
          endDate: dateTime,
          discountPercentage: { type: ["number", "null"], exclusiveMinimum: 0, maximum: 100 },
          discountAmount: { type: ["number", "null"], exclusiveMinimum: 0, exclusiveMaximum: 100000000 },
          maxRedemptionsPerUser: { type: ["integer", "null"], minimum: 1 },
          maxTotalRedemptions: { type: ["integer", "null"], minimum: 1 },
          isActive: { type: "boolean" },
        },
      },
      RedemptionStats: {
        type: "object",
        additionalProperties: false,
        required: ["campaignId", "totalCoupons", "redeemedCoupons", "availableCoupons", "expiredCoupons"],
        properties: { campaignId: str, totalCoupons: int, redeemedCoupons: int, availableCoupons: int, expiredCoupons: int },
      },
      CouponDetails: {
        type: "object",
        additionalProperties: false,
        required: [
          "couponId",
          "couponCode",
          "campaignId",
          "isRedeemed",
          "redeemedAt",
          "redeemedBy",
          "expiresAt",
          "assignedTo",
          "generationBatchId",
          "createdAt",
          "status",
          "campaign",
        ],
        properties: {
          couponId: str,
          couponCode: str,
          campaignId: str,
          isRedeemed: { type: "boolean" },
          redeemedAt: dateTimeOrNull,
          redeemedBy: strOrNull,
          expiresAt: dateTimeOrNull,
          assignedTo: strOrNull,
          generationBatchId: strOrNull,
          createdAt: dateTime,
          status: { type: "string", enum: ["available", "assigned", "redeemed", "expired", "campaign_inactive"] },
          campaign: ref("Campaign"),
        },
      },
      GenerationRequestInput: {
        type: "object",
        required: ["campaignId", "requestedAmount"],
        additionalProperties: false,
        properties: {
          requestId: { type: "string", minLength: 1, maxLength: 100, description: "a UUID is generated when absent" },
          campaignId: { type: "string", minLength: 1, maxLength: 100 },
          requestedAmount: { type: "integer", minimum: 1 },
          prefix: { type: "string", pattern: "^[A-Z0-9_-]*$", maxLength: 20 },
          expirationDate: dateTimeOrNull,
          codeLength: { type: "integer", minimum: 4, maximum: 50 },
        },
      },
      GenerationRequest: {
        type: "object",
        additionalProperties: false,
        required: [
          "requestId",
          "campaignId",
          "requestedAmount",
          "generatedAmount",
          "prefix",
          "codeLength",
          "expirationDate",
          "status",
          "startedAt",
          "completedAt",
          "failureReason",
          "requestedBy",
          "createdAt",
          "workerId",
          "progressPercent",
        ],
        properties: {
          requestId: str,
          campaignId: str,
          requestedAmount: int,
          generatedAmount: int,
          prefix: str,
          codeLength: int,
          expirationDate: dateTimeOrNull,
          status: { type: "string", enum: ["Requested", "Generating", "Generated", "Failed"] },
          startedAt: dateTimeOrNull,
          completedAt: dateTimeOrNull,
          failureReason: strOrNull,
          requestedBy: strOrNull,
          createdAt: dateTime,
          workerId: strOrNull,
          progressPercent: { type: "number", minimum: 0, maximum: 100 },
        },
      },
    },
  },
};
