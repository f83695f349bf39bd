// Check (not a test, not timed): a dense generation request, ten times in a row, on PostgreSQL.
//   npx node --conditions=source scripts/check-dense.ts [--runs 10] [--amount 250000]
// The case a crash harness found: `coupons generate --amount 250000 --prefix L5A --length 5` (0.75% of
// the code space, accepted by the feasibility check) with two batches in flight deadlocked in
// sp_BulkInsertCoupons and was left Failed. Each run here is a fresh database and the generator's
// own defaults; it must end Generated with exactly the amount on the first try. Exits 1 otherwise.
import { parseArgs } from "node:util";
import { openStore } from "@coupons/db";
import { generate } from "../apps/generator/src/pipeline.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" }, amount: { type: "string", default: "250000" } } });
const runs = Number(values.runs);
const amount = Number(values.amount);
process.env.TEST_POSTGRES_URL ||= "postgres://postgres@127.0.0.1:5432/test";
const { createPostgresDatabase } = await import("../packages/db/test/support.ts");

let failures = 0;
for (let run = 1; run <= runs; run++) {
  const db = await createPostgresDatabase();
  const store = await openStore(db.url);
  try {
    await store.createCampaign({
      campaignId: "dense",
      name: "Dense",
      startDate: new Date(Date.now() - 86_400_000),
      endDate: new Date(Date.now() + 86_400_000 * 30),
      discountPercentage: 10,
    });
    const r = await store.createGenerationRequest({ campaignId: "dense", requestedAmount: amount, prefix: "L5A", codeLength: 5 });
    const t0 = performance.now();
    let outcome: string;
    try {
      const result = await generate(store, r.requestId);
      outcome = `${result.outcome}, ${result.collisions} collisions replaced`;
    } catch (err) {
      outcome = `ERROR ${(err as Error).message}`;
    }
    const now = await store.getGenerationRequest(r.requestId);
    const exact = now?.status === "Generated" && now.generatedAmount === amount;
    if (!exact) failures++;
    console.log(
      `run ${run}: ${now?.status} ${now?.generatedAmount}/${amount} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${outcome})${exact ? "" : "  <- NOT EXACT"}`,
    );
  } finally {
    await store.close();
    await db.drop();
  }
}
console.log(`${runs - failures} of ${runs} runs generated exactly ${amount} codes on the first try`);
process.exitCode = failures === 0 ? 0 : 1;
