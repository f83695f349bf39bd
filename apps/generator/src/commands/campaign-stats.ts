// `coupons campaign stats <id> [--interval hour|day] [--since] [--until]`: a campaign's coupons
// counted and, with --interval, its attempts per hour or day (the same series as the API's
// GET /v1/campaigns/{id}/stats?interval=), as a table with a small bar chart of redemptions when
// stdout is a terminal; the program's --json prints the API's document instead.
import { REFUSAL_CODES, type RedemptionStats, STATS_INTERVALS, type StatsInterval, type StatsSeries } from "@coupons/db";
import { type Command, InvalidArgumentError } from "commander";
import { dateArg } from "../args.ts";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, out, printJson } from "./context.ts";
import { withReadStore } from "./via-api.ts";

const intervalArg = (v: string): StatsInterval => {
  if (!(STATS_INTERVALS as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${STATS_INTERVALS.join(", ")}.`);
  return v as StatsInterval;
};

const BAR_WIDTH = 30;

/** The series as the API answers it: ISO strings for the dates. */
export function seriesDocument(s: StatsSeries) {
  return {
    interval: s.interval,
    since: s.since.toISOString(),
    until: s.until.toISOString(),
    points: s.points.map((p) => ({ ...p, start: p.start.toISOString() })),
  };
}

/** The text form: the counts, then one line per bucket (a bar of its redemptions on a terminal). */
export function statsText(stats: RedemptionStats, series: StatsSeries | null, bars: boolean): string[] {
  const lines = [
    `campaign ${stats.campaignId}: ${stats.totalCoupons} coupons, ${stats.redeemedCoupons} redeemed, ${stats.availableCoupons} available, ${stats.expiredCoupons} expired`,
  ];
  if (!series) return lines;
  const label = (d: Date) => (series.interval === "hour" ? `${d.toISOString().slice(0, 13)}:00Z` : d.toISOString().slice(0, 10));
  const max = Math.max(1, ...series.points.map((p) => p.redemptions));
  lines.push(
    `per ${series.interval}, ${series.since.toISOString()} to ${series.until.toISOString()} (UTC buckets)`,
    `${"start".padEnd(18)} ${"redeemed".padStart(9)} ${"refused".padStart(8)} ${"reversed".padStart(9)}  refusals by reason`,
  );
  for (const p of series.points) {
    const refused = Object.values(p.refusals).reduce((n, v) => n + (v ?? 0), 0);
    const reasons = REFUSAL_CODES.filter((r) => p.refusals[r]).map((r) => `${r} ${p.refusals[r]}`);
    const bar = bars && p.redemptions > 0 ? ` ${"#".repeat(Math.max(1, Math.round((p.redemptions / max) * BAR_WIDTH)))}` : "";
    lines.push(
      `${label(p.start).padEnd(18)} ${String(p.redemptions).padStart(9)} ${String(refused).padStart(8)} ${String(p.reversals).padStart(9)}  ${reasons.join(", ")}${bar}`.trimEnd(),
    );
  }
  return lines;
}

export function registerCampaignStatsCommand(campaign: Command, ctx: CliContext): void {
  campaign
    .command("stats")
    .description("Count a campaign's coupons; with --interval, its redemptions, refusals by reason and reversals per hour or day.")
    .argument("<id>", "campaign id")
    .option(
      "--interval <interval>",
      `buckets: ${STATS_INTERVALS.join(" or ")} (default window: the 48 hours, or 30 days, up to the end of the current hour or day)`,
      intervalArg,
    )
    .option("--since <date>", "series start: a day (its start, UTC) or a date-time with a zone", dateArg("start"))
    .option(
      "--until <date>",
      "series end, exclusive: a day (its start, UTC) or a date-time with a zone; default: the end of the current hour or day",
      dateArg("start"),
    )
    .addHelpText("after", exitHelp([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE]))
    .action(async (id: string, o: { interval?: StatsInterval; since?: Date; until?: Date }) => {
      if (!o.interval && (o.since || o.until))
        throw new GeneratorError("INVALID_ARGUMENT", "--since and --until need --interval (hour or day)");
      await withReadStore(ctx, async (store) => {
        const series = o.interval
          ? await store.getCampaignStatsSeries(id, { interval: o.interval, since: o.since, until: o.until })
          : undefined;
        const stats = await store.getRedemptionStats(id);
        if (!stats || series === null) throw new GeneratorError("NOT_FOUND", `campaign ${id} does not exist`);
        if (ctx.globals().json) printJson(series ? { ...stats, series: seriesDocument(series) } : stats);
        else for (const line of statsText(stats, series ?? null, process.stdout.isTTY === true)) out(line);
      });
    });
}
