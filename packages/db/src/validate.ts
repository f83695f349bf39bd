// The checks store.ts runs on every input before an engine sees it, against the one table of limits
// (limits.ts): a bad value is refused with a message that names it ("X must be Y") instead of a
// driver error, and nothing is written. Engines receive only values these functions returned.
import {
  CAMPAIGN_STATES,
  type Campaign,
  type CampaignInput,
  type CampaignPatch,
  type CampaignState,
  type ExpireTarget,
  FRAUD_DIMENSIONS,
  type FraudReportInput,
  type GenerationRequestInput,
  type GenerationStatus,
  GENERATION_STATUSES,
  type RedeemInput,
  type ReverseInput,
  StoreError,
  normalizeCode,
} from "./contract.ts";
import {
  DEFAULT_CODE_LENGTH,
  DEFAULT_PAGE,
  FORBIDDEN_CHARACTERS,
  MAX_BULK_CODES,
  MAX_CODE_LENGTH,
  MAX_CODE_LOOKUP,
  MAX_DISCOUNT_AMOUNT_EXCLUSIVE,
  MAX_DISCOUNT_PERCENTAGE,
  MAX_INT,
  MAX_PAGE,
  MAX_PREFIX_LENGTH,
  MAX_YEAR,
  MIN_RANDOM_LENGTH,
  MIN_YEAR,
  PREFIX_PATTERN,
  TEXT_LIMITS,
  type TextField,
} from "./limits.ts";

/** Money and percentages have two decimals; 19.99 * 100 is 1998.9999999999998 in binary floating
 *  point, so compare with a tolerance far below a cent and far above the rounding error. */
export function hasAtMostTwoDecimals(n: number): boolean {
  return Math.abs(n * 100 - Math.round(n * 100)) < 1e-6;
}

function fail(message: string): never {
  throw new StoreError("INVALID_INPUT", message);
}

function length(name: string, field: TextField, value: string): string {
  const { max, over } = TEXT_LIMITS[field];
  if (value.length <= max) return value;
  if (over === "truncate") return value.slice(0, max);
  return fail(`${name} must be at most ${max} characters (got ${value.length})`);
}

/** An identifier (campaign, user, request, worker, idempotency key, who made it): a non-empty string
 *  without control, zero-width or bidi characters, and without leading or trailing whitespace (SQL
 *  Server's `=` ignores trailing spaces, so 'x' and 'x ' would be one id there and two elsewhere). */
export function checkId(field: TextField, value: unknown, name: string = field): string {
  if (typeof value !== "string" || value.length === 0) fail(`${name} must be a non-empty string`);
  if (value.trim().length === 0) fail(`${name} must be a non-empty string, not blank`);
  if (value.trim() !== value) fail(`${name} must not start or end with whitespace`);
  if (FORBIDDEN_CHARACTERS.test(value)) fail(`${name} must not contain control, zero-width or bidi characters`);
  return length(name, field, value);
}

export function checkOptionalId(field: TextField, value: unknown, name: string = field): string | null {
  return value === undefined || value === null ? null : checkId(field, value, name);
}

/** Free text (a name, a description, a user agent): no control characters; zero-width joiners and
 *  the like are allowed (emoji, scripts that need them). */
export function checkText(field: TextField, value: unknown, name: string = field): string {
  if (typeof value !== "string") fail(`${name} must be a string`);
  if (/[\p{Cc}\p{Cs}]/u.test(value.replace(/[\t\n\r]/g, ""))) fail(`${name} must not contain control characters`);
  return length(name, field, value);
}

export function checkOptionalText(field: TextField, value: unknown, name: string = field): string | null {
  return value === undefined || value === null ? null : checkText(field, value, name);
}

/** A coupon code as a caller typed it: trimmed, ASCII letters upper-cased (codes are made of A-Z,
 *  digits, '-' and '_'; nothing else is case-folded, so 'ſ' never becomes 'S'). A code to look up may
 *  be longer than any stored code (up to MAX_CODE_LOOKUP): it is then not found, and a redemption
 *  attempt logs its first 50 characters; a code to store must fit its column. */
