// One way to read settings from text (environment variables, command-line flags): integers, numbers
// and booleans are parsed here once, and a process's environment is read through one zod schema
// (readEnv) that names the bad variable and never echoes its value (it may be a secret).
import { z } from "zod";
import { StoreError } from "./contract.ts";

/** A whole number from min to max written in decimal digits ("12", not "1e1", "0x10" or "1.0"). */
export function parseInteger(text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A decimal number above 0 and at most max, with at most `decimals` decimals when given. */
export function parsePositiveNumber(text: string, max: number, decimals?: number): number {
  const n = Number(text);
  const pattern = decimals === undefined ? /^\d+(\.\d+)?$/ : new RegExp(`^\\d+(\\.\\d{1,${decimals}})?$`);
  if (!pattern.test(text.trim()) || !(n > 0) || n > max) {
    const places = decimals === undefined ? "" : `, with at most ${decimals} decimals`;
    throw new RangeError(`must be a number above 0 and at most ${max}${places}`);
  }
  return n;
}

/** true/false, 1/0, yes/no (any case). */
export function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === "true" || t === "1" || t === "yes") return true;
  if (t === "false" || t === "0" || t === "no") return false;
  throw new RangeError("must be true or false");
}

function parsed<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** zod types for environment variables, built on the parsers above. */
export const envInt = (min: number, max: number) => parsed((t) => parseInteger(t, min, max));
export const envNumber = (max: number, decimals?: number) => parsed((t) => parsePositiveNumber(t, max, decimals));
export const envBool = () => parsed(parseBoolean);

/**
 * Reads `env` through one zod object schema (keys are variable names). An empty value counts as unset.
 * A bad value is StoreError CONFIG naming the variable (and, when `labels` has one, the flag it backs).
 */
export function readEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined>,
  labels: Partial<Record<keyof S, string>> = {},
): z.infer<z.ZodObject<S>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const r = z.object(shape).safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const name = String(issue?.path[0] ?? "a setting");
  const label = labels[name as keyof S];
  throw new StoreError("CONFIG", `${name}${label ? ` (${label})` : ""} ${issue?.message ?? "is invalid"}`);
}
