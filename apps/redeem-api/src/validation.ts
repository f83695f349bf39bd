// Request validation helpers: zod schemas shared by routes, and one parse() that turns a zod failure
// into a 400 problem naming the field.
import { MAX_CODE_LENGTH } from "@coupons/db";
import { z } from "zod";
import { validationProblem } from "./problems.ts";

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: "body" | "query" | "path" | "header"): z.output<T> {
  if (where === "body" && (value === undefined || value === null || typeof value !== "object" || Array.isArray(value))) {
    // express.json leaves the body undefined for other content types
    const r = z.object({}).safeParse(value ?? "not JSON");
    if (!r.success) throw validationProblem(r.error, "body");
  }
  const r = schema.safeParse(value);
  if (!r.success) throw validationProblem(r.error, where);
  return r.data;
}

/** Printable, no control characters: what the store accepts for ids. */
const printable = /^[^\p{Cc}\p{Cs}]+$/u;

export const couponCode = z
  .string("must be a string")
  .trim()
  .min(1, "must not be empty")
  .max(MAX_CODE_LENGTH, `must be at most ${MAX_CODE_LENGTH} characters`)
  .regex(printable, "must not contain control characters");

export const id = (max: number) =>
  z
    .string("must be a string")
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .regex(printable, "must not contain control characters")
    .refine((s) => s.trim().length > 0, "must not be blank");

export const userId = id(100);

export const isoDate = z.iso
  .datetime({ offset: true, message: "must be an ISO 8601 date-time with a zone, e.g. 2030-01-31T00:00:00Z" })
  .transform((s) => new Date(s));