export function checkCode(value: unknown, name = "code", use: "lookup" | "store" = "lookup"): string {
  if (typeof value !== "string" || value.trim().length === 0) fail(`${name} must be a non-empty string`);
  const code = normalizeCode(value);
  if (!/^[\x21-\x7e]+$/.test(code)) fail(`${name} must contain only printable ASCII characters (codes are A-Z, 0-9, '-' and '_')`);
  if (use === "store") return length(name, "couponCode", code);
  if (code.length > MAX_CODE_LOOKUP) fail(`${name} must be at most ${MAX_CODE_LOOKUP} characters (got ${code.length})`);
  return code;
}

/** The start of codes to count (feasibility checks): any printable ASCII, LIKE wildcards included
 *  (they are matched literally), at most a whole code long; empty counts every code. */
export function checkCodePrefix(value: unknown, name = "prefix"): string {
  if (typeof value !== "string") fail(`${name} must be a string`);
  const prefix = normalizeCode(value);
  if (value.trim() !== value) fail(`${name} must not start or end with whitespace`);
  if (!/^[\x21-\x7e]*$/.test(prefix)) fail(`${name} must contain only printable ASCII characters`);
  return length(name, "couponCode", prefix);
}

export function checkDate(name: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(`${name} must be a valid date`);
  const year = value.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) fail(`${name} must be between the years ${MIN_YEAR} and ${MAX_YEAR}`);
  return value;
}

function checkPositiveInt(name: string, value: unknown, max = MAX_INT): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) fail(`${name} must be a positive integer`);
  if (value > max) fail(`${name} must be at most ${max}`);
  return value;
}

function checkOptionalPositiveInt(name: string, value: unknown): number | null {
  return value === undefined || value === null ? null : checkPositiveInt(name, value);
}

export function checkCampaignInput(input: CampaignInput): Required<CampaignInput> {
  if (typeof input !== "object" || input === null) fail("the campaign must be an object");
  const campaignId = checkId("campaignId", input.campaignId);
  const name = checkText("campaignName", input.name, "name");
  if (name.trim().length === 0) fail("name must not be blank");
  const startDate = checkDate("startDate", input.startDate);
  const endDate = checkDate("endDate", input.endDate);
  if (endDate.getTime() <= startDate.getTime()) fail("endDate must be after startDate");
  const pct = input.discountPercentage ?? null;
  const amount = input.discountAmount ?? null;
  if ((pct === null) === (amount === null)) fail("exactly one of discountPercentage and discountAmount must be given");
  if (
    pct !== null &&
    (typeof pct !== "number" || !Number.isFinite(pct) || pct <= 0 || pct > MAX_DISCOUNT_PERCENTAGE || !hasAtMostTwoDecimals(pct))
  ) {
    fail(`discountPercentage must be a number above 0 and at most ${MAX_DISCOUNT_PERCENTAGE}, with at most 2 decimals`);
  }
  if (
    amount !== null &&
    (typeof amount !== "number" ||
      !Number.isFinite(amount) ||
      amount <= 0 ||
      amount >= MAX_DISCOUNT_AMOUNT_EXCLUSIVE ||
      !hasAtMostTwoDecimals(amount))
  ) {
    fail(`discountAmount must be a number above 0 and below ${MAX_DISCOUNT_AMOUNT_EXCLUSIVE}, with at most 2 decimals`);
  }
  if (input.isActive !== undefined && typeof input.isActive !== "boolean") fail("isActive must be a boolean");
  return {
    campaignId,
    name,
    description: checkOptionalText("description", input.description),
    startDate,
    endDate,
    discountPercentage: pct,
    discountAmount: amount,
    maxRedemptionsPerUser: checkOptionalPositiveInt("maxRedemptionsPerUser", input.maxRedemptionsPerUser),
    maxTotalRedemptions: checkOptionalPositiveInt("maxTotalRedemptions", input.maxTotalRedemptions),
    isActive: input.isActive ?? true,
    createdBy: checkOptionalId("createdBy", input.createdBy),
  };
}

const PATCH_FIELDS = [
  "name",
  "description",
  "startDate",
  "endDate",
  "discountPercentage",
  "discountAmount",
  "maxRedemptionsPerUser",
  "maxTotalRedemptions",
  "isActive",
] as const;

/** The campaign a patch makes of `current`, checked by the same rules as a new one. Giving one
 *  discount clears the other unless both are given. */
