// The prefix -> campaign index (src/prefix-index.ts) and the lanes of admission (src/admission.ts):
// longest prefix wins, prefixes shared by campaigns share a lane, codes without a known prefix share
// the unknown lane, a miss refreshes at most once per missRefreshMs (the clock here is the test's),
// and a lane at its bound queues its own calls only. Not timed; driven by the program's events.
import { once } from "node:events";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { Admission } from "../src/admission.ts";
import { HttpProblem } from "../src/problems.ts";
import { type PrefixEntry, PrefixIndex, UNKNOWN_LANE, prefixesOf } from "../src/prefix-index.ts";
import { testConfig } from "./helpers.ts";

function indexOf(entries: PrefixEntry[], opts: { missRefreshMs?: number; now?: () => number } = {}) {
  const calls = { loads: 0 };
  let current = entries;
  const index = new PrefixIndex({
    load: async () => {
      calls.loads++;
      return current;
    },
    refreshMs: 0,
    missRefreshMs: opts.missRefreshMs ?? 1000,
    now: opts.now,
  });
  return { index, calls, set: (e: PrefixEntry[]) => (current = e) };
}

describe("admission: the prefix -> campaign index", () => {
  it("answers the campaign of the longest prefix a code starts with, in any case, and the unknown lane for the rest", async () => {
    const { index } = indexOf([
      { prefix: "SPRING-", campaignId: "SPRING" },
      { prefix: "SPRING-VIP-", campaignId: "VIP" },
      { prefix: "X", campaignId: "XS" },
    ]);
    await index.refresh();
    expect(index.laneOf("SPRING-VIP-7KQ2")).to.equal("campaign:VIP");
    expect(index.laneOf("spring-vip-7kq2")).to.equal("campaign:VIP");
    expect(index.laneOf("SPRING-7KQ2")).to.equal("campaign:SPRING");
    expect(index.laneOf("SPRING-VI")).to.equal("campaign:SPRING");
    expect(index.laneOf("XMAS-1")).to.equal("campaign:XS");
    expect(index.laneOf("AUTUMN-1")).to.equal(UNKNOWN_LANE);
    expect(index.laneOf("SPRING")).to.equal(UNKNOWN_LANE);
  });

  it("puts codes of requests with an empty prefix in the unknown lane, and campaigns sharing a prefix in one lane", async () => {
    const { index } = indexOf([
      { prefix: "", campaignId: "PLAIN" },
      { prefix: "SALE", campaignId: "B" },
      { prefix: "SALE", campaignId: "A" },
    ]);
    await index.refresh();
    expect(index.size).to.equal(1);
    expect(index.laneOf("7KQ2MX9A")).to.equal(UNKNOWN_LANE);
    expect(index.laneOf("SALE7KQ2")).to.equal("campaign:A,B");
  });

  it("refreshes on a miss at most once per missRefreshMs, and a refresh makes a new prefix known", async () => {
    let clock = 0;
    const { index, calls, set } = indexOf([{ prefix: "OLD-", campaignId: "OLD" }], { missRefreshMs: 1000, now: () => clock });
    await index.refresh();
    expect(calls.loads).to.equal(1);
    clock = 999;
    expect(index.laneOf("NEW-1")).to.equal(UNKNOWN_LANE); // too soon after the last load: no refresh
    expect(calls.loads).to.equal(1);
    set([
      { prefix: "OLD-", campaignId: "OLD" },
      { prefix: "NEW-", campaignId: "NEW" },
    ]);
    clock = 1000;
    const refreshed = once(index, "refreshed");
    expect(index.laneOf("NEW-1")).to.equal(UNKNOWN_LANE); // this one misses, and starts a refresh
    expect(index.laneOf("NEW-2")).to.equal(UNKNOWN_LANE); // joins it: no second load
    await refreshed;
    expect(calls.loads).to.equal(2);
    expect(index.laneOf("NEW-3")).to.equal("campaign:NEW");
    expect(index.laneOf("OLD-3")).to.equal("campaign:OLD");
    expect(calls.loads).to.equal(2); // hits never load
  });

  it("keeps the last good index when a refresh fails", async () => {
    let fail = false;
    const errors: unknown[] = [];
    const index = new PrefixIndex({
      load: async () => {
        if (fail) throw new Error("database away");
        return [{ prefix: "A-", campaignId: "A" }];
      },
      refreshMs: 0,
      missRefreshMs: 0,
      onError: (err) => errors.push(err),
    });
    await index.refresh();
    fail = true;
    await index.refresh().catch(() => {});
    expect(errors).to.have.length(1);
    expect(index.laneOf("A-1")).to.equal("campaign:A");
  });

  it("refreshes in the background every refreshMs once started, until stopped", async () => {
    let loads = 0;
    const index = new PrefixIndex({
      load: async () => [{ prefix: `P${++loads}-`, campaignId: "C" }],
      refreshMs: 5,
      missRefreshMs: 60_000,
    });
    index.start();
    try {
      // the first load at start, then two by the timer
      for (let seen = 0; seen < 3; seen++) await once(index, "refreshed");
    } finally {
      index.stop();
    }
    expect(loads).to.be.at.least(3);
    expect(index.laneOf(`P${loads}-X`)).to.equal("campaign:C");
  });

  describe("read from a real store", () => {
    let store: CouponStore;
    before(async () => {
      store = await openStore("embedded:memory");
    });
    after(async () => {
      await store?.close();
    });

    it("lists every generation request's prefix and campaign", async () => {
      for (const [campaignId, prefix] of [
        ["IDX-A", "IDXA-"],
        ["IDX-B", "IDXB-"],
        ["IDX-B", ""],
      ] as const) {
        if (!(await store.getCampaign(campaignId))) {
          await store.createCampaign({
            campaignId,
            name: campaignId,
            startDate: new Date(Date.now() - 86_400_000),
            endDate: new Date(Date.now() + 86_400_000),
            discountPercentage: 10,
          });
        }
        await store.createGenerationRequest({ campaignId, requestedAmount: 10, prefix });
      }
      const entries = await prefixesOf(store);
      expect(entries.map((e) => `${e.campaignId}:${e.prefix}`).sort()).to.deep.equal(["IDX-A:IDXA-", "IDX-B:", "IDX-B:IDXB-"]);
    });
  });
});

