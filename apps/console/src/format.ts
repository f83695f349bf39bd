// Numbers and times for people: thousands separators, percentages, relative times (the exact UTC
// time goes in a title, see <When>).
const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export const num = (n: number) => int.format(n);
export const num2 = (n: number) => dec.format(n);
export const pct = (n: number) => `${dec.format(n)} %`;

/** 2030-03-01 09:00:00 UTC */
export const utc = (iso: string) => `${new Date(iso).toISOString().replace("T", " ").slice(0, 19)} UTC`;

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "3 hours ago", "in 2 days" relative to now. */
export function relative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return rel.format(Math.round(seconds / size), unit);
  }
  return iso;
}

/** 95 s -> "1 min 35 s"; for ETAs. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function discount(c: { discountPercentage: number | null; discountAmount: number | null }): string {
  if (c.discountPercentage !== null) return `${dec.format(c.discountPercentage)} % off`;
  if (c.discountAmount !== null) return `${new Intl.NumberFormat(undefined, { minimumFractionDigits: 2 }).format(c.discountAmount)} off`;
  return "none";
}
