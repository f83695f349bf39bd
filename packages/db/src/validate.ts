// Argument checks every engine runs before it talks to the database, so a bad value is refused with
// a message that names it ("X must be Y") instead of a driver error, and nothing is written.
import {
  type CampaignInput,
  FRAUD_DIMENSIONS,
  type FraudReportInput,
  type GenerationRequestInput,
  type GenerationStatus,
  StoreError,
} from "./contract.ts";

export const MAX_CODE_LENGTH = 50;
export const MAX_PREFIX_LENGTH = 20;
export const MIN_RANDOM_LENGTH = 4;
/** Prefix characters: upper-case letters, digits, dash and underscore. */
export const PREFIX_PATTERN = /^[A-Z0-9_-]*$/;
/** Identifiers (campaign ids, request ids, user ids): printable, no control characters. */
const ID_PATTERN = /^[^\p{Cc}\p{Cs}]+$/u;

/** Money and percentages have two decimals; 19.99 * 100 is 1998.9999999999998 in binary floating
 *  point, so compare with a tolerance far below a cent and far above the rounding error. */
export function hasAtMostTwoDecimals(n: number): boolean {
  return Math.abs(n * 100 - Math.round(n * 100)) < 1e-6;
}

function fail(message: string): never {
  throw new StoreError("INVALID_INPUT", message);
}

export function checkId(name: string, value: unknown, max = 100): string {
  if (typeof value !== "string" || value.trim().length === 0) fail(`${name} must be a non-empty string`);
  if (value.length > max) fail(`${name} must be at most ${max} characters (got ${value.length})`);
  if (!ID_PATTERN.test(value)) fail(`${name} must not contain control characters`);
  return value;
}

export function checkOptionalText(name: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") fail(`${name} must be a string`);
  if (value.length > max) fail(`${name} must be at most ${max} characters (got ${value.length})`);
  return value;
}

function checkDate(name: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(`${name} must be a valid date`);
  if (value.getUTCFullYear() < 1900 || value.getUTCFullYear() > 9999) fail(`${name} must be between the years 1900 and 9999`);
  return value;
}

function checkPositiveInt(name: string, value: unknown, max = 2_147_483_647): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) fail(`${name} must be a positive integer`);
  if (value > max) fail(`${name} must be at most ${max}`);
  return value;
}

function checkOptionalPositiveInt(name: string, value: unknown): number | null {
  return value === undefined || value === null ? null : checkPositiveInt(name, value);
}

export function checkCode(value: unknown): string {
  if (typeof value !== "string" || value.trim().length === 0) fail("code must be a non-empty string");
  if (value.length > 200) fail(`code must be at most 200 characters (got ${value.length})`);
  return value;
}

export function checkCampaignInput(input: CampaignInput): Required<CampaignInput> {
  const campaignId = checkId("campaignId", input.campaignId);
  const name = checkId("name", input.name, 200);
  const description = checkOptionalText("description", input.description, 1000);
  const startDate = checkDate("startDate", input.startDate);
  const endDate = checkDate("endDate", input.endDate);
  if (endDate.getTime() <= startDate.getTime()) fail("endDate must be after startDate");
  const pct = input.discountPercentage ?? null;
  const amount = input.discountAmount ?? null;
  if ((pct === null) === (amount === null)) fail("exactly one of discountPercentage and discountAmount must be given");
  if (pct !== null && (typeof pct !== "number" || !Number.isFinite(pct) || pct <= 0 || pct > 100 || !hasAtMostTwoDecimals(pct))) {
    fail("discountPercentage must be a number above 0 and at most 100, with at most 2 decimals");
  }
  if (
    amount !== null &&
    (typeof amount !== "number" || !Number.isFinite(amount) || amount <= 0 || amount >= 1e8 || !hasAtMostTwoDecimals(amount))
  ) {
    fail("discountAmount must be a number above 0 and below 100000000, with at most 2 decimals");
  }
  if (input.isActive !== undefined && typeof input.isActive !== "boolean") fail("isActive must be a boolean");
  return {
    campaignId,
    name,
    description,
    startDate,
    endDate,
    discountPercentage: pct,
    discountAmount: amount,
    maxRedemptionsPerUser: checkOptionalPositiveInt("maxRedemptionsPerUser", input.maxRedemptionsPerUser),
    maxTotalRedemptions: checkOptionalPositiveInt("maxTotalRedemptions", input.maxTotalRedemptions),
    isActive: input.isActive ?? true,
    createdBy: checkOptionalText("createdBy", input.createdBy, 100),
  };
}

