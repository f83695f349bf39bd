// `coupons campaign create|show|list|update|pause|resume|delete` (and stats: campaign-stats.ts): flags -> one CouponStore call each
// (the store checks every value).
import { CAMPAIGN_STATES, type CampaignPatch, type CampaignState, type ListedCampaign, MAX_INT } from "@coupons/db";
import type { Command } from "commander";
import { dateArg, enumArg, intArg, positiveArg } from "../args.ts";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { formatTable, formatTime, timeZoneLabel } from "../output.ts";
import { registerCampaignStatsCommand } from "./campaign-stats.ts";
import { type CliContext, out, printJson, withStore } from "./context.ts";
import { withReadStore } from "./via-api.ts";

type CampaignFlags = {
  id: string;
  name: string;
  description?: string;
  start?: Date;
  end: Date;
  discountPercent?: number;
  discountAmount?: number;
  maxPerUser?: number;
  maxTotal?: number;
  inactive?: boolean;
  createdBy?: string;
};

const EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

/** A limit to set: a positive whole number, or "none" to remove it (commander turns a parsed null into ""). */
const limitArg = (v: string): number | "none" => (v === "none" ? "none" : intArg(1, MAX_INT)(v));
const limitOf = (v: number | "none") => (v === "none" ? null : v);

const stateArg = enumArg<CampaignState>(CAMPAIGN_STATES);

type UpdateFlags = {
  name?: string;
  description?: string;
  start?: Date;
  end?: Date;
  discountPercent?: number;
  discountAmount?: number;
  maxPerUser?: number | "none";
  maxTotal?: number | "none";
};

