// Argument parsers shared by the CLI's commands: commander names the option in its message
// ("option '--amount <n>' argument ... is invalid. must be ...").
import { InvalidArgumentError } from "commander";

export function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

export function dateArg(value: string): Date {
  const d = new Date(value);
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  // V8 rolls a day past the month's end over ("2030-02-30" is 2 March): refuse it instead
  const real = ymd && new Date(Date.UTC(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3])));
  if (!ymd || !real || real.getUTCMonth() !== Number(ymd[2]) - 1 || real.getUTCDate() !== Number(ymd[3]) || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError("must be an ISO 8601 date, e.g. 2026-12-31 or 2026-12-31T23:59:59Z.");
  }
  return d;
}
