// `coupons demo`: a demo campaign, a request for it (the same request rules as every caller) and its
// codes on the configured database (embedded by default), then where they are and how to export them.
import { resolve } from "node:path";
import { describeConfig } from "@coupons/db";
import type { Command } from "commander";
import { intArg } from "../args.ts";
import { EXIT, exitHelp } from "../errors.ts";
import { type CliContext, poolFor, storeConfig, withStore } from "./context.ts";
import { createRequest } from "./request.ts";
import { RUN_EXITS, type RunFlags, addRunOptions, runFlags, runRequest } from "./run.ts";

const DAY = 86_400_000;

export function registerDemoCommand(program: Command, ctx: CliContext): void {
  addRunOptions(
    program
      .command("demo")
      .description("Generate codes for a demo campaign on the configured database (embedded by default) and say where they are.")
      .option("--requested-amount <n>", "codes to generate (default 100000)", intArg(1, 10_000_000))
      .option("--amount <n>", "same as --requested-amount", intArg(1, 10_000_000))
      .addHelpText("after", exitHelp(RUN_EXITS)),
  ).action(async (o: RunFlags & { requestedAmount?: number; amount?: number }) => {
    const config = storeConfig(ctx.globals());
    const flags = runFlags(ctx, o);
    const campaignId = "demo";
    await withStore(
      ctx,
      async (store) => {
        if (!(await store.getCampaign(campaignId))) {
          await store.createCampaign({
            campaignId,
            name: "Demo campaign",
            description: "Created by `coupons demo`",
            startDate: new Date(Date.now() - DAY),
            endDate: new Date(Date.now() + 365 * DAY),
            discountPercentage: 10,
            createdBy: "coupons demo",
          });
        }
        const r = await createRequest(store, {
          campaign: campaignId,
          requestedAmount: o.requestedAmount,
          amount: o.requestedAmount === undefined && o.amount === undefined ? 100_000 : o.amount,
          prefix: "DEMO-",
          length: 10,
          requestedBy: "coupons demo",
        });
        const { code } = await runRequest(ctx, store, r.requestId, flags);
        ctx.setExit(code);
        if (code !== EXIT.OK) return;
        const where =
          config.engine === "embedded" && config.dataDir !== "memory"
            ? `embedded database at ${resolve(config.dataDir)}`
            : `${describeConfig(config)} database`;
        // from a checkout, `npm run coupons --` runs the CLI on the Node 24 of node_modules/.bin
        const cli = import.meta.url.endsWith(".ts") ? "npm run coupons --" : "coupons";
        process.stderr.write(
          `\n${r.requestedAmount.toLocaleString("en-US")} codes of campaign "${campaignId}" (request ${r.requestId}) are in the ${where}.\n` +
            `Export them:    ${cli} export --campaign ${campaignId} --out demo-codes.csv\n` +
            `See requests:   ${cli} request list --campaign ${campaignId}\n`,
        );
      },
      poolFor(ctx, flags.concurrency),
    );
  });
}