export function registerCampaignCommands(program: Command, ctx: CliContext): void {
  const campaign = program.command("campaign").description("Campaign commands.");
  campaign
    .command("create")
    .description("Create a campaign.")
    .requiredOption("--id <id>", "campaign id")
    .requiredOption("--name <name>", "display name")
    .option("--description <text>", "description")
    .option("--start <date>", "start: 2026-01-01 (the start of that day, UTC) or a date-time with a zone; default now", dateArg("start"))
    .requiredOption("--end <date>", "end: 2026-12-31 (the end of that day, UTC) or a date-time with a zone", dateArg("end"))
    .option("--discount-percent <p>", "discount in percent (exactly one of the two discounts)", positiveArg(100, 2))
    .option("--discount-amount <a>", "discount as an amount", positiveArg(99_999_999.99, 2))
    .option("--max-per-user <n>", "redemptions per user (default: no limit)", intArg(1, MAX_INT))
    .option("--max-total <n>", "redemptions in total (default: no limit)", intArg(1, MAX_INT))
    .option("--inactive", "create it inactive")
    .option("--created-by <who>", "who created it")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (o: CampaignFlags) => {
      if ((o.discountPercent === undefined) === (o.discountAmount === undefined)) {
        throw new GeneratorError("INVALID_ARGUMENT", "give exactly one of --discount-percent and --discount-amount");
      }
      const start = o.start ?? new Date();
      if (o.end.getTime() <= start.getTime()) {
        throw new GeneratorError(
          "INVALID_ARGUMENT",
          `option '--end <date>' must be after ${o.start ? "--start" : "the start (now)"}: ${o.end.toISOString()} is not after ${start.toISOString()}`,
        );
      }
      await withStore(ctx, async (store) => {
        const c = await store.createCampaign({
          campaignId: o.id,
          name: o.name,
          description: o.description ?? null,
          startDate: start,
          endDate: o.end,
          discountPercentage: o.discountPercent ?? null,
          discountAmount: o.discountAmount ?? null,
          maxRedemptionsPerUser: o.maxPerUser ?? null,
          maxTotalRedemptions: o.maxTotal ?? null,
          isActive: !o.inactive,
          createdBy: o.createdBy ?? null,
        });
        printJson(c);
      });
    });
  campaign
    .command("list")
    .description(
      "List campaigns by id, with their state (active, upcoming, paused, ended) and live count (a table with a header row; --json for JSON).",
    )
    .option("--state <state>", `only this state: ${CAMPAIGN_STATES.join(", ")} (any letter case)`, stateArg)
    .option("--limit <n>", "at most this many (default 100)", intArg(1, 1000))
    .option("--after <id>", "the page after this campaign id (the nextCursor printed before)")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (o: { state?: CampaignState; limit?: number; after?: string }) => {
      await withReadStore(ctx, async (store) => {
        const limit = o.limit ?? 100;
        const campaigns = await store.listCampaigns({ state: o.state, limit, after: o.after });
        const nextCursor = campaigns.length === limit ? (campaigns.at(-1)?.campaignId ?? null) : null;
        if (ctx.globals().json) return printJson({ campaigns, nextCursor });
        if (campaigns.length === 0) return out("No campaigns.");
        for (const line of campaignTable(campaigns)) out(line);
        if (nextCursor) out(`More: --after ${nextCursor}`);
      });
    });
  campaign
    .command("update")
    .description("Edit a campaign; effective for the next redemption. A total limit cannot go below the redemptions made.")
    .argument("<id>", "campaign id")
    .option("--name <name>", "display name")
    .option("--description <text>", "description (an empty text removes it)")
    .option("--start <date>", "start: a day (UTC) or a date-time with a zone", dateArg("start"))
    .option("--end <date>", "end: a day (its end, UTC) or a date-time with a zone", dateArg("end"))
    .option("--discount-percent <p>", "discount in percent (replaces an amount)", positiveArg(100, 2))
    .option("--discount-amount <a>", "discount as an amount (replaces a percentage)", positiveArg(99_999_999.99, 2))
    .option("--max-per-user <n>", "redemptions per user, or none", limitArg)
    .option("--max-total <n>", "redemptions in total, or none", limitArg)
    .addHelpText("after", exitHelp(EXITS))
    .action(async (id: string, o: UpdateFlags) => {
      const patch: CampaignPatch = {};
      if (o.name !== undefined) patch.name = o.name;
      if (o.description !== undefined) patch.description = o.description === "" ? null : o.description;
      if (o.start !== undefined) patch.startDate = o.start;
      if (o.end !== undefined) patch.endDate = o.end;
      if (o.discountPercent !== undefined) patch.discountPercentage = o.discountPercent;
      if (o.discountAmount !== undefined) patch.discountAmount = o.discountAmount;
      if (o.maxPerUser !== undefined) patch.maxRedemptionsPerUser = limitOf(o.maxPerUser);
      if (o.maxTotal !== undefined) patch.maxTotalRedemptions = limitOf(o.maxTotal);
      if (Object.keys(patch).length === 0) throw new GeneratorError("INVALID_ARGUMENT", "give at least one option to change");
      await withStore(ctx, async (store) => printJson(await store.updateCampaign(id, patch)));
    });
  for (const [name, isActive, what] of [
    ["pause", false, "Pause a campaign: every redemption after it is refused CAMPAIGN_INACTIVE."],
    ["resume", true, "Resume a paused campaign."],
  ] as const) {
    campaign
      .command(name)
      .description(what)
      .argument("<id>", "campaign id")
      .addHelpText("after", exitHelp(EXITS))
      .action(async (id: string) => {
        await withStore(ctx, async (store) => printJson(await store.updateCampaign(id, { isActive })));
      });
  }
  campaign
    .command("delete")
    .description("Delete a campaign with its coupons and generation requests (the redemption history stays).")
    .argument("<id>", "campaign id")
    .option("--force", "delete it even though it has redemptions")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (id: string, o: { force?: boolean }) => {
      await withStore(ctx, async (store) => printJson(await store.deleteCampaign(id, { force: o.force === true })));
    });
  campaign
    .command("show")
    .description("Show a campaign.")
    .argument("<id>", "campaign id")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (id: string) => {
      await withReadStore(ctx, async (store) => {
        const c = await store.getCampaign(id);
        if (!c) throw new GeneratorError("NOT_FOUND", `campaign ${id} does not exist`);
        printJson(c);
      });
    });
  registerCampaignStatsCommand(campaign, ctx);
}

/** The list as a table: a header row, then one row per campaign; times in UTC ISO 8601 (or --local-time). */
export function campaignTable(rows: readonly ListedCampaign[]): string[] {
  return formatTable(
    ["CAMPAIGN", "STATE", "REDEEMED/LIMIT", "DISCOUNT", `START (${timeZoneLabel()})`, `END (${timeZoneLabel()})`, "NAME"],
    rows.map((c) => [
      c.campaignId,
      c.state,
      `${c.currentRedemptions}/${c.maxTotalRedemptions ?? "-"}`,
      c.discountPercentage !== null ? `${c.discountPercentage}%` : `${c.discountAmount ?? "-"}`,
      formatTime(c.startDate),
      formatTime(c.endDate),
      c.name,
    ]),
  );
}
