// `coupons export`: a campaign's or a request's codes as CSV, streamed (constant memory).
import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { stringify } from "csv-stringify";
import { EXIT, GeneratorError, exitHelp } from "../errors.ts";
import { type CliContext, withStore } from "./context.ts";
import { resolveRequestId } from "./request-id.ts";

const COLUMNS = ["code", "campaign_id", "expires_at", "request_id", "created_at"];

export function registerExportCommand(program: Command, ctx: CliContext): void {
  program
    .command("export")
    .description("Stream a campaign's or a request's codes as CSV (constant memory).")
    .option("--campaign <id>", "the campaign's codes")
    .option("--request <id>", "the request's codes (its id, or a unique prefix of at least 8 characters)")
    .option("--out <file>", "write to this file instead of stdout")
    .addHelpText("after", exitHelp([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.REFUSED, EXIT.UNAVAILABLE, EXIT.NOT_MIGRATED]))
    .action(async (o: { campaign?: string; request?: string; out?: string }) => {
      if ((o.campaign === undefined) === (o.request === undefined)) {
        throw new GeneratorError("INVALID_ARGUMENT", "give exactly one of --campaign and --request");
      }
      await withStore(ctx, async (store) => {
        if (o.campaign !== undefined && !(await store.getCampaign(o.campaign))) {
          throw new GeneratorError("NOT_FOUND", `campaign ${o.campaign} does not exist`);
        }
        const requestId = o.request === undefined ? undefined : await resolveRequestId(store, o.request);
        let count = 0;
        const source = store.streamCoupons(o.campaign !== undefined ? { campaignId: o.campaign } : { requestId });
        const rows = Readable.from(
          (async function* () {
            for await (const r of source) {
              count++;
              yield [r.couponCode, r.campaignId, r.expiresAt?.toISOString() ?? "", r.generationBatchId ?? "", r.createdAt.toISOString()];
            }
          })(),
        );
        const csv = stringify({ header: true, columns: COLUMNS });
        if (o.out) {
          await pipeline(rows, csv, createWriteStream(o.out));
          process.stderr.write(`Exported ${count.toLocaleString("en-US")} codes to ${resolve(o.out)}\n`);
        } else {
          await pipeline(rows, csv, process.stdout, { end: false });
        }
      });
    });
}