export function checkCampaignPatch(current: Campaign, patch: CampaignPatch): Required<CampaignInput> {
  if (typeof patch !== "object" || patch === null) fail("the campaign changes must be an object");
  const unknown = Object.keys(patch).filter((k) => !(PATCH_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`cannot change ${unknown.join(", ")}: the editable fields are ${PATCH_FIELDS.join(", ")}`);
  if (Object.keys(patch).length === 0) fail(`nothing to change: give at least one of ${PATCH_FIELDS.join(", ")}`);
  const has = (k: keyof CampaignPatch) => Object.hasOwn(patch, k) && patch[k] !== undefined;
  const merged: CampaignInput = { ...current };
  for (const k of PATCH_FIELDS) if (has(k)) Object.assign(merged, { [k]: patch[k] });
  if (has("discountPercentage") && patch.discountPercentage !== null && !has("discountAmount")) merged.discountAmount = null;
  if (has("discountAmount") && patch.discountAmount !== null && !has("discountPercentage")) merged.discountPercentage = null;
  return checkCampaignInput(merged);
}

export function checkCampaignState(value: unknown): CampaignState {
  if (!(CAMPAIGN_STATES as readonly unknown[]).includes(value)) fail(`state must be one of ${CAMPAIGN_STATES.join(", ")}`);
  return value as CampaignState;
}

/** Exactly one of code, requestId, campaignId; as [code, requestId, campaignId] with the others null. */
export function checkExpireTarget(target: ExpireTarget): [string | null, string | null, string | null] {
  if (typeof target !== "object" || target === null) fail("the coupons to expire must be an object");
  const t = target as { code?: unknown; requestId?: unknown; campaignId?: unknown };
  const given = (["code", "requestId", "campaignId"] as const).filter((k) => t[k] !== undefined && t[k] !== null);
  if (given.length !== 1) fail("give exactly one of code, requestId and campaignId");
  return [
    t.code == null ? null : checkCode(t.code, "code", "store"),
    t.requestId == null ? null : checkId("requestId", t.requestId),
    t.campaignId == null ? null : checkId("campaignId", t.campaignId),
  ];
}

/** A prefix as stored: upper-case letters, digits, '-' and '_', at most MAX_PREFIX_LENGTH. */
export function checkPrefix(value: unknown, name = "prefix"): string {
  if (typeof value !== "string") fail(`${name} must be a string`);
  if (value.length > MAX_PREFIX_LENGTH) fail(`${name} must be at most ${MAX_PREFIX_LENGTH} characters (got ${value.length})`);
  if (!PREFIX_PATTERN.test(value)) fail(`${name} must contain only upper-case letters A-Z, digits, '-' and '_'`);
  return value;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A W3C traceparent (version-traceid-parentid-flags, lower-case hex, 55 characters) or null. */
function checkTraceparent(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !TRACEPARENT.test(value)) fail("traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)");
  return value;
}

export function checkGenerationRequestInput(input: GenerationRequestInput): Required<GenerationRequestInput> & { prefix: string } {
  if (typeof input !== "object" || input === null) fail("the generation request must be an object");
  const requestId = input.requestId === undefined ? crypto.randomUUID() : checkId("requestId", input.requestId);
  const prefix = checkPrefix(input.prefix ?? "");
  const codeLength = input.codeLength ?? DEFAULT_CODE_LENGTH;
  if (!Number.isInteger(codeLength) || codeLength < MIN_RANDOM_LENGTH || prefix.length + codeLength > MAX_CODE_LENGTH) {
    fail(
      `codeLength must be an integer from ${MIN_RANDOM_LENGTH} to ${MAX_CODE_LENGTH - prefix.length} (prefix + code fit ${MAX_CODE_LENGTH} characters)`,
    );
  }
  const expirationDate = input.expirationDate ?? null;
  return {
    requestId,
    campaignId: checkId("campaignId", input.campaignId),
    requestedAmount: checkPositiveInt("requestedAmount", input.requestedAmount),
    prefix,
    codeLength,
    expirationDate: expirationDate === null ? null : checkDate("expirationDate", expirationDate),
    requestedBy: checkOptionalId("requestedBy", input.requestedBy),
    traceparent: checkTraceparent(input.traceparent),
  };
}

export type CheckedRedeem = {
  code: string;
  userId: string;
  ipAddress: string | null;
  userAgent: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  clientId: string | null;
};

export function checkRedeemInput(input: RedeemInput): CheckedRedeem {
  if (typeof input !== "object" || input === null) fail("the redemption must be an object");
  const idempotencyKey = checkOptionalId("idempotencyKey", input.idempotencyKey);
  const requestHash = checkOptionalId("requestHash", input.requestHash);
  return {
    code: checkCode(input.code),
    userId: checkId("userId", input.userId),
    ipAddress: checkOptionalId("ipAddress", input.ipAddress),
    userAgent: checkOptionalText("userAgent", input.userAgent),
    idempotencyKey,
    requestHash: idempotencyKey === null ? null : (requestHash ?? ""),
    clientId: checkOptionalId("clientId", input.clientId),
  };
}

export type CheckedReverse = Omit<CheckedRedeem, "code" | "userId"> & { redemptionId: string; reason: string | null };

/** A redemption id as the redeem answer gave it: decimal digits of a positive bigint. */
export function checkRedemptionId(value: unknown, name = "redemptionId"): string {
  if (typeof value !== "string" || !/^[1-9][0-9]{0,17}$/.test(value))
    fail(`${name} must be the id of a redemption (a positive integer, as a string)`);
  return value;
}

export function checkReverseInput(input: ReverseInput): CheckedReverse {
  if (typeof input !== "object" || input === null) fail("the reversal must be an object");
  const idempotencyKey = checkOptionalId("idempotencyKey", input.idempotencyKey);
  const requestHash = checkOptionalId("requestHash", input.requestHash);
  return {
    redemptionId: checkRedemptionId(input.redemptionId),
    clientId: checkOptionalId("clientId", input.clientId),
    reason: checkOptionalText("reversalReason", input.reason, "reason"),
    ipAddress: checkOptionalId("ipAddress", input.ipAddress),
    userAgent: checkOptionalText("userAgent", input.userAgent),
    idempotencyKey,
    requestHash: idempotencyKey === null ? null : (requestHash ?? ""),
  };
}

export type CheckedUserHistory = { userId: string; limit: number; after: string | null; includeAttempts: boolean };

/** A cursor of a user's history: 'h' + a history id or 'v' + a reversal id (UserHistoryItem.cursor). */
export function checkUserHistoryFilter(userId: unknown, filter: unknown): CheckedUserHistory {
  const f = (filter ?? {}) as { limit?: unknown; after?: unknown; includeAttempts?: unknown };
  if (typeof f !== "object") fail("the filter must be an object");
  if (f.after !== undefined && f.after !== null && (typeof f.after !== "string" || !/^[hv][1-9][0-9]{0,17}$/.test(f.after)))
    fail("after must be the cursor of an item of the page before");
  const includeAttempts = f.includeAttempts ?? false;
  if (typeof includeAttempts !== "boolean") fail("includeAttempts must be a boolean");
  return {
    userId: checkId("userId", userId),
    limit: checkLimit(f.limit),
    after: (f.after as string | null | undefined) ?? null,
    includeAttempts,
  };
}

export function checkCodes(codes: unknown): string[] {
  if (!Array.isArray(codes)) fail("codes must be an array of strings");
  if (codes.length > MAX_BULK_CODES) fail(`codes must hold at most ${MAX_BULK_CODES} codes in one call (got ${codes.length})`);
  return codes.map((c, i) => checkCode(c, `codes[${i}]`, "store"));
}

export function checkStatus(status: unknown): GenerationStatus {
  if (!GENERATION_STATUSES.includes(status as GenerationStatus)) fail(`status must be one of ${GENERATION_STATUSES.join(", ")}`);
  return status as GenerationStatus;
}

export function checkLimit(limit: unknown, fallback = DEFAULT_PAGE): number {
  if (limit === undefined || limit === null) return fallback;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    fail(`limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

/** Fraud report input, normalised: a valid window, a known dimension, top 1..1000 (default 20). */
export function checkFraudReportInput(input: FraudReportInput): Required<FraudReportInput> {
  if (typeof input !== "object" || input === null) fail("the fraud report input must be an object");
  const since = checkDate("since", input.since);
  const until = checkDate("until", input.until);
  if (until <= since) fail("until must be after since");
  if (!FRAUD_DIMENSIONS.includes(input.by)) fail(`by must be one of ${FRAUD_DIMENSIONS.join(", ")} (got ${String(input.by)})`);
  const top = input.top ?? 20;
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE) fail(`top must be an integer from 1 to ${MAX_PAGE} (got ${top})`);
  return { since, until, by: input.by, top };
}
