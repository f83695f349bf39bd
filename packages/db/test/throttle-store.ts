// The store's part of the redeem API's throttle (issue 12), written once and run on every engine
// like the operations suite (operations.test.ts, mssql.test.ts): the stored outcome of an
// idempotency key, read without the redemption, and the batched record of throttled attempts that
// the fraud report counts.
import { expect } from "chai";
import { type CouponStore, MAX_THROTTLED_ROWS } from "../src/index.ts";
import { expectStoreError, makeCampaign, makeCoupons } from "./conformance.ts";
import type { EngineUnderTest } from "./support.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;

export function throttleStoreSuite(engine: EngineUnderTest): void {
  describe(`CouponStore throttle support: ${engine.name}`, function () {
    this.timeout(120_000);
    let store: CouponStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await engine.open());
    });
    after(async () => {
      await cleanup?.();
    });

    it("reads the stored outcome of a key as its replay, null for an unknown key, and refuses another request hash", async () => {
      const campaignId = await makeCampaign(store);
      await makeCoupons(store, campaignId, ["TS-OK1"]);
      expect(await store.getIdempotentOutcome("svc:k-unknown", "h1")).to.equal(null);
      const first = await store.redeemCoupon({ code: "TS-OK1", userId: "ts-u", idempotencyKey: "svc:k1", requestHash: "h1" });
      expect(first.ok).to.equal(true);
      const stored = await store.getIdempotentOutcome("svc:k1", "h1");
      expect(stored).to.deep.equal({ ...first, replayed: true });
      const refused = await store.redeemCoupon({ code: "TS-NOPE", userId: "ts-u", idempotencyKey: "svc:k2", requestHash: "h2" });
      expect(await store.getIdempotentOutcome("svc:k2", "h2")).to.deep.equal({ ...refused, replayed: true });
      await expectStoreError(store.getIdempotentOutcome("svc:k1", "other"), "IDEMPOTENCY_MISMATCH", /different request/);
      await expectStoreError(store.getIdempotentOutcome("", "h"), "INVALID_INPUT", /idempotencyKey/);
      // reading wrote no attempt: the history has the two redemptions only
      expect(await store.listRedemptionAttempts({ userId: "ts-u" })).to.have.length(2);
    });

    it("adds batches of throttled attempts per subject and minute, and the fraud report counts them", async () => {
      const now = Date.now();
      const minute = new Date(Math.floor(now / MINUTE) * MINUTE + 17_000); // stored truncated to the minute
      const before = new Date(minute.getTime() - MINUTE);
      // one refused attempt that reached the store, by the same user and address
      await store.redeemCoupon({ code: "TS-GUESS", userId: "ts-mallory", ipAddress: "198.51.100.9" });
      expect(
        await store.recordThrottledAttempts([
          { minute, subjectKind: "user", subject: "ts-mallory", attempts: 40 },
          { minute, subjectKind: "user", subject: "ts-mallory", attempts: 2 },
          { minute, subjectKind: "ip", subject: "198.51.100.9", attempts: 42 },
          { minute: before, subjectKind: "ip", subject: "2001:db8:1:2::/64", attempts: 3 },
          { minute, subjectKind: "client", subject: "shop", attempts: 42 },
        ]),
      ).to.equal(4);
      // a second flush of the same minute adds to it
      expect(await store.recordThrottledAttempts([{ minute, subjectKind: "user", subject: "ts-mallory", attempts: 8 }])).to.equal(1);
      expect(await store.recordThrottledAttempts([])).to.equal(0);

      const window = { since: new Date(now - HOUR), until: new Date(now + HOUR) };
      const users = await store.fraudReport({ ...window, by: "user" });
      const mallory = users.find((r) => r.subject === "ts-mallory");
      expect(mallory).to.deep.include({ attempts: 1, refusals: 1, throttled: 50 });
      expect(users[0]?.subject, "ranked by refusals plus throttled").to.equal("ts-mallory");
      const ips = await store.fraudReport({ ...window, by: "ip" });
      expect(ips.find((r) => r.subject === "198.51.100.9")).to.deep.include({ attempts: 1, refusals: 1, throttled: 42 });
      // an address seen only by the throttle is an offender too: no refusals, first/last seen its minute
      const v6 = ips.find((r) => r.subject === "2001:db8:1:2::/64");
      expect(v6).to.deep.include({ attempts: 0, refusals: 0, distinctCodes: 0, throttled: 3, reasons: [] });
      expect(v6?.firstSeen.getTime()).to.equal(Math.floor(before.getTime() / MINUTE) * MINUTE);
      const campaigns = await store.fraudReport({ ...window, by: "campaign" });
      expect(campaigns.every((r) => r.throttled === 0)).to.equal(true);
      // a window that starts after the minute does not count it
      const later = await store.fraudReport({ since: new Date(minute.getTime() + MINUTE), until: window.until, by: "user" });
      expect(later.find((r) => r.subject === "ts-mallory")?.throttled ?? 0).to.equal(0);
    });

    it("refuses malformed rows, naming the row and field", async () => {
      const minute = new Date();
      await expectStoreError(
        store.recordThrottledAttempts([{ minute, subjectKind: "device" as "ip", subject: "x", attempts: 1 }]),
        "INVALID_INPUT",
        /rows\[0\]\.subjectKind/,
      );
      await expectStoreError(
        store.recordThrottledAttempts([{ minute, subjectKind: "ip", subject: "x", attempts: 0 }]),
        "INVALID_INPUT",
        /rows\[0\]\.attempts/,
      );
      await expectStoreError(
        store.recordThrottledAttempts([{ minute, subjectKind: "ip", subject: "", attempts: 1 }]),
        "INVALID_INPUT",
        /rows\[0\]\.subject/,
      );
      const many = Array.from({ length: MAX_THROTTLED_ROWS + 1 }, (_, i) => ({
        minute,
        subjectKind: "user" as const,
        subject: `u${i}`,
        attempts: 1,
      }));
      await expectStoreError(store.recordThrottledAttempts(many), "INVALID_INPUT", /at most 5000/);
    });
  });
}
