// The operations part of the contract (archive, fraud report, scale status, read routing), written
// once and run on every engine like the conformance suite (operations.test.ts). The kill test of the
// archive and the replica proof need a server and live in archive-kill.test.ts and replica.test.ts.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { expect } from "chai";
import { type CouponStore, type RouteEvent, lastClosedQuarterEnd } from "../src/index.ts";
import { expectStoreError, makeCampaign, makeCoupons } from "./conformance.ts";
import type { EngineUnderTest } from "./support.ts";

const HOUR = 3_600_000;

/** The rows of an archive file (gzip members of JSON lines). */
export function readArchiveFile(file: string): { redemptionId: string; couponCode: string; attemptedAt: string }[] {
  if (!existsSync(file)) return [];
  return gunzipSync(readFileSync(file))
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

/** n refused attempts (unknown codes) by one user; returns their codes. */
async function refusals(store: CouponStore, n: number, user: string, prefix: string): Promise<string[]> {
  const codes = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (const code of codes) await store.redeemCoupon({ code, userId: user, ipAddress: "192.0.2.1" });
  return codes;
}

export function operationsSuite(engine: EngineUnderTest): void {
  describe(`CouponStore operations: ${engine.name}`, function () {
    this.timeout(120_000);

    it("puts the end of the last closed quarter at the start of the current one, in UTC", () => {
      expect(lastClosedQuarterEnd(new Date("2026-05-10T12:00:00Z")).toISOString()).to.equal("2026-04-01T00:00:00.000Z");
      expect(lastClosedQuarterEnd(new Date("2026-01-01T00:00:00Z")).toISOString()).to.equal("2026-01-01T00:00:00.000Z");
      expect(lastClosedQuarterEnd(new Date("2026-12-31T23:59:59Z")).toISOString()).to.equal("2026-10-01T00:00:00.000Z");
    });

    describe("archive of RedemptionHistory", () => {
      let store: CouponStore;
      let cleanup: () => Promise<void>;
      let dir: string;
      const routes: RouteEvent[] = [];
      before(async () => {
        ({ store, cleanup } = await engine.open({ onRoute: (e) => routes.push(e) }));
        dir = mkdtempSync(join(tmpdir(), "coupons-archive-"));
      });
      after(async () => {
        await cleanup?.();
        rmSync(dir, { recursive: true, force: true });
      });
      const live = async () => (await store.listRedemptionAttempts({ userId: "arch", limit: 1000 })).map((a) => a.redemptionId);

      it("moves nothing attempted after the cutoff, and by default keeps the current quarter", async () => {
        await refusals(store, 5, "arch", "NOPE-A");
        expect((await store.archiveRedemptionHistory({ before: new Date(Date.now() - HOUR) })).moved).to.equal(0);
        const byDefault = await store.archiveRedemptionHistory();
        expect(byDefault.before.toISOString()).to.equal(lastClosedQuarterEnd().toISOString());
        expect(byDefault.moved).to.equal(0);
        expect(await live()).to.have.length(5);
      });

      it("moves every row before the cutoff in batches, and a re-run moves nothing", async () => {
        const before = await live();
        const status0 = await store.getScaleStatus({ archiveBefore: new Date(Date.now() + HOUR) });
        expect(status0.historyRowsToArchive).to.equal(before.length);
        const r = await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), batchSize: 2 });
        expect(r).to.include({ moved: 5, batches: 3, file: null, fileRows: 0, recovered: 0, stopped: false });
        expect(await live()).to.deep.equal([]);
        const status = await store.getScaleStatus({ archiveBefore: new Date(Date.now() + HOUR) });
        expect(status).to.include({ historyRows: 0, archiveRows: 5, historyRowsToArchive: 0, archiveAdvised: false });
        expect((await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR) })).moved).to.equal(0);
      });

      it("writes each moved row to the gzip JSON-lines file exactly once", async () => {
        const codes = await refusals(store, 7, "arch", "NOPE-B");
        const file = join(dir, "q.jsonl.gz");
        const r = await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), batchSize: 3, file });
        expect(r).to.include({ moved: 7, fileRows: 7, batches: 3 });
        const rows = readArchiveFile(file);
        expect(rows.map((x) => x.couponCode).sort()).to.deep.equal([...codes].sort());
        expect(rows[0]).to.have.keys([
          "redemptionId",
          "couponCode",
          "userId",
          "campaignId",
          "attemptedAt",
          "success",
          "failureReason",
          "ipAddress",
          "userAgent",
        ]);
        // a re-run with the same file adds nothing
        await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), file });
        expect(readArchiveFile(file)).to.have.length(7);
        expect(existsSync(`${file}.lock`), "the lock is released").to.equal(false);
      });

      it("after a crash between writing the file and deleting, a re-run moves those rows without writing them twice", async () => {
        const codes = await refusals(store, 4, "arch", "NOPE-C");
        const file = join(dir, "crash.jsonl.gz");
        const crash = store.archiveRedemptionHistory({
          before: new Date(Date.now() + HOUR),
          batchSize: 10,
          file,
          onProgress: (e) => {
            if (e.phase === "written") throw new Error("killed after the file write");
          },
        });
        await crash.then(
          () => expect.fail("the archive should have stopped"),
          (err: Error) => expect(err.message).to.match(/killed after/),
        );
        expect(await live(), "the rows are still in the history").to.have.length(4);
        expect(readArchiveFile(file), "and in the file").to.have.length(4);
        const r = await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), file });
        expect(r).to.include({ recovered: 4, moved: 4, fileRows: 0 });
        expect(await live()).to.deep.equal([]);
        expect(
          readArchiveFile(file)
            .map((x) => x.couponCode)
            .sort(),
        ).to.deep.equal([...codes].sort());
      });

      it("cuts a torn batch off the end of the file before writing again", async () => {
        const file = join(dir, "torn.jsonl.gz");
        await refusals(store, 2, "arch", "NOPE-D");
        await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), file });
        appendFileSync(file, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02])); // half a gzip member
        await refusals(store, 3, "arch", "NOPE-E");
        const r = await store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), file });
        expect(r).to.include({ moved: 3, fileRows: 3 });
        expect(readArchiveFile(file)).to.have.length(5);
      });

      it("refuses a file it did not write, and bad options, changing nothing", async () => {
        const foreign = join(dir, "foreign.gz");
        writeFileSync(foreign, "not ours");
        await refusals(store, 1, "arch", "NOPE-F");
        await expectStoreError(
          store.archiveRedemptionHistory({ before: new Date(Date.now() + HOUR), file: foreign }),
          "CONFLICT",
          /not written by the archive/,
        );
        expect(readFileSync(foreign, "utf8")).to.equal("not ours");
        await expectStoreError(store.archiveRedemptionHistory({ batchSize: 0 }), "INVALID_INPUT", /batchSize/);
        await expectStoreError(store.archiveRedemptionHistory({ before: new Date(Number.NaN) }), "INVALID_INPUT", /before/);
        expect(await live()).to.have.length(1);
      });

      it("stops between batches when its signal is aborted", async () => {
        const stop = new AbortController();
        await refusals(store, 3, "arch", "NOPE-G");
        const r = await store.archiveRedemptionHistory({
          before: new Date(Date.now() + HOUR),
          batchSize: 1,
          signal: stop.signal,
          onProgress: () => stop.abort(),
        });
        expect(r).to.include({ stopped: true, moved: 1 });
      });

      it("sends analytics reads to the primary when no replica is configured, and says so", () => {
        expect(store.readRoute).to.equal("primary");
        expect(routes.length).to.be.greaterThan(0);
        expect(routes.every((e) => e.route === "primary")).to.equal(true);
        expect(new Set(routes.map((e) => e.method))).to.include.members(["listRedemptionAttempts", "getScaleStatus"]);
      });
    });

    describe("fraud report", () => {
      let store: CouponStore;
      let cleanup: () => Promise<void>;
      let campaignId: string;
      const window = () => ({ since: new Date(Date.now() - HOUR), until: new Date(Date.now() + HOUR) });
      before(async () => {
        ({ store, cleanup } = await engine.open());
        campaignId = await makeCampaign(store, { maxPerUser: 1 });
        await makeCoupons(store, campaignId, ["FR-A1", "FR-A2", "FR-A3"]);
        // mallory, from 10.0.0.66: five unknown codes, one redemption, then the same coupon again
        for (let i = 1; i <= 5; i++) await store.redeemCoupon({ code: `FR-X${i}`, userId: "mallory", ipAddress: "10.0.0.66" });
        expect((await store.redeemCoupon({ code: "FR-A1", userId: "mallory", ipAddress: "10.0.0.66" })).ok).to.equal(true);
        await store.redeemCoupon({ code: "FR-A1", userId: "mallory", ipAddress: "10.0.0.66" });
        // bob, from 10.0.0.7: one redemption, then a second one past his limit of one
        expect((await store.redeemCoupon({ code: "FR-A2", userId: "bob", ipAddress: "10.0.0.7" })).ok).to.equal(true);
        await store.redeemCoupon({ code: "FR-A3", userId: "bob", ipAddress: "10.0.0.7" });
        // carol, no ip: one unknown code
        await store.redeemCoupon({ code: "FR-Y1", userId: "carol" });
      });
      after(async () => {
        await cleanup?.();
      });

      it("ranks ips by refusals with attempts, distinct codes, reasons and first/last seen", async () => {
        const rows = await store.fraudReport({ ...window(), by: "ip" });
        expect(rows.map((r) => r.subject)).to.deep.equal(["10.0.0.66", "10.0.0.7"]);
        const [m, b] = rows;
        expect(m).to.deep.include({ attempts: 7, refusals: 6, distinctCodes: 6 });
        expect(m?.reasons).to.deep.equal([
          { reason: "COUPON_NOT_FOUND", count: 5 },
          { reason: "ALREADY_REDEEMED", count: 1 },
        ]);
        expect(m?.firstSeen.getTime()).to.be.at.most(m?.lastSeen.getTime() ?? 0);
        expect(m?.firstSeen.getTime()).to.be.within(Date.now() - HOUR, Date.now());
        expect(b).to.deep.include({ attempts: 2, refusals: 1, distinctCodes: 1, reasons: [{ reason: "USER_LIMIT_REACHED", count: 1 }] });
      });

      it("ranks users (ties by name) and campaigns, and keeps to the top N", async () => {
        const users = await store.fraudReport({ ...window(), by: "user" });
        expect(users.map((r) => [r.subject, r.attempts, r.refusals])).to.deep.equal([
          ["mallory", 7, 6],
          ["bob", 2, 1],
          ["carol", 1, 1],
        ]);
        const campaigns = await store.fraudReport({ ...window(), by: "campaign" });
        expect(campaigns).to.have.length(1);
        expect(campaigns[0]).to.deep.include({ subject: campaignId, attempts: 4, refusals: 2, distinctCodes: 2 });
        expect((await store.fraudReport({ ...window(), by: "user", top: 1 })).map((r) => r.subject)).to.deep.equal(["mallory"]);
      });

      it("sees nothing outside its window, and refuses a bad one", async () => {
        const later = new Date(Date.now() + HOUR);
        expect(await store.fraudReport({ since: later, until: new Date(later.getTime() + HOUR), by: "ip" })).to.deep.equal([]);
        await expectStoreError(store.fraudReport({ since: later, until: later, by: "ip" }), "INVALID_INPUT", /until/);
        await expectStoreError(store.fraudReport({ ...window(), by: "device" as "ip" }), "INVALID_INPUT", /by must be/);
        await expectStoreError(store.fraudReport({ ...window(), by: "ip", top: 0 }), "INVALID_INPUT", /top/);
      });

      it("reports the row counts an operator partitions and archives by", async () => {
        const s = await store.getScaleStatus();
        expect(s).to.include({ couponsTotal: 3, campaigns: 1, historyRows: 10, archiveRows: 0, partitionAdvised: false });
        expect(s.largestCampaign).to.deep.equal({ campaignId, coupons: 3 });
        expect(s.oldestHistoryAt?.getTime()).to.be.within(Date.now() - HOUR, Date.now());
      });
    });
  });
}