export function checkGenerationRequestInput(input: GenerationRequestInput): Required<GenerationRequestInput> {
  const requestId = input.requestId === undefined ? crypto.randomUUID() : checkId("requestId", input.requestId);
  const campaignId = checkId("campaignId", input.campaignId);
  const requestedAmount = checkPositiveInt("requestedAmount", input.requestedAmount);
  const prefix = input.prefix ?? "";
  if (typeof prefix !== "string") fail("prefix must be a string");
  if (prefix.length > MAX_PREFIX_LENGTH) fail(`prefix must be at most ${MAX_PREFIX_LENGTH} characters (got ${prefix.length})`);
  if (!PREFIX_PATTERN.test(prefix)) fail("prefix must contain only upper-case letters A-Z, digits, '-' and '_'");
  const codeLength = input.codeLength ?? 12;
  if (!Number.isInteger(codeLength) || codeLength < MIN_RANDOM_LENGTH || prefix.length + codeLength > MAX_CODE_LENGTH) {
    fail(
      `codeLength must be an integer from ${MIN_RANDOM_LENGTH} to ${MAX_CODE_LENGTH - prefix.length} (prefix + code fit ${MAX_CODE_LENGTH} characters)`,
    );
  }
  const expirationDate = input.expirationDate ?? null;
  if (expirationDate !== null) checkDate("expirationDate", expirationDate);
  return {
    requestId,
    campaignId,
    requestedAmount,
    prefix,
    codeLength,
    expirationDate,
    requestedBy: checkOptionalText("requestedBy", input.requestedBy, 100),
  };
}

const STATUSES: readonly GenerationStatus[] = ["Requested", "Generating", "Generated", "Failed"];
export function checkStatus(status: unknown): GenerationStatus {
  if (!STATUSES.includes(status as GenerationStatus)) fail(`status must be one of ${STATUSES.join(", ")}`);
  return status as GenerationStatus;
}

export function checkBefore(before: unknown): Date {
  if (!(before instanceof Date) || Number.isNaN(before.getTime())) fail("before must be a valid date");
  return before;
}

export function checkLimit(limit: unknown, fallback = 100): number {
  if (limit === undefined || limit === null) return fallback;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000) fail("limit must be an integer from 1 to 1000");
  return limit;
}

/** Fraud report input, normalised: a valid window, a known dimension, top 1..1000 (default 20). */
export function checkFraudReportInput(input: FraudReportInput): Required<FraudReportInput> {
  const { since, until, by } = input ?? ({} as FraudReportInput);
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new StoreError("INVALID_INPUT", "since must be a valid Date");
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) throw new StoreError("INVALID_INPUT", "until must be a valid Date");
  if (until <= since) throw new StoreError("INVALID_INPUT", "until must be after since");
  if (!FRAUD_DIMENSIONS.includes(by)) throw new StoreError("INVALID_INPUT", `by must be one of ${FRAUD_DIMENSIONS.join(", ")} (got ${by})`);
  const top = input.top ?? 20;
  if (!Number.isInteger(top) || top < 1 || top > 1000)
    throw new StoreError("INVALID_INPUT", `top must be an integer from 1 to 1000 (got ${top})`);
  return { since, until, by, top };
}
