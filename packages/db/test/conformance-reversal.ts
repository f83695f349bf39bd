// Conformance cases of reversing a redemption and of a user's history (issue 14), run inside
// conformanceSuite on every engine. The 200-call storm reads the tables themselves, so it runs where
// the test can reach them: on PostgreSQL.
import { expect } from "chai";
import pg from "pg";
import type { CouponStore, RedeemResult } from "../src/index.ts";
import { expectStoreError, makeCampaign, makeCoupons } from "./conformance.ts";
import { type EngineUnderTest, POSTGRES_URL } from "./support.ts";
import { withDatabase } from "./urls.ts";

let seq = 0;
const codes = (n: number) => {
  const p = `RV${process.pid}X${++seq}X`;
  return Array.from({ length: n }, (_, i) => `${p}${i}`);
};
const user = (name: string) => `rv-${name}-${process.pid}-${seq}`;

function idOf(r: RedeemResult): string {
  expect(r.redemptionId, JSON.stringify(r)).to.match(/^[1-9][0-9]*$/);
  return r.redemptionId as string;
}

export function reversalCases(getStore: () => CouponStore, underTest: EngineUnderTest, getUrl: () => string): void {
  const engine = underTest.name;
  describe("reversal of a redemption (a ledger)", () => {
    it("gives a redemption back exactly once: coupon redeemable, user and campaign counts down by one; twice is a replay", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxPerUser: 1, maxTotal: 10 });
      const [a, b] = codes(2) as [string, string];
      await makeCoupons(store, id, [a, b]);
      const u = user("once");
      const redeemed = await store.redeemCoupon({ code: a, userId: u, clientId: "shop" });
      expect(redeemed.ok).to.equal(true);
      const redemptionId = idOf(redeemed);
      expect(await store.redeemCoupon({ code: b, userId: u, clientId: "shop" })).to.deep.include({ reason: "USER_LIMIT_REACHED" });
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(1);

      const reversal = await store.reverseRedemption({
        redemptionId,
        clientId: "shop",
        reason: "order 17 cancelled",
        ipAddress: "203.0.113.9",
      });
      expect(reversal).to.deep.include({
        redemptionId,
        couponCode: a,
        campaignId: id,
        userId: u,
        reversedBy: "shop",
        reason: "order 17 cancelled",
        replayed: false,
      });
      expect(reversal.reversalId).to.match(/^[1-9][0-9]*$/);
      expect(Math.abs(reversal.reversedAt.getTime() - Date.now())).to.be.below(60_000);
      expect(await store.getCouponDetails(a)).to.include({ isRedeemed: false, redeemedAt: null, redeemedBy: null, status: "available" });
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(0);
      expect((await store.getRedemptionStats(id))?.redeemedCoupons).to.equal(0);

      // the user's count is back: the per-user limit of 1 lets them redeem the other coupon now
      expect(await store.redeemCoupon({ code: b, userId: u, clientId: "shop" })).to.deep.include({ ok: true });
      const again = await store.reverseRedemption({ redemptionId, clientId: "shop", reason: "another reason" });
      expect(again).to.deep.equal({ ...reversal, replayed: true });
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(1);
      expect(await store.getCouponDetails(b)).to.include({ isRedeemed: true, redeemedBy: u });
      // the original history row is unchanged: still an accepted attempt
      const [first] = (await store.listRedemptionAttempts({ couponCode: a })).filter((x) => x.redemptionId === redemptionId);
      expect(first).to.include({ success: true, userId: u });
    });

    it("gives the refused attempt an id too, and an idempotent replay the same id", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a] = codes(1) as [string];
      await makeCoupons(store, id, [a]);
      const first = await store.redeemCoupon({ code: a, userId: user("k"), idempotencyKey: `k-${a}`, requestHash: "h1" });
      const replay = await store.redeemCoupon({ code: a, userId: user("k"), idempotencyKey: `k-${a}`, requestHash: "h1" });
      expect(replay.replayed).to.equal(true);
      expect(replay.redemptionId).to.equal(idOf(first));
      const refused = await store.redeemCoupon({ code: a, userId: user("other") });
      expect(refused).to.deep.include({ ok: false, reason: "ALREADY_REDEEMED" });
      expect(Number(idOf(refused))).to.be.above(Number(first.redemptionId));
    });

    it("refuses an unknown id, a refused attempt, another client's redemption and a malformed id, changing nothing", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a] = codes(1) as [string];
      await makeCoupons(store, id, [a]);
      const ok = idOf(await store.redeemCoupon({ code: a, userId: user("r"), clientId: "shop" }));
      const refused = idOf(await store.redeemCoupon({ code: a, userId: user("r2"), clientId: "shop" }));
      await expectStoreError(store.reverseRedemption({ redemptionId: "999999999999", clientId: "shop" }), "NOT_FOUND", /does not exist/);
      await expectStoreError(
        store.reverseRedemption({ redemptionId: refused, clientId: "shop" }),
        "CONFLICT",
        /refused attempt \(ALREADY_REDEEMED\)/,
      );
      const other = await expectStoreError(store.reverseRedemption({ redemptionId: ok, clientId: "other-shop" }), "NOT_FOUND");
      expect(other.message).to.match(new RegExp(`redemption ${ok} does not exist \\(or was made by another client\\)`));
      await expectStoreError(
        store.reverseRedemption({ redemptionId: "12a" }),
        "INVALID_INPUT",
        /redemptionId must be the id of a redemption/,
      );
      await expectStoreError(
        store.reverseRedemption({ redemptionId: ok, clientId: "shop", reason: "x".repeat(501) }),
        "INVALID_INPUT",
        /reason must be at most 500 characters/,
      );
      expect(await store.getCouponDetails(a)).to.include({ isRedeemed: true });
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(1);
      // a caller without a client id (the CLI, an operator) may reverse any redemption
      expect(await store.reverseRedemption({ redemptionId: ok })).to.include({ replayed: false, reversedBy: null });
      // and once reversed, another client still cannot see it
      await expectStoreError(store.reverseRedemption({ redemptionId: ok, clientId: "other-shop" }), "NOT_FOUND");
    });

    it("refuses a redemption whose coupon was deleted with its campaign", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a] = codes(1) as [string];
      await makeCoupons(store, id, [a]);
      const ok = idOf(await store.redeemCoupon({ code: a, userId: user("d") }));
      await store.deleteCampaign(id, { force: true });
      await expectStoreError(store.reverseRedemption({ redemptionId: ok }), "CONFLICT", /no longer exists/);
    });

    it("stores a keyed reversal's outcome: the same key replays it, the same key with another request is refused", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a] = codes(1) as [string];
      await makeCoupons(store, id, [a]);
      const ok = idOf(await store.redeemCoupon({ code: a, userId: user("i"), clientId: "shop" }));
      const key = `rev-${a}`;
      const first = await store.reverseRedemption({ redemptionId: ok, clientId: "shop", idempotencyKey: key, requestHash: "h" });
      expect(first.replayed).to.equal(false);
      const replay = await store.reverseRedemption({ redemptionId: ok, clientId: "shop", idempotencyKey: key, requestHash: "h" });
      expect(replay).to.deep.equal({ ...first, replayed: true });
      await expectStoreError(
        store.reverseRedemption({ redemptionId: ok, clientId: "shop", idempotencyKey: key, requestHash: "other" }),
        "IDEMPOTENCY_MISMATCH",
      );
    });

    it("gives exactly one unit back on a sold-out campaign", async () => {
      const store = getStore();
      const id = await makeCampaign(store, { maxTotal: 3 });
      const list = codes(8);
      await makeCoupons(store, id, list);
      const sold = await Promise.all(list.slice(0, 3).map((code, i) => store.redeemCoupon({ code, userId: user(`s${i}`) })));
      expect(sold.every((r) => r.ok)).to.equal(true);
      expect(await store.redeemCoupon({ code: list[3] as string, userId: user("late") })).to.deep.include({
        reason: "CAMPAIGN_LIMIT_REACHED",
      });
      await store.reverseRedemption({ redemptionId: idOf(sold[0] as RedeemResult) });
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(2);
      // the reversed coupon and four others race for the one unit given back
      const race = await Promise.all(
        [list[0], ...list.slice(4)].map((code, i) => store.redeemCoupon({ code: code as string, userId: user(`race${i}`) })),
      );
      expect(race.filter((r) => r.ok).length).to.equal(1);
      expect(race.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "CAMPAIGN_LIMIT_REACHED")).to.equal(true);
      expect((await store.getCampaign(id))?.currentRedemptions).to.equal(3);
      expect((await store.getRedemptionStats(id))?.redeemedCoupons).to.equal(3);
    });

    it("lets exactly one of 30 redemptions racing a reversal of the same coupon take it back, round after round", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const [a] = codes(1) as [string];
      await makeCoupons(store, id, [a]);
      let last = await store.redeemCoupon({ code: a, userId: user("race-first") });
      for (let round = 0; round < 10; round++) {
        const [reversal, ...racing] = await Promise.all([
          store.reverseRedemption({ redemptionId: idOf(last) }),
          ...Array.from({ length: 30 }, (_, i) => store.redeemCoupon({ code: a, userId: user(`race${round}-${i}`) })),
        ]);
        expect(reversal?.replayed).to.equal(false);
        const won = racing.filter((r) => r.ok);
        expect(won.length, `round ${round}`).to.be.at.most(1);
        expect(racing.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "ALREADY_REDEEMED")).to.equal(true);
        // whichever way the race went, the coupon and the count agree
        const details = await store.getCouponDetails(a);
        expect(details?.isRedeemed).to.equal(won.length === 1);
        expect((await store.getCampaign(id))?.currentRedemptions).to.equal(won.length);
        last = won[0] ?? (await store.redeemCoupon({ code: a, userId: user(`race${round}-again`) }));
        expect(last.ok).to.equal(true);
      }
    });

    it("keeps the client on archived history: an archived redemption is reversed only by its client and stays in the user's history", async () => {
      // a store of its own: the archive moves every row before its cutoff
      const own = await underTest.open();
      try {
        const store = own.store;
        const id = await makeCampaign(store);
        const [a] = codes(1) as [string];
        await makeCoupons(store, id, [a]);
        const u = user("archived");
        const redemptionId = idOf(await store.redeemCoupon({ code: a, userId: u, clientId: "shop" }));
        expect((await store.archiveRedemptionHistory({ before: new Date(Date.now() + 86_400_000) })).moved).to.equal(1);
        expect(await store.listRedemptionAttempts({ userId: u })).to.deep.equal([]);
        await expectStoreError(store.reverseRedemption({ redemptionId, clientId: "other-shop" }), "NOT_FOUND");
        expect(await store.reverseRedemption({ redemptionId, clientId: "shop" })).to.include({ replayed: false, couponCode: a });
        const items = await store.listUserRedemptions(u);
        expect(items.map((x) => [x.kind, x.redemptionId, x.reversed])).to.deep.equal([
          ["reversal", redemptionId, true],
          ["redemption", redemptionId, true],
        ]);
        expect((await store.getCampaign(id))?.currentRedemptions).to.equal(0);
      } finally {
        await own.cleanup();
      }
    });

    it("lists a user's redemptions and reversals newest first, paged by cursor, attempts only when asked", async () => {
      const store = getStore();
      const id = await makeCampaign(store);
      const list = codes(4);
      await makeCoupons(store, id, list);
      const u = user("hist");
      const r0 = idOf(await store.redeemCoupon({ code: list[0] as string, userId: u }));
      const r1 = idOf(await store.redeemCoupon({ code: list[1] as string, userId: u }));
      const refused = idOf(await store.redeemCoupon({ code: list[1] as string, userId: u }));
      const rev = await store.reverseRedemption({ redemptionId: r0, reason: "cancelled" });
      const r2 = idOf(await store.redeemCoupon({ code: list[0] as string, userId: u }));
      await store.redeemCoupon({ code: list[2] as string, userId: user("someone-else") });

      const all = await store.listUserRedemptions(u);
      expect(all.map((x) => [x.kind, x.redemptionId])).to.deep.equal([
        ["redemption", r2],
        ["reversal", r0],
        ["redemption", r1],
        ["redemption", r0],
      ]);
      expect(all[1]).to.deep.include({ reversalId: rev.reversalId, reason: "cancelled", couponCode: list[0], campaignId: id });
      expect(all.map((x) => x.reversed)).to.deep.equal([false, true, false, true]);
      for (let i = 1; i < all.length; i++)
        expect((all[i] as { at: Date }).at.getTime()).to.be.at.most((all[i - 1] as { at: Date }).at.getTime());

      const withAttempts = await store.listUserRedemptions(u, { includeAttempts: true });
      expect(withAttempts.map((x) => x.kind)).to.deep.equal(["redemption", "reversal", "attempt", "redemption", "redemption"]);
      expect(withAttempts[2]).to.deep.include({ redemptionId: refused, failureReason: "ALREADY_REDEEMED" });

      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listUserRedemptions(u, { limit: 2, includeAttempts: true, ...(after ? { after } : {}) });
        paged.push(...page.map((x) => x.cursor));
        if (page.length < 2) break;
        after = page.at(-1)?.cursor;
      }
      expect(paged).to.deep.equal(withAttempts.map((x) => x.cursor));
      expect(await store.listUserRedemptions(user("nobody"))).to.deep.equal([]);
      await expectStoreError(store.listUserRedemptions(u, { after: "x1" }), "INVALID_INPUT", /after must be the cursor/);
      await expectStoreError(
        store.listUserRedemptions(user("nobody"), { after: all[0]?.cursor }),
        "INVALID_INPUT",
        /not an item of the history/,
      );
    });

    const storm =
      "keeps redeemed coupons = successes - reversals = slot sums = user counts under 200 racing redemptions and reversals, never passing the cap";
    // the storm reads the tables through a pg client while it runs: PostgreSQL only (the embedded and
    // SQL Server suites keep the exact-once and sold-out cases above)
    if (engine !== "postgres") it.skip(`${storm} [skipped: PostgreSQL only, it reads the tables through a pg client]`);
    else
      it(storm, async () => {
        const store = getStore();
        const cap = 50;
        const id = await makeCampaign(store, { maxTotal: cap });
        const list = codes(80);
        await makeCoupons(store, id, list);
        const admin = new pg.Client({ connectionString: withDatabase(POSTGRES_URL, new URL(getUrl()).pathname.slice(1)) });
        await admin.connect();
        const slotSum = async () =>
          Number(
            (await admin.query("SELECT coalesce(sum(Redemptions), 0) AS n FROM CampaignCounterSlots WHERE CampaignId = $1", [id])).rows[0]
              .n,
          );
        try {
          let done = false;
          let reversals = 0;
          let polls = 0;
          // 140 redemptions (coupons 0-59 asked twice) and 60 reversals of the first 60 once they answer
          const calls = Array.from({ length: 140 }, async (_, i) => {
            const r = await store.redeemCoupon({ code: list[i % 80] as string, userId: user(`storm${i % 20}`), clientId: "shop" });
            if (i < 60 && r.ok) {
              const rev = await store.reverseRedemption({ redemptionId: idOf(r), clientId: "shop" });
              if (!rev.replayed) reversals++;
            }
            return r;
          });
          const storm = Promise.all(calls).finally(() => {
            done = true;
          });
          // the cap holds at every moment the storm is watched, not only at the end
          while (!done) {
            expect(await slotSum()).to.be.at.most(cap);
            polls++;
          }
          const results = await storm;
          const successes = results.filter((r) => r.ok).length;
          const row = (
            await admin.query(
              `SELECT (SELECT count(*) FROM Coupons WHERE CampaignId = $1 AND IsRedeemed)::int AS redeemed,
                    (SELECT coalesce(sum(RedemptionCount), 0) FROM UserRedemptions WHERE CampaignId = $1)::int AS users,
                    (SELECT count(*) FROM RedemptionHistory WHERE CampaignId = $1 AND Success)::int AS successes,
                    (SELECT count(*) FROM RedemptionReversals WHERE CampaignId = $1)::int AS reversals`,
              [id],
            )
          ).rows[0];
          expect(polls).to.be.above(0);
          expect(reversals).to.be.above(0);
          expect({ successes: row.successes, reversals: row.reversals }).to.deep.equal({ successes, reversals });
          expect(row.redeemed).to.equal(successes - reversals);
          expect(await slotSum()).to.equal(successes - reversals);
          expect(row.users).to.equal(successes - reversals);
          expect(successes - reversals).to.be.at.most(cap);
          expect((await store.getCampaign(id))?.currentRedemptions).to.equal(successes - reversals);
        } finally {
          await admin.end();
        }
      });
  });
}
