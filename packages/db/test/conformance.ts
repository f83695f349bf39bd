// (Over 350 lines on purpose: the whole behavioural contract every engine must pass, in one place.)
// The conformance suite: one behavioural description of the CouponStore, run against every engine
// (embedded.test.ts, postgres.test.ts, mssql.test.ts call it). Each top-level block opens a fresh
// database, so runs never see each other's data.
import { expect } from "chai";
import {
  type CouponStore,
  type GenerationRequest,
  REFUSAL_CODES,
  type RefusalCode,
  StoreError,
  type StoreErrorCode,
} from "../src/index.ts";
import { lifecycleCases } from "./conformance-lifecycle.ts";
import { reversalCases } from "./conformance-reversal.ts";
import { statisticsCases } from "./conformance-statistics.ts";
import type { EngineUnderTest } from "./support.ts";

const DAY = 86_400_000;
const REPEAT = Number(process.env.CONFORMANCE_REPEAT || 1);

let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${++seq}`;

export async function expectStoreError(p: Promise<unknown>, code: StoreErrorCode, messagePart?: RegExp): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(StoreError);
    const e = err as StoreError;
    expect(e.code, e.message).to.equal(code);
    if (messagePart) expect(e.message).to.match(messagePart);
    return e;
  }
  throw new Error(`expected StoreError ${code}, but the call succeeded`);
}

type CampaignOpts = {
  maxPerUser?: number | null;
  maxTotal?: number | null;
  isActive?: boolean;
  startDate?: Date;
  endDate?: Date;
  discountAmount?: number;
};

export async function makeCampaign(store: CouponStore, o: CampaignOpts = {}): Promise<string> {
  const campaignId = uid("camp");
  await store.createCampaign({
    campaignId,
    name: `Campaign ${campaignId}`,
    startDate: o.startDate ?? new Date(Date.now() - DAY),
    endDate: o.endDate ?? new Date(Date.now() + 30 * DAY),
    ...(o.discountAmount ? { discountAmount: o.discountAmount } : { discountPercentage: 15 }),
    maxRedemptionsPerUser: o.maxPerUser ?? null,
    maxTotalRedemptions: o.maxTotal ?? null,
    isActive: o.isActive ?? true,
    createdBy: "conformance",
  });
  return campaignId;
}

/** Inserts the given codes for a campaign through a generation request, the way the generator does. */
export async function makeCoupons(
  store: CouponStore,
  campaignId: string,
  codes: string[],
  expirationDate: Date | null = null,
): Promise<string> {
  const req = await store.createGenerationRequest({ campaignId, requestedAmount: codes.length, prefix: "", codeLength: 8, expirationDate });
  const claim = await store.claimGenerationRequest(req.requestId, "conformance");
  try {
    const res = await store.bulkInsertCoupons(req.requestId, codes);
    expect(res.inserted, `codes ${codes.join(",")} must be new`).to.equal(codes.length);
    await store.updateGenerationRequest(req.requestId, "Generated");
  } finally {
    await claim.release();
  }
  return req.requestId;
}

const codes = (
  n: number,
  p = uid("C")
    .replace(/[^A-Z0-9]/gi, "")
    .toUpperCase(),
) => Array.from({ length: n }, (_, i) => `${p}X${i}`);

export function conformanceSuite(engine: EngineUnderTest): void {
  describe(`CouponStore conformance: ${engine.name}`, function () {
    this.timeout(120_000);
    let store: CouponStore;
    let cleanup: () => Promise<void>;
    let url: string;

    before(async () => {
      ({ store, cleanup, url } = await engine.open({ poolSize: 25 }));
    });
    after(async () => {
      await cleanup?.();
    });

    it("reports its engine name and answers a ping", async () => {
      expect(store.engine).to.equal(engine.name);
      await store.ping();
    });

    lifecycleCases(() => store);
    reversalCases(
      () => store,
      engine,
      () => url,
    );
    statisticsCases(() => store);

    describe("campaigns", () => {
      it("creates a campaign and reads it back with every field", async () => {
        const start = new Date(Date.UTC(2026, 0, 1));
        const end = new Date(Date.UTC(2027, 0, 1));
        const c = await store.createCampaign({
          campaignId: uid("full"),
          name: "Full",
          description: "all fields",
          startDate: start,
          endDate: end,
          discountAmount: 12.5,
          maxRedemptionsPerUser: 2,
          maxTotalRedemptions: 100,
          isActive: false,
          createdBy: "admin@example.com",
        });
        const read = await store.getCampaign(c.campaignId);
        expect(read).to.deep.equal(c);
        expect(c).to.include({ name: "Full", description: "all fields", discountAmount: 12.5, discountPercentage: null });
        expect(c).to.include({ maxRedemptionsPerUser: 2, maxTotalRedemptions: 100, currentRedemptions: 0, isActive: false });
        expect(c.startDate.toISOString()).to.equal(start.toISOString());
        expect(c.endDate.toISOString()).to.equal(end.toISOString());
        expect(c.createdBy).to.equal("admin@example.com");
      });

      it("returns null for an unknown campaign", async () => {
        expect(await store.getCampaign("no-such-campaign")).to.equal(null);
        expect(await store.getRedemptionStats("no-such-campaign")).to.equal(null);
      });

      it("refuses a duplicate campaign id with CONFLICT", async () => {
        const id = await makeCampaign(store);
        await expectStoreError(makeCampaignWithId(store, id), "CONFLICT", new RegExp(id));
      });

      const bad: [string, Record<string, unknown>, RegExp][] = [
        ["an end before the start", { startDate: new Date(Date.now() + DAY), endDate: new Date() }, /endDate must be after startDate/],
        ["both discounts", { discountPercentage: 10, discountAmount: 5 }, /exactly one of discountPercentage and discountAmount/],
        ["no discount", { discountPercentage: null }, /exactly one of discountPercentage and discountAmount/],
        ["a percentage above 100", { discountPercentage: 150 }, /discountPercentage must be/],
        ["a negative amount", { discountPercentage: null, discountAmount: -1 }, /discountAmount must be/],
        ["a zero per-user limit", { maxRedemptionsPerUser: 0 }, /maxRedemptionsPerUser must be a positive integer/],
        ["a fractional total limit", { maxTotalRedemptions: 1.5 }, /maxTotalRedemptions must be a positive integer/],
        ["an empty id", { campaignId: "  " }, /campaignId must be a non-empty string/],
        ["a too long name", { name: "n".repeat(201) }, /name must be at most 200 characters/],
        ["an id with a trailing space", { campaignId: "spring " }, /campaignId must not start or end with whitespace/],
        ["an id with a zero-width space", { campaignId: "spr\u200bing" }, /campaignId must not contain control, zero-width or bidi/],
        ["an id with a bidi override", { campaignId: "spr\u202eing" }, /campaignId must not contain control, zero-width or bidi/],
        ["an invalid date", { startDate: new Date("nope") }, /startDate must be a valid date/],
      ];
      for (const [what, patch, message] of bad) {
        it(`refuses a campaign with ${what}, naming the field, and stores nothing`, async () => {
          const campaignId = uid("bad");
          await expectStoreError(
            store.createCampaign({
              campaignId,
              name: "Bad",
              startDate: new Date(Date.now() - DAY),
              endDate: new Date(Date.now() + DAY),
              discountPercentage: 10,
              ...patch,
            } as never),
            "INVALID_INPUT",
            message,
          );
          expect(await store.getCampaign(campaignId)).to.equal(null);
        });
      }
    });

    describe("generation requests and bulk insert", () => {
      it("creates a request in status Requested and lists it", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({
          campaignId,
          requestedAmount: 10,
          prefix: "SPRING",
          codeLength: 8,
          requestedBy: "ops",
        });
        expect(r).to.include({ campaignId, requestedAmount: 10, generatedAmount: 0, prefix: "SPRING", codeLength: 8, status: "Requested" });
        expect(r.startedAt).to.equal(null);
        expect(await store.getGenerationRequest(r.requestId)).to.deep.equal(r);
        const listed = await store.listGenerationRequests({ campaignId });
        expect(listed.map((x) => x.requestId)).to.deep.equal([r.requestId]);
        expect(await store.listGenerationRequests({ campaignId, status: "Generated" })).to.deep.equal([]);
      });

      it("refuses a request for an unknown campaign with NOT_FOUND", async () => {
        await expectStoreError(store.createGenerationRequest({ campaignId: "nope", requestedAmount: 1 }), "NOT_FOUND", /campaign nope/);
      });

      it("refuses malformed requests naming the field", async () => {
        const campaignId = await makeCampaign(store);
        await expectStoreError(store.createGenerationRequest({ campaignId, requestedAmount: 0 }), "INVALID_INPUT", /requestedAmount/);
        await expectStoreError(
          store.createGenerationRequest({ campaignId, requestedAmount: 5, prefix: "bad prefix" }),
          "INVALID_INPUT",
          /prefix/,
        );
        await expectStoreError(
          store.createGenerationRequest({ campaignId, requestedAmount: 5, prefix: "AB", codeLength: 49 }),
          "INVALID_INPUT",
          /codeLength/,
        );
        expect(await store.listGenerationRequests({ campaignId })).to.deep.equal([]);
      });

      it("moves Requested -> Generating on claim, sets StartedAt, and refuses a second claim while held", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 3 });
        const claim = await store.claimGenerationRequest(r.requestId, "worker-a");
        try {
          expect(claim.request.status).to.equal("Generating");
          expect(claim.request.workerId).to.equal("worker-a");
          expect(claim.request.startedAt).to.be.instanceOf(Date);
          await expectStoreError(store.claimGenerationRequest(r.requestId, "worker-b"), "REQUEST_BUSY", new RegExp(r.requestId));
        } finally {
          await claim.release();
        }
        const again = await store.claimGenerationRequest(r.requestId, "worker-b");
        expect(again.request.workerId).to.equal("worker-b");
        await again.release();
      });

      for (const claimants of [2, 3]) {
        it(`gives ${claimants} simultaneous claims of one request exactly one winner, and REQUEST_BUSY to the others`, async () => {
          const campaignId = await makeCampaign(store);
          const r = await store.createGenerationRequest({ campaignId, requestedAmount: 3 });
          const outcomes = await Promise.allSettled(
            Array.from({ length: claimants }, (_, i) => store.claimGenerationRequest(r.requestId, `racer-${i}`)),
          );
          const won = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
          try {
            expect(won, "winners").to.have.length(1);
            const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
            expect(lost).to.have.length(claimants - 1);
            for (const e of lost) {
              expect(e, String(e)).to.be.instanceOf(StoreError);
              expect((e as StoreError).code, String(e)).to.equal("REQUEST_BUSY");
            }
            expect((await store.getGenerationRequest(r.requestId))?.workerId).to.equal(won[0]?.request.workerId);
          } finally {
            await Promise.all(won.map((c) => c.release()));
          }
        });
      }

      it("cancels a request: the worker's next batch is refused, what it inserted stays, and it is claimable again only once retried", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 4 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        const [a, b, c] = codes(3) as [string, string, string];
        try {
          await store.bulkInsertCoupons(r.requestId, [a]);
          const cancelled = await store.cancelGenerationRequest(r.requestId);
          expect(cancelled).to.include({ status: "Cancelled", generatedAmount: 1, failureReason: null });
          await expectStoreError(store.bulkInsertCoupons(r.requestId, [b]), "CONFLICT", /Cancelled/);
        } finally {
          await claim.release();
        }
        expect(await store.cancelGenerationRequest(r.requestId)).to.include({ status: "Cancelled", generatedAmount: 1 });
        await expectStoreError(store.claimGenerationRequest(r.requestId, "w2"), "CONFLICT", /Cancelled/);
        await expectStoreError(store.updateGenerationRequest(r.requestId, "Generating"), "CONFLICT", /Cancelled/);
        await expectStoreError(store.updateGenerationRequest(r.requestId, "Cancelled"), "INVALID_INPUT", /cancelGenerationRequest/);
        const exported: string[] = [];
        for await (const row of store.streamCoupons({ requestId: r.requestId })) exported.push(row.couponCode);
        expect(exported).to.deep.equal([a]);
        expect(await store.updateGenerationRequest(r.requestId, "Requested")).to.include({ status: "Requested" });
        const again = await store.claimGenerationRequest(r.requestId, "w3");
        try {
          expect((await store.bulkInsertCoupons(r.requestId, [b, c])).generatedAmount).to.equal(3);
        } finally {
          await again.release();
        }
        const done = await makeCoupons(store, campaignId, codes(1));
        await expectStoreError(store.cancelGenerationRequest(done), "CONFLICT", /Generated/);
        await expectStoreError(store.cancelGenerationRequest("no-such-request"), "NOT_FOUND");
      });

      it("lists requests newest first in pages that neither skip nor repeat one, also when several were created at once", async () => {
        const campaignId = await makeCampaign(store);
        const made: string[] = [];
        for (let i = 0; i < 3; i++) made.push((await store.createGenerationRequest({ campaignId, requestedAmount: 1 })).requestId);
        const burst = await Promise.all(Array.from({ length: 4 }, () => store.createGenerationRequest({ campaignId, requestedAmount: 1 })));
        made.push(...burst.map((r) => r.requestId));
        const all = await store.listGenerationRequests({ campaignId, limit: 1000 });
        expect(all.map((r) => r.requestId).sort()).to.deep.equal([...made].sort());
        for (let i = 1; i < all.length; i++) {
          expect((all[i - 1] as GenerationRequest).createdAt.getTime()).to.be.at.least((all[i] as GenerationRequest).createdAt.getTime());
        }
        const paged: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listGenerationRequests({ campaignId, limit: 2, after });
          paged.push(...page.map((r) => r.requestId));
          if (page.length < 2) break;
          after = page.at(-1)?.requestId;
        }
        expect(paged).to.deep.equal(all.map((r) => r.requestId));
        expect(await store.listGenerationRequests({ campaignId, after: "no-such-request" })).to.deep.equal([]);
      });

      it("resubmits a Failed or Cancelled request when it is created again: edited and Requested; codes made keep their shape", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 5, prefix: "RS1" });
        await store.cancelGenerationRequest(r.requestId);
        const edited = await store.createGenerationRequest({
          requestId: r.requestId,
          campaignId,
          requestedAmount: 7,
          prefix: "RS2",
          codeLength: 9,
        });
        expect(edited).to.include({ status: "Requested", requestedAmount: 7, prefix: "RS2", codeLength: 9, generatedAmount: 0 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        try {
          await store.bulkInsertCoupons(r.requestId, codes(2));
          await store.updateGenerationRequest(r.requestId, "Failed", "disk full");
        } finally {
          await claim.release();
        }
        await expectStoreError(
          store.createGenerationRequest({ requestId: r.requestId, campaignId, requestedAmount: 7, prefix: "RS3", codeLength: 9 }),
          "CONFLICT",
          /only its amount can change/,
        );
        await expectStoreError(
          store.createGenerationRequest({ requestId: r.requestId, campaignId, requestedAmount: 1, prefix: "RS2", codeLength: 9 }),
          "CONFLICT",
          /cannot go below/,
        );
        const more = await store.createGenerationRequest({
          requestId: r.requestId,
          campaignId,
          requestedAmount: 10,
          prefix: "RS2",
          codeLength: 9,
        });
        expect(more).to.include({ status: "Requested", requestedAmount: 10, generatedAmount: 2, failureReason: null });
        await expectStoreError(
          store.createGenerationRequest({ requestId: r.requestId, campaignId, requestedAmount: 10, prefix: "RS2", codeLength: 9 }),
          "CONFLICT",
          /exists already \(Requested/,
        );
        const other = await makeCampaign(store);
        await store.cancelGenerationRequest(r.requestId);
        await expectStoreError(
          store.createGenerationRequest({ requestId: r.requestId, campaignId: other, requestedAmount: 10, prefix: "RS2", codeLength: 9 }),
          "CONFLICT",
          /same campaign/,
        );
      });

      it("tells a watcher when a request becomes Requested, created or retried (where the engine can push)", async () => {
        const seen: string[] = [];
        let wake: () => void = () => {};
        const watch = await store.watchGenerationRequests((id) => {
          seen.push(id);
          wake();
        });
        if (watch === null) {
          expect(engine.name, "only SQL Server has no push").to.equal("mssql");
          return;
        }
        try {
          const next = () => new Promise<void>((resolve) => (wake = resolve));
          const campaignId = await makeCampaign(store);
          let arrived = next();
          const r = await store.createGenerationRequest({ campaignId, requestedAmount: 1 });
          await arrived;
          expect(seen).to.deep.equal([r.requestId]);
          await store.cancelGenerationRequest(r.requestId);
          arrived = next();
          await store.updateGenerationRequest(r.requestId, "Requested");
          await arrived;
          expect(seen).to.deep.equal([r.requestId, r.requestId]);
        } finally {
          await watch.close();
        }
      });

      it("inserts new codes, reports collisions, counts only what it inserted", async () => {
        const campaignId = await makeCampaign(store);
        const first = await makeCoupons(store, campaignId, ["COLLIDE1", "COLLIDE2"]);
        expect(first).to.be.a("string");
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 4 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        try {
          const res = await store.bulkInsertCoupons(r.requestId, ["collide1", "NEW1", "COLLIDE2"]);
          expect(res.inserted).to.equal(1);
          expect([...res.existing].sort()).to.deep.equal(["COLLIDE1", "COLLIDE2"]);
          expect(res).to.include({ generatedAmount: 1, requestedAmount: 4 });
          const res2 = await store.bulkInsertCoupons(r.requestId, ["NEW2", "NEW3", "NEW4"]);
          expect(res2).to.deep.equal({ inserted: 3, existing: [], generatedAmount: 4, requestedAmount: 4 });
        } finally {
          await claim.release();
        }
        expect((await store.getGenerationRequest(r.requestId))?.generatedAmount).to.equal(4);
      });

      it("refuses a whole batch that would pass RequestedAmount, inserting none of it", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 3 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        try {
          await store.bulkInsertCoupons(r.requestId, ["CAPA1", "CAPA2"]);
          await expectStoreError(store.bulkInsertCoupons(r.requestId, ["CAPA3", "CAPA4"]), "CAP_EXCEEDED", /RequestedAmount/);
          expect(await store.getCouponDetails("CAPA3")).to.equal(null);
          expect((await store.getGenerationRequest(r.requestId))?.generatedAmount).to.equal(2);
        } finally {
          await claim.release();
        }
      });

      it("refuses a bulk insert into a request nobody claimed", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 3 });
        await expectStoreError(store.bulkInsertCoupons(r.requestId, ["UNCLAIMED1"]), "CONFLICT", /Requested, not Generating/);
        await expectStoreError(store.bulkInsertCoupons("no-such-request", ["X"]), "NOT_FOUND");
      });

      it("refuses codes longer than 50 characters without inserting any of the batch", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 3 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        try {
          await expectStoreError(store.bulkInsertCoupons(r.requestId, ["SHORTOK", "L".repeat(51)]), "INVALID_INPUT");
          expect(await store.getCouponDetails("SHORTOK")).to.equal(null);
        } finally {
          await claim.release();
        }
      });

      it("goes Generating -> Generated only when complete, and Failed needs a reason", async () => {
        const campaignId = await makeCampaign(store);
        const r = await store.createGenerationRequest({ campaignId, requestedAmount: 2 });
        const claim = await store.claimGenerationRequest(r.requestId, "w");
        try {
          await store.bulkInsertCoupons(r.requestId, ["LIFE1"]);
          await expectStoreError(store.updateGenerationRequest(r.requestId, "Generated"), "CONFLICT", /1 of 2/);
          await expectStoreError(store.updateGenerationRequest(r.requestId, "Failed"), "INVALID_INPUT", /reason/);
          const failed = await store.updateGenerationRequest(r.requestId, "Failed", "database full: add storage and run again");
          expect(failed).to.include({ status: "Failed", failureReason: "database full: add storage and run again" });
        } finally {
          await claim.release();
        }
        const resumed = await store.claimGenerationRequest(r.requestId, "w2");
        try {
          expect(resumed.request).to.include({ status: "Generating", failureReason: null, generatedAmount: 1 });
          await store.bulkInsertCoupons(r.requestId, ["LIFE2"]);
          const done = await store.updateGenerationRequest(r.requestId, "Generated");
          expect(done.status).to.equal("Generated");
          expect(done.completedAt).to.be.instanceOf(Date);
          await expectStoreError(store.updateGenerationRequest(r.requestId, "Generating"), "CONFLICT", /Generated/);
        } finally {
          await resumed.release();
        }
      });

      it("counts codes by prefix, treating LIKE wildcards literally", async () => {
        const campaignId = await makeCampaign(store);
        const p = uid("PFX")
          .replace(/[^A-Z0-9]/gi, "")
          .toUpperCase();
        await makeCoupons(store, campaignId, [`${p}_A`, `${p}_B`, `${p}ZC`]);
        expect(await store.countCouponsWithPrefix(p)).to.equal(3);
        expect(await store.countCouponsWithPrefix(`${p}_`)).to.equal(2);
        expect(await store.countCouponsWithPrefix(`${p}%`)).to.equal(0);
      });

      it("inserts a code shared by simultaneous batches once and reports it as existing to every other batch, none failing", async () => {
        // Parity: PostgreSQL skips a concurrent duplicate (ON CONFLICT DO NOTHING); T-SQL retries the
        // batch after the duplicate key, and its probe then sees the code. Same outcome, no error.
        const campaignId = await makeCampaign(store);
        const shared = codes(40);
        const reqs = await Promise.all(
          Array.from({ length: 6 }, () => store.createGenerationRequest({ campaignId, requestedAmount: shared.length })),
        );
        const claims = await Promise.all(reqs.map((r) => store.claimGenerationRequest(r.requestId, "racer")));
        try {
          const results = await Promise.all(reqs.map((r) => store.bulkInsertCoupons(r.requestId, shared)));
          expect(results.reduce((n, r) => n + r.inserted, 0)).to.equal(shared.length);
          for (const code of shared) {
            expect(
              results.filter((r) => r.existing.includes(code)),
              code,
            ).to.have.length(reqs.length - 1);
          }
        } finally {
          for (const c of claims) await c.release();
        }
        expect(await store.countCouponsWithPrefix(shared[0]?.replace(/X0$/, "X") ?? "")).to.equal(shared.length);
      });

      it("streams a request's and a campaign's codes in insertion order, which is the order the batch gave them", async () => {
        const campaignId = await makeCampaign(store);
        // Unsorted on purpose: an engine that inserts a batch in code order instead of input order fails.
        const base = codes(5);
        const a = [4, 0, 3, 1, 2].map((i) => base[i] as string);
        const b = codes(3).reverse();
        expect([...a].sort(), "the batch is not sorted").to.not.deep.equal(a);
        const ra = await makeCoupons(store, campaignId, a);
        await makeCoupons(store, campaignId, b);
        const byRequest: string[] = [];
        for await (const row of store.streamCoupons({ requestId: ra })) byRequest.push(row.couponCode);
        expect(byRequest).to.deep.equal(a);
        const byCampaign: string[] = [];
        for await (const row of store.streamCoupons({ campaignId })) byCampaign.push(row.couponCode);
        expect(byCampaign).to.deep.equal([...a, ...b]);
      });
    });

    describe("redemption", () => {
      it("redeems an available coupon once, matching the code case-insensitively, and logs the attempt", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        const res = await store.redeemCoupon({
          code: `  ${code.toLowerCase()} `,
          userId: "alice",
          ipAddress: "203.0.113.7",
          userAgent: "shop/1.0",
        });
        expect(res.ok).to.equal(true);
        if (!res.ok) return;
        expect(res).to.include({ couponCode: code, campaignId, discountPercentage: 15, discountAmount: null, replayed: false });
        const details = await store.getCouponDetails(code.toLowerCase());
        expect(details).to.include({ isRedeemed: true, redeemedBy: "alice", status: "redeemed" });
        expect(details?.campaign.currentRedemptions).to.equal(1);
        const [attempt] = await store.listRedemptionAttempts({ couponCode: code });
        expect(attempt).to.include({ couponCode: code, userId: "alice", campaignId, success: true, failureReason: null });
        expect(attempt).to.include({ ipAddress: "203.0.113.7", userAgent: "shop/1.0" });
      });

      type Setup = { code: string; userId: string; campaignId: string | null };
      const cases: Record<RefusalCode, () => Promise<Setup>> = {
        COUPON_NOT_FOUND: async () => ({ code: uid("MISSING").toUpperCase(), userId: "u", campaignId: null }),
        CAMPAIGN_INACTIVE: async () => {
          const campaignId = await makeCampaign(store, { isActive: false });
          const [code] = codes(1) as [string];
          await makeCoupons(store, campaignId, [code]);
          return { code, userId: "u", campaignId };
        },
        ALREADY_REDEEMED: async () => {
          const campaignId = await makeCampaign(store);
          const [code] = codes(1) as [string];
          await makeCoupons(store, campaignId, [code]);
          expect((await store.redeemCoupon({ code, userId: "first" })).ok).to.equal(true);
          return { code, userId: "second", campaignId };
        },
        COUPON_EXPIRED: async () => {
          const campaignId = await makeCampaign(store);
          const [code] = codes(1) as [string];
          await makeCoupons(store, campaignId, [code], new Date(Date.now() - 60_000));
          return { code, userId: "u", campaignId };
        },
        NOT_ASSIGNED_TO_USER: async () => {
          const campaignId = await makeCampaign(store);
          const [code] = codes(1) as [string];
          await makeCoupons(store, campaignId, [code]);
          await store.assignCoupon(code, "owner");
          return { code, userId: "intruder", campaignId };
        },
        USER_LIMIT_REACHED: async () => {
          const campaignId = await makeCampaign(store, { maxPerUser: 1 });
          const [c1, c2] = codes(2) as [string, string];
          await makeCoupons(store, campaignId, [c1, c2]);
          expect((await store.redeemCoupon({ code: c1, userId: "greedy" })).ok).to.equal(true);
          return { code: c2, userId: "greedy", campaignId };
        },
        CAMPAIGN_LIMIT_REACHED: async () => {
          const campaignId = await makeCampaign(store, { maxTotal: 1 });
          const [c1, c2] = codes(2) as [string, string];
          await makeCoupons(store, campaignId, [c1, c2]);
          expect((await store.redeemCoupon({ code: c1, userId: "early" })).ok).to.equal(true);
          return { code: c2, userId: "late", campaignId };
        },
      };

      it("has a case for every refusal code", () => {
        expect(Object.keys(cases).sort()).to.deep.equal([...REFUSAL_CODES].sort());
      });

      for (const reason of REFUSAL_CODES) {
        it(`refuses with ${reason}, logs the refusal with its reason, and changes nothing else`, async () => {
          const setup = await cases[reason]();
          const before = await snapshot(store, setup);
          const validated = await store.validateCoupon({ code: setup.code, userId: setup.userId });
          expect(validated).to.deep.include({ ok: false, reason });
          const res = await store.redeemCoupon({ code: setup.code, userId: setup.userId, ipAddress: "198.51.100.9", userAgent: "probe" });
          expect(res).to.deep.include({ ok: false, reason, campaignId: setup.campaignId });
          expect(await snapshot(store, setup)).to.deep.equal(before);
          const [attempt] = await store.listRedemptionAttempts({ couponCode: setup.code, limit: 1 });
          expect(attempt).to.include({
            success: false,
            failureReason: reason,
            userId: setup.userId,
            ipAddress: "198.51.100.9",
            userAgent: "probe",
          });
          expect(attempt?.campaignId).to.equal(setup.campaignId);
        });
      }

      it("checks in the seed's order: an inactive campaign wins over an expired, redeemed coupon", async () => {
        const campaignId = await makeCampaign(store, { startDate: new Date(Date.now() + DAY), endDate: new Date(Date.now() + 2 * DAY) });
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code], new Date(Date.now() - 1000));
        expect(await store.redeemCoupon({ code, userId: "u" })).to.deep.include({ ok: false, reason: "CAMPAIGN_INACTIVE" });
      });

      it("lets the assigned user redeem an assigned coupon", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        await store.assignCoupon(code, "owner");
        expect((await store.redeemCoupon({ code, userId: "owner" })).ok).to.equal(true);
      });

      it("validates without changing or logging anything", async () => {
        const campaignId = await makeCampaign(store, { maxPerUser: 1, maxTotal: 5 });
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        const v = await store.validateCoupon({ code: code.toLowerCase(), userId: "u" });
        expect(v).to.deep.equal({ ok: true, couponCode: code, campaignId, discountPercentage: 15, discountAmount: null });
        expect(await store.listRedemptionAttempts({ couponCode: code })).to.deep.equal([]);
        expect((await store.getCouponDetails(code))?.isRedeemed).to.equal(false);
      });

      it("refuses malformed redeem input with INVALID_INPUT and logs nothing", async () => {
        await expectStoreError(store.redeemCoupon({ code: "", userId: "u" }), "INVALID_INPUT", /code/);
        await expectStoreError(store.redeemCoupon({ code: "X", userId: "" }), "INVALID_INPUT", /userId/);
        await expectStoreError(store.redeemCoupon({ code: "X", userId: "u".repeat(101) }), "INVALID_INPUT", /userId/);
        await expectStoreError(store.redeemCoupon({ code: "X", userId: "u\u200d1" }), "INVALID_INPUT", /userId must not contain/);
        await expectStoreError(
          store.redeemCoupon({ code: "X\u200b", userId: "u" }),
          "INVALID_INPUT",
          /code must contain only printable ASCII/,
        );
        expect(await store.listRedemptionAttempts({ couponCode: "X" })).to.deep.equal([]);
      });

      it("upper-cases only ASCII letters of a code, so a look-alike such as 'ſ' is refused, not folded to 'S'", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        expect((await store.getCouponDetails(code.toLowerCase()))?.couponCode).to.equal(code);
        const lookAlike = `${code.slice(0, -1)}ſ`;
        await expectStoreError(store.redeemCoupon({ code: lookAlike, userId: "u" }), "INVALID_INPUT", /printable ASCII/);
        expect((await store.getCouponDetails(code))?.isRedeemed).to.equal(false);
      });

      it("stores a user agent over its column cut to 500 characters, and the redemption succeeds", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        const userId = uid("ua");
        const res = await store.redeemCoupon({ code, userId, userAgent: "A".repeat(5000) });
        expect(res.ok).to.equal(true);
        const [attempt] = await store.listRedemptionAttempts({ userId, limit: 1 });
        expect(attempt?.userAgent).to.equal("A".repeat(500));
      });

      it("logs an over-long unknown code cut to the column size", async () => {
        const long = `Q${"Z".repeat(120)}`;
        const res = await store.redeemCoupon({ code: long, userId: "fuzzer" });
        expect(res).to.deep.include({ ok: false, reason: "COUPON_NOT_FOUND" });
        const [attempt] = await store.listRedemptionAttempts({ userId: "fuzzer", limit: 1 });
        expect(attempt?.couponCode).to.equal(long.slice(0, 50));
      });

      it("replays an idempotent redeem with the original outcome and refuses the key with another request", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        const key = uid("idem");
        const first = await store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "h1" });
        expect(first).to.include({ ok: true, replayed: false });
        const again = await store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "h1" });
        expect(again).to.include({ ok: true, replayed: true });
        expect({ ...again, replayed: false }).to.deep.equal(first);
        await expectStoreError(store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "h2" }), "IDEMPOTENCY_MISMATCH");
        expect(await store.listRedemptionAttempts({ couponCode: code })).to.have.length(1);
        const refusedKey = uid("idem");
        const refused = await store.redeemCoupon({ code, userId: "v", idempotencyKey: refusedKey, requestHash: "h" });
        expect(refused).to.deep.include({ ok: false, reason: "ALREADY_REDEEMED" });
        expect(await store.redeemCoupon({ code, userId: "v", idempotencyKey: refusedKey, requestHash: "h" })).to.deep.include({
          ok: false,
          reason: "ALREADY_REDEEMED",
          replayed: true,
        });
      });
    });

    describe("history archive order", () => {
      it("archives the oldest attempts first, as every engine does", async () => {
        // Parity: T-SQL's DELETE TOP (n) took whichever rows the plan met first; both dialects now take
        // the lowest RedemptionIds. A store of its own: the archive moves every row before its cutoff.
        const own = await engine.open();
        try {
          for (let i = 0; i < 5; i++) await own.store.redeemCoupon({ code: `ORDER-${i}`, userId: "order" });
          const ids = (await own.store.listRedemptionAttempts({ userId: "order" })).map((a) => a.redemptionId);
          const stop = new AbortController();
          const r = await own.store.archiveRedemptionHistory({
            before: new Date(Date.now() + DAY),
            batchSize: 2,
            signal: stop.signal,
            onProgress: () => stop.abort(), // after the first batch
          });
          expect(r).to.include({ moved: 2, stopped: true });
          const left = (await own.store.listRedemptionAttempts({ userId: "order" })).map((a) => a.redemptionId);
          const byAge = [...ids].sort((x, y) => Number(BigInt(x) - BigInt(y)));
          expect([...left].sort((x, y) => Number(BigInt(x) - BigInt(y)))).to.deep.equal(byAge.slice(2));
        } finally {
          await own.cleanup();
        }
      });
    });

    describe("idempotency key retention", () => {
      it("purges keys created before a time, keeps newer ones, and a purged key's retry is a new request", async () => {
        const campaignId = await makeCampaign(store);
        const [code] = codes(1) as [string];
        await makeCoupons(store, campaignId, [code]);
        const key = uid("retain");
        expect(await store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "h" })).to.include({ ok: true });
        await store.purgeIdempotencyKeys(new Date(Date.now() - 3_600_000)); // an hour ago: this key stays
        expect(await store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "h" })).to.include({
          ok: true,
          replayed: true,
        });
        expect(await store.purgeIdempotencyKeys(new Date(Date.now() + 60_000))).to.be.at.least(1);
        expect(await store.redeemCoupon({ code, userId: "u", idempotencyKey: key, requestHash: "other" })).to.deep.include({
          ok: false,
          reason: "ALREADY_REDEEMED",
          replayed: false,
        });
        await expectStoreError(store.purgeIdempotencyKeys(new Date("nope")), "INVALID_INPUT", /before/);
      });
    });

    describe("coupon details and assignment", () => {
      it("computes status available, assigned, redeemed, expired and campaign_inactive", async () => {
        const campaignId = await makeCampaign(store);
        const [a, b, c] = codes(3) as [string, string, string];
        await makeCoupons(store, campaignId, [a, b, c]);
        const [e] = codes(1) as [string];
        await makeCoupons(store, campaignId, [e], new Date(Date.now() - 1000));
        const inactive = await makeCampaign(store, { isActive: false });
        const [i] = codes(1) as [string];
        await makeCoupons(store, inactive, [i]);
        await store.assignCoupon(b, "bob");
        await store.redeemCoupon({ code: c, userId: "carol" });
        expect((await store.getCouponDetails(a))?.status).to.equal("available");
        expect((await store.getCouponDetails(b))?.status).to.equal("assigned");
        expect((await store.getCouponDetails(c))?.status).to.equal("redeemed");
        expect((await store.getCouponDetails(e))?.status).to.equal("expired");
        expect((await store.getCouponDetails(i))?.status).to.equal("campaign_inactive");
        expect(await store.getCouponDetails("NO-SUCH-CODE")).to.equal(null);
        const d = await store.getCouponDetails(a.toLowerCase());
        expect(d).to.include({ couponCode: a, campaignId, isRedeemed: false, redeemedAt: null, redeemedBy: null, assignedTo: null });
        expect(d?.campaign.campaignId).to.equal(campaignId);
      });

      it("assigns and unassigns, refusing to reassign to another user or touch a redeemed coupon", async () => {
        const campaignId = await makeCampaign(store);
        const [a, r] = codes(2) as [string, string];
        await makeCoupons(store, campaignId, [a, r]);
        expect((await store.assignCoupon(a.toLowerCase(), "ann")).assignedTo).to.equal("ann");
        expect((await store.assignCoupon(a, "ann")).assignedTo).to.equal("ann");
        await expectStoreError(store.assignCoupon(a, "ben"), "CONFLICT", /another user/);
        expect((await store.unassignCoupon(a)).assignedTo).to.equal(null);
        expect((await store.assignCoupon(a, "ben")).assignedTo).to.equal("ben");
        await store.redeemCoupon({ code: r, userId: "x" });
        await expectStoreError(store.assignCoupon(r, "ann"), "CONFLICT", /redeemed/);
        await expectStoreError(store.unassignCoupon(r), "CONFLICT", /redeemed/);
        await expectStoreError(store.assignCoupon("NO-SUCH", "ann"), "NOT_FOUND");
      });
    });

    describe("views", () => {
      it("vw_ActiveCampaigns lists active campaigns in their window with the redemption percentage", async () => {
        const active = await makeCampaign(store, { maxTotal: 8 });
        const unlimited = await makeCampaign(store);
        const inactive = await makeCampaign(store, { isActive: false });
        const future = await makeCampaign(store, { startDate: new Date(Date.now() + DAY), endDate: new Date(Date.now() + 2 * DAY) });
        const past = await makeCampaign(store, { startDate: new Date(Date.now() - 2 * DAY), endDate: new Date(Date.now() - DAY) });
        const cs = codes(3);
        await makeCoupons(store, active, cs);
        for (const c of cs) expect((await store.redeemCoupon({ code: c, userId: `u-${c}` })).ok).to.equal(true);
        const list = await store.listActiveCampaigns();
        const ids = list.map((c) => c.campaignId);
        expect(ids).to.include.members([active, unlimited]);
        expect(ids).to.not.include.members([inactive]);
        expect(ids).to.not.include(future);
        expect(ids).to.not.include(past);
        const a = list.find((c) => c.campaignId === active);
        expect(a).to.include({ currentRedemptions: 3, redemptionPercentage: 37.5 });
        expect(list.find((c) => c.campaignId === unlimited)).to.include({ currentRedemptions: 0, redemptionPercentage: null });
      });

      it("vw_RedemptionStats counts total, redeemed, available and expired coupons", async () => {
        const campaignId = await makeCampaign(store);
        const fresh = codes(4);
        const old = codes(2);
        await makeCoupons(store, campaignId, fresh);
        await makeCoupons(store, campaignId, old, new Date(Date.now() - 1000));
        await store.redeemCoupon({ code: fresh[0] as string, userId: "a" });
        await store.redeemCoupon({ code: fresh[1] as string, userId: "b" });
        expect(await store.getRedemptionStats(campaignId)).to.deep.equal({
          campaignId,
          totalCoupons: 6,
          redeemedCoupons: 2,
          availableCoupons: 2,
          expiredCoupons: 2,
        });
        const empty = await makeCampaign(store);
        expect(await store.getRedemptionStats(empty)).to.deep.equal({
          campaignId: empty,
          totalCoupons: 0,
          redeemedCoupons: 0,
          availableCoupons: 0,
          expiredCoupons: 0,
        });
      });
    });

    for (let round = 1; round <= REPEAT; round++) {
      const tag = REPEAT > 1 ? ` (round ${round}/${REPEAT})` : "";
      describe(`concurrency${tag}`, () => {
        it("50 simultaneous redemptions of one coupon give exactly one success", async () => {
          const campaignId = await makeCampaign(store);
          const [code] = codes(1) as [string];
          await makeCoupons(store, campaignId, [code]);
          const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.redeemCoupon({ code, userId: `racer-${i}` })));
          expect(results.filter((r) => r.ok)).to.have.length(1);
          expect(results.filter((r) => !r.ok && r.reason === "ALREADY_REDEEMED")).to.have.length(49);
          await expectConsistent(store, campaignId, 1);
        });

        it("simultaneous redemptions by one user never pass the per-user limit", async () => {
          const campaignId = await makeCampaign(store, { maxPerUser: 3 });
          const cs = codes(30);
          await makeCoupons(store, campaignId, cs);
          const results = await Promise.all(cs.map((code) => store.redeemCoupon({ code, userId: "one-user" })));
          expect(results.filter((r) => r.ok)).to.have.length(3);
          expect(results.filter((r) => !r.ok && r.reason === "USER_LIMIT_REACHED")).to.have.length(27);
          await expectConsistent(store, campaignId, 3);
        });

        for (const cap of [10, 37]) {
          it(`a campaign with a total limit of ${cap} is never overrun by 80 simultaneous users`, async () => {
            const campaignId = await makeCampaign(store, { maxTotal: cap });
            const cs = codes(80);
            await makeCoupons(store, campaignId, cs);
            const results = await Promise.all(cs.map((code, i) => store.redeemCoupon({ code, userId: `crowd-${i}` })));
            expect(results.filter((r) => r.ok)).to.have.length(cap);
            expect(results.filter((r) => !r.ok && r.reason === "CAMPAIGN_LIMIT_REACHED")).to.have.length(80 - cap);
            await expectConsistent(store, campaignId, cap);
            const active = (await store.listActiveCampaigns()).find((c) => c.campaignId === campaignId);
            expect(active?.redemptionPercentage).to.equal(100);
          });
        }

        it("mixed per-user and total limits hold together under contention", async () => {
          const campaignId = await makeCampaign(store, { maxPerUser: 2, maxTotal: 25 });
          const cs = codes(60);
          await makeCoupons(store, campaignId, cs);
          const results = await Promise.all(cs.map((code, i) => store.redeemCoupon({ code, userId: `u${i % 10}` })));
          const perUser = new Map<string, number>();
          results.forEach((r, i) => {
            if (r.ok) perUser.set(`u${i % 10}`, (perUser.get(`u${i % 10}`) ?? 0) + 1);
          });
          for (const n of perUser.values()) expect(n).to.be.at.most(2);
          const ok = results.filter((r) => r.ok).length;
          expect(ok).to.equal(20); // 10 users x 2, under the cap of 25
          await expectConsistent(store, campaignId, ok);
        });

        it("logs only refusal codes as reasons, however the simultaneous calls above ended", async () => {
          // Parity: neither dialect writes a history row for an unexpected error (a deadlock victim
          // included), so listRedemptionAttempts and the fraud report see nothing but refusal codes.
          const attempts = await store.listRedemptionAttempts({ limit: 1000 });
          expect(attempts.length).to.be.greaterThan(100);
          const reasons = new Set(attempts.map((a) => a.failureReason).filter((r) => r !== null));
          expect([...reasons].filter((r) => !(REFUSAL_CODES as readonly string[]).includes(r as string))).to.deep.equal([]);
          const report = await store.fraudReport({
            since: new Date(Date.now() - DAY),
            until: new Date(Date.now() + DAY),
            by: "campaign",
            top: 1000,
          });
          const reported = report.flatMap((row) => row.reasons.map((r) => r.reason));
          expect(reported).to.not.be.empty;
          expect(reported.filter((r) => !(REFUSAL_CODES as readonly string[]).includes(r))).to.deep.equal([]);
        });
      });
    }
  });
}

function makeCampaignWithId(store: CouponStore, campaignId: string) {
  return store.createCampaign({
    campaignId,
    name: "dup",
    startDate: new Date(Date.now() - DAY),
    endDate: new Date(Date.now() + DAY),
    discountPercentage: 5,
  });
}

/** What a refusal must not change: the coupon, the campaign's count, the per-user count. */
async function snapshot(store: CouponStore, s: { code: string; userId: string; campaignId: string | null }) {
  const details = await store.getCouponDetails(s.code);
  const campaign = s.campaignId ? await store.getCampaign(s.campaignId) : null;
  const stats = s.campaignId ? await store.getRedemptionStats(s.campaignId) : null;
  const successes = (await store.listRedemptionAttempts({ userId: s.userId, limit: 1000 })).filter((a) => a.success).length;
  return { details, currentRedemptions: campaign?.currentRedemptions ?? null, stats, successes };
}

/** The database agrees with itself: redeemed coupons = successful attempts = the campaign count. */
async function expectConsistent(store: CouponStore, campaignId: string, expected: number) {
  const stats = await store.getRedemptionStats(campaignId);
  const campaign = await store.getCampaign(campaignId);
  expect(stats?.redeemedCoupons).to.equal(expected);
  expect(campaign?.currentRedemptions).to.equal(expected);
  let successes = 0;
  for await (const row of store.streamCoupons({ campaignId })) {
    const attempts = await store.listRedemptionAttempts({ couponCode: row.couponCode, limit: 1000 });
    const ok = attempts.filter((a) => a.success).length;
    expect(ok, `successful attempts for ${row.couponCode}`).to.be.at.most(1);
    successes += ok;
  }
  expect(successes).to.equal(expected);
  if (campaign?.maxTotalRedemptions != null) expect(expected).to.be.at.most(campaign.maxTotalRedemptions);
}
