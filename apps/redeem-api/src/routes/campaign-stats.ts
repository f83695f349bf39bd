// GET /v1/campaigns/{campaignId}/stats: a campaign's coupons counted (RedemptionStats) and, with
// ?interval=hour|day (optional since, until), its attempts over time: redemptions, refusals by
// reason and reversals per bucket, every bucket present, oldest first. Both are analytics reads
// (a read replica when one is configured).
import { MAX_STATS_BUCKETS, REFUSAL_CODES, STATS_INTERVALS, type StatsSeries } from "@coupons/db";
import { z } from "zod";
import { HttpProblem, notFound } from "../problems.ts";
import { DATABASE_DOWN, type Deps, type Operation, type Register } from "../routing.ts";
import { RedemptionStats } from "../schemas.ts";
import { id, isoDate } from "../validation.ts";

const int = z.number().int();

export const StatsSeriesSchema = z
  .object({
    interval: z.enum(STATS_INTERVALS),
    since: z.iso.datetime().describe("attempts counted are those of [since, until)"),
    until: z.iso.datetime(),
    points: z.array(
      z
        .object({
          start: z.iso.datetime().describe("the bucket's start: a whole UTC hour or day"),
          redemptions: int,
          refusals: z.partialRecord(z.enum(REFUSAL_CODES), int).describe("refused attempts by reason; only reasons that occurred"),
          reversals: int,
        })
        .meta({ id: "StatsPoint" }),
    ),
  })
  .meta({ id: "StatsSeries", description: "Attempts per bucket, every bucket present (zeros included), oldest first" });

export const CampaignStats = RedemptionStats.extend({
  series: StatsSeriesSchema.optional().describe("with ?interval= only"),
}).meta({ id: "CampaignStats", description: "A campaign's coupons, counted; with ?interval=, its attempts over time" });

const statsQuery = z
  .object({
    interval: z
      .enum(STATS_INTERVALS, "must be hour or day")
      .optional()
      .describe(
        "adds `series`: counts per hour (default window: the 48 hours up to the end of the current hour) or per day (the 30 days up to the end of today, UTC)",
      ),
    since: isoDate.optional().describe("the series' start (with interval); default: until minus the window"),
    until: isoDate.optional().describe("the series' end, exclusive (with interval); default: the end of the current hour or day"),
  })
  .strict();

export const getRedemptionStats = {
  operationId: "getRedemptionStats",
  method: "get",
  path: "/v1/campaigns/{campaignId}/stats",
  tag: "Campaigns",
  summary: "Count a campaign's coupons (total, redeemed, available, expired), and its attempts over time",
  description: `Counted when asked; may be served by a read replica a moment behind the primary. With interval=hour|day, also \`series\`: redemptions, refusals by reason and reversals per bucket over [since, until), at most ${MAX_STATS_BUCKETS} buckets.`,
  access: ["read"],
  params: z.object({ campaignId: id(100) }),
  query: statsQuery,
  success: {
    status: 200,
    description: "The counts (and the series, with interval)",
    schema: CampaignStats,
    example: {
      campaignId: "SPRING-2030",
      totalCoupons: 10000,
      redeemedCoupons: 2500,
      availableCoupons: 7400,
      expiredCoupons: 100,
      series: {
        interval: "day",
        since: "2030-03-01T00:00:00.000Z",
        until: "2030-03-03T00:00:00.000Z",
        points: [
          { start: "2030-03-01T00:00:00.000Z", redemptions: 1200, refusals: { ALREADY_REDEEMED: 31, COUPON_NOT_FOUND: 4 }, reversals: 2 },
          { start: "2030-03-02T00:00:00.000Z", redemptions: 0, refusals: {}, reversals: 0 },
        ],
      },
    },
  },
  problems: {
    400: `VALIDATION_FAILED or INVALID_INPUT: a bad interval or date, since not before until, more than ${MAX_STATS_BUCKETS} buckets, or since/until without interval`,
    404: "NOT_FOUND: no such campaign",
    ...DATABASE_DOWN,
  },
} as const satisfies Operation;

function seriesJson(s: StatsSeries) {
  return {
    interval: s.interval,
    since: s.since.toISOString(),
    until: s.until.toISOString(),
    points: s.points.map((p) => ({
      start: p.start.toISOString(),
      redemptions: p.redemptions,
      refusals: p.refusals,
      reversals: p.reversals,
    })),
  };
}

export function campaignStatsRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register(getRedemptionStats, async ({ params, query }, _req, res) => {
    const { interval, since, until } = query;
    if (!interval && (since || until)) {
      throw new HttpProblem(400, "VALIDATION_FAILED", "The request is not valid", "interval: since and until need interval (hour or day)", {
        errors: [{ field: "interval", message: "since and until need interval (hour or day)" }],
      });
    }
    // the series first: its input check answers 400 before the counts are read
    const series = interval ? await store.getCampaignStatsSeries(params.campaignId, { interval, since, until }) : undefined;
    const stats = await store.getRedemptionStats(params.campaignId);
    if (!stats || series === null) throw notFound(`campaign ${params.campaignId} does not exist`);
    res.json(series ? { ...stats, series: seriesJson(series) } : stats);
  });
}
