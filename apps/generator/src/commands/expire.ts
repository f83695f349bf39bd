// `coupons expire --code|--request|--campaign`: expires now the unredeemed coupons of one code, one
// generation request or one campaign (CouponStore.expireCoupons) and prints how many.
import type { ExpireTarget } from "@coupons/db";
import type { Command } from "commander";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, printJson, withStore } from "./context.ts";
import { resolveRequestId } from "./request-id.ts";

const EXITS = [EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED] as const;

export function registerExpireCommand(program: Command, ctx: CliContext): void {
  program
    .command("expire")
    .description("Expire coupons now (redeemed and already expired ones are left as they are): give exactly one option.")
    .option("--code <code>", "one coupon")
    .option("--request <id>", "every coupon of a generation request (its id, or a unique prefix of at least 8 characters)")
    .option("--campaign <id>", "every coupon of a campaign")
    .addHelpText("after", exitHelp(EXITS))
    .action(async (o: { code?: string; request?: string; campaign?: string }) => {
      const given = [o.code, o.request, o.campaign].filter((v) => v !== undefined).length;
      if (given !== 1) throw new GeneratorError("INVALID_ARGUMENT", "give exactly one of --code, --request and --campaign");
      await withStore(ctx, async (store) => {
        const target: ExpireTarget =
          o.code !== undefined
            ? { code: o.code }
            : o.request !== undefined
              ? { requestId: await resolveRequestId(store, o.request) }
              : { campaignId: o.campaign as string };
        printJson({ expired: await store.expireCoupons(target) });
      });
    });
}
