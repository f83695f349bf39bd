// Campaign statistics over time, shared by every engine: the input check (interval, window, bucket
// cap), and the zero-filled series built from the rows sp_GetCampaignStatsSeries returns (one row per
// bucket, kind and reason that occurred; database/<dialect>/R__0600_statistics.sql).
import {
  MAX_STATS_BUCKETS,
  REFUSAL_CODES,
  type RefusalCode,
  STATS_INTERVALS,
  type StatsInterval,
  type StatsPoint,
  type StatsSeries,
  type StatsSeriesOptions,
  StoreError,
} from "./contract.ts";
import { type Row, date, num, strOrNull } from "./rows.ts";

const STEP_MS: Record<StatsInterval, number> = { hour: 3_600_000, day: 86_400_000 };
/** The window when since is not given: the last 48 hours, or the last 30 days. */
const DEFAULT_WINDOW_MS: Record<StatsInterval, number> = { hour: 48 * 3_600_000, day: 30 * 86_400_000 };

export type CheckedStatsSeries = { interval: StatsInterval; since: Date; until: Date; buckets: number };

function invalid(message: string): never {
  throw new StoreError("INVALID_INPUT", message);
}

function optionalDate(name: string, v: unknown): Date | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) invalid(`${name} must be a valid date`);
  return v;
}

/** The bucket that holds `t`: its start, a whole UTC hour or day. */
export function bucketStart(t: Date, interval: StatsInterval): Date {
  const step = STEP_MS[interval];
  return new Date(Math.floor(t.getTime() / step) * step);
}

export function checkStatsSeriesInput(options: StatsSeriesOptions, now: Date = new Date()): CheckedStatsSeries {
  if (typeof options !== "object" || options === null) invalid("the statistics options must be an object");
  const interval = options.interval;
  if (!STATS_INTERVALS.includes(interval)) invalid(`interval must be one of ${STATS_INTERVALS.join(", ")}`);
  const givenSince = optionalDate("since", options.since);
  const givenUntil = optionalDate("until", options.until);
  // by default up to the end of the bucket that holds now: the current bucket is whole, and an attempt
  // stamped by the database's clock a little ahead of this process's clock is still inside the window
  const until = givenUntil ?? new Date(bucketStart(now, interval).getTime() + STEP_MS[interval]);
  const since = givenSince ?? new Date(until.getTime() - DEFAULT_WINDOW_MS[interval]);
  if (since.getTime() >= until.getTime()) invalid(`since (${since.toISOString()}) must be before until (${until.toISOString()})`);
  const step = STEP_MS[interval];
  const buckets = Math.ceil((until.getTime() - bucketStart(since, interval).getTime()) / step);
  if (buckets > MAX_STATS_BUCKETS) {
    invalid(
      `interval ${interval} from ${since.toISOString()} to ${until.toISOString()} makes ${buckets} buckets; at most ${MAX_STATS_BUCKETS}: narrow since/until${interval === "hour" ? " or use interval day" : ""}`,
    );
  }
  return { interval, since, until, buckets };
}

/** One row of sp_GetCampaignStatsSeries: how many attempts (or reversals) of a kind and reason fell
 *  in the bucket starting at `bucketStart`. */
export type StatsRow = { bucketStart: Date; kind: "redeemed" | "refused" | "reversed"; reason: string | null; count: number };

export function seriesFromRows(c: CheckedStatsSeries, rows: readonly StatsRow[]): StatsSeries {
  const step = STEP_MS[c.interval];
  const first = bucketStart(c.since, c.interval).getTime();
  const points: StatsPoint[] = Array.from({ length: c.buckets }, (_, i) => ({
    start: new Date(first + i * step),
    redemptions: 0,
    refusals: {},
    reversals: 0,
  }));
  for (const r of rows) {
    const i = Math.round((bucketStart(r.bucketStart, c.interval).getTime() - first) / step);
    const point = points[i];
    if (!point) throw new Error(`sp_GetCampaignStatsSeries returned a bucket outside the window: ${r.bucketStart.toISOString()}`);
    if (r.kind === "redeemed") point.redemptions += r.count;
    else if (r.kind === "reversed") point.reversals += r.count;
    else {
      const reason = r.reason as RefusalCode;
      if (!REFUSAL_CODES.includes(reason)) throw new Error(`sp_GetCampaignStatsSeries returned an unknown refusal reason: ${r.reason}`);
      point.refusals[reason] = (point.refusals[reason] ?? 0) + r.count;
    }
  }
  return { interval: c.interval, since: c.since, until: c.until, points };
}

export function statsRowFromRow(r: Row): StatsRow {
  const kind = strOrNull(r, "Kind");
  if (kind !== "redeemed" && kind !== "refused" && kind !== "reversed") {
    throw new Error(`sp_GetCampaignStatsSeries returned an unknown kind: ${kind}`);
  }
  return { bucketStart: date(r, "BucketStart"), kind, reason: strOrNull(r, "Reason"), count: num(r, "N") };
}
