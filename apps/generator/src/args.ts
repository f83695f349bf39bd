// Argument parsers shared by the CLI's commands, on @coupons/db's one set of text parsers: commander
// names the option in its message ("option '--batch-size <n>' argument '0' is invalid. must be ...").
import { parseDateText, parseInteger, parsePositiveNumber } from "@coupons/db";
import { InvalidArgumentError } from "commander";

function arg<T>(parse: (value: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(`${(err as Error).message}.`);
    }
  };
}

export const intArg = (min: number, max: number) => arg((v) => parseInteger(v, min, max));

/** A whole number of any size; the rule that limits it lives where the value is used. */
export const wholeArg = arg((v) => parseInteger(v, 0, Number.MAX_SAFE_INTEGER));

/** A number above 0 and at most max (money: decimals 2). */
export const positiveArg = (max: number, decimals?: number) => arg((v) => parsePositiveNumber(v, max, decimals));

/** A date: a whole UTC day (its start, or its end for an end date) or a date-time with a zone. */
export const dateArg = (dateOnly: "start" | "end" = "start") => arg((v) => parseDateText(v, dateOnly));

/** One of `values`, in any letter case (`--status generated` is Generated); the value as written in `values`. */
export function enumArg<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    const found = values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
    if (found === undefined) throw new InvalidArgumentError(`must be one of ${values.join(", ")} (any letter case).`);
    return found;
  };
}