describe("admission: lanes", () => {
  it("queues a campaign's calls beyond its bound while another campaign's and the unknown lane's calls run at once, and refuses past the queue with UNAVAILABLE", async () => {
    const config = testConfig({ COUPONS_ADMISSION_PER_CAMPAIGN: "2", COUPONS_ADMISSION_UNKNOWN: "1", COUPONS_ADMISSION_QUEUE: "1" });
    const index = new PrefixIndex({
      load: async () => [
        { prefix: "A-", campaignId: "A" },
        { prefix: "B-", campaignId: "B" },
      ],
      refreshMs: 0,
      missRefreshMs: 60_000,
    });
    await index.refresh();
    const admission = new Admission(config.admission, index);
    const gates: (() => void)[] = [];
    const held = () =>
      new Promise<string>((resolve) => {
        gates.push(() => resolve("done"));
      });
    const a = [admission.run("A-1", held), admission.run("A-2", held)];
    const queued = once(admission, "queued");
    const a3 = admission.run("A-3", async () => "a3");
    expect(await queued).to.deep.equal(["campaign:A"]);
    expect(admission.load("campaign:A")).to.deep.equal({ running: 2, waiting: 1 });
    const overflow = await admission.run("A-4", async () => "ran").catch((e: unknown) => e);
    expect(overflow).to.be.instanceOf(HttpProblem);
    expect((overflow as HttpProblem).problem).to.include({ status: 503, code: "UNAVAILABLE" });
    expect((overflow as HttpProblem).headers).to.deep.equal({ "Retry-After": "1" });
    // B and an unknown code run while A is full
    expect(await admission.run("B-1", async () => "b")).to.equal("b");
    expect(await admission.run("ZZZ", async () => "z")).to.equal("z");
    for (const open of gates) open();
    expect(await Promise.all([...a, a3])).to.deep.equal(["done", "done", "a3"]);
    expect(admission.load("campaign:A")).to.deep.equal({ running: 0, waiting: 0 });
  });

  it("runs every call at once with COUPONS_ADMISSION_PER_CAMPAIGN=0 (off)", async () => {
    const index = new PrefixIndex({ load: async () => [{ prefix: "A-", campaignId: "A" }], refreshMs: 0, missRefreshMs: 60_000 });
    await index.refresh();
    const admission = new Admission(testConfig({ COUPONS_ADMISSION_PER_CAMPAIGN: "0" }).admission, index);
    let started = 0;
    const gates: (() => void)[] = [];
    const calls = Array.from({ length: 5 }, (_, i) =>
      admission.run(`A-${i}`, () => {
        started++;
        return new Promise<void>((resolve) => gates.push(resolve));
      }),
    );
    expect(started).to.equal(5);
    for (const open of gates) open();
    await Promise.all(calls);
  });

  it("defaults to max(2, pool/4) calls per campaign and max(2, pool/2) unknown, pool 10 when not set", () => {
    expect(testConfig({ COUPONS_DB_POOL_SIZE: "16" }).admission).to.include({ perCampaign: 4, unknownLane: 8 });
    expect(testConfig({ COUPONS_DB_POOL_SIZE: "4" }).admission).to.include({ perCampaign: 2, unknownLane: 2 });
    expect(testConfig().admission).to.include({ perCampaign: 2, unknownLane: 5 });
    expect(() => testConfig({ COUPONS_ADMISSION_QUEUE: "-1" })).to.throw(/COUPONS_ADMISSION_QUEUE/);
  });
});
