// `coupons campaign create|show`: flags -> one CouponStore call each (the store checks every value).
import { MAX_INT } from "@coupons/db";
import type { Command } from "commander";
import { dateArg, intArg, positiveArg } from "../args.ts";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, printJson, withStore } from "./context.ts";

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

const EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE] as const;

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
    .command("show")
    .description("Show a campaign.")
    .argument("<id>", "campaign id")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (id: string) => {
      await withStore(ctx, async (store) => {
        const c = await store.getCampaign(id);
        if (!c) throw new GeneratorError("NOT_FOUND", `campaign ${id} does not exist`);
        printJson(c);
      });
    });
}
