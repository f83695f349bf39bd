// The one log shape of every process (the redeem API, the generator CLI and worker, the ACI
// operations entry point): pino's options, here so that the three make the same lines. A line is
// JSON with `level` as a label ("info", not 30), `time` as an ISO 8601 UTC instant, `service` naming
// the process, then pino's pid, hostname and msg. Plain options (no pino import): each app passes
// them to its own pino. Also the masks every log applies to what a caller sent: coupon codes (bearer
// secrets) keep 4 characters, query strings are never kept.
import { hostname } from "node:os";

export type LogService = "redeem-api" | "coupons-generator" | "coupons-ops";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Header-shaped fields no log line may carry, whatever a call site passes. */
const REDACT = [
  "req.headers['x-api-key']",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers['x-api-key']",
  "headers.authorization",
  "headers.cookie",
];

/** pino options giving the shared shape (`pino(logOptions("redeem-api", "info"))`). */
export function logOptions(service: LogService, level: LogLevel = "info") {
  return {
    level,
    base: { service, pid: process.pid, hostname: hostname() },
    // pino's stdTimeFunctions.isoTime, written out: the fragment pino splices into each line
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT, censor: "[redacted]" },
  };
}

/** A coupon code as logs show it: its first 4 characters and an ellipsis. */
export function maskCode(code: string): string {
  return code.length <= 4 ? "…" : `${code.slice(0, 4)}…`;
}

// Routes match case-insensitively (express), so the mask does too: /V1/COUPONS/<code> is masked.
const COUPON_PATH = /^(\/v1\/coupons\/)([^/?#]*)/i;

/** A request path as logs show it: no query string or fragment, a coupon code in it masked. */
export function logPath(url: string): string {
  const path = url.replace(/[?#].*$/s, "");
  return path.replace(COUPON_PATH, (_m, head: string, code: string) => `${head}${code ? maskCode(decodeSafe(code)) : ""}`);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
