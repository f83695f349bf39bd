// Races through the real HTTP API on PostgreSQL: many clients at once on one coupon, on one user's
// limit, on a campaign's total limit, with and without idempotency keys (also the same key at once).
// Afterwards the tables, read directly, agree with themselves and with what the clients were told.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import { KEYS, addCoupons, seedCampaign, unique } from "../../apps/redeem-api/test/helpers.ts";
import { describePostgres } from "../../packages/db/test/support.ts";
import { checkInvariants } from "./invariants.ts";
import { type ApiHarness, figures, startApi } from "./support.ts";

type Attempt = { code: string; userId: string; key?: string };
type Outcome = Attempt & { status: number; body: { code?: string; redeemed?: boolean; couponCode?: string }; replayed: boolean };

const codes = (n: number, tag = randomBytes(3).toString("hex").toUpperCase()) =>
  Array.from({ length: n }, (_, i) => `R${tag}X${String(i).padStart(4, "0")}`);

describePostgres("faults: redemption races through HTTP on PostgreSQL", function () {
  this.timeout(90_000);
  let h: ApiHarness;
  const campaigns: string[] = [];

  before(async () => {
    // refusals are the point here: throttling would answer 429 before the store is asked
    h = await startApi(
      { COUPONS_THROTTLE_USER_FAILURES: "1000000", COUPONS_THROTTLE_IP_FAILURES: "1000000", COUPONS_THROTTLE_CLIENT_FAILURES: "100000000" },
      { poolSize: 24 },
    );
  });
  after(async () => {
    await h?.close();
  });

  /** Sends every attempt at once (one socket each) and returns what each client was told. */
  async function storm(attempts: Attempt[]): Promise<Outcome[]> {
    figures.racesRun++;
    const outcomes = await Promise.all(
      attempts.map(async (a) => {
        const headers: Record<string, string> = a.key ? { "idempotency-key": a.key } : {};
        const r = await h.api.post("/v1/redemptions", { code: a.code, userId: a.userId }, KEYS.shop, headers);
        if (r.status >= 500) figures.serverErrors++;
        return { ...a, status: r.status, body: r.body, replayed: r.headers.get("idempotent-replayed") === "true" };
      }),
    );
    for (const o of outcomes) expect(o.status, `${JSON.stringify(o)}`).to.be.oneOf([200, 403, 404, 409, 422]);
    return outcomes;
  }

  /** Fresh successes per coupon as the clients saw them; more than one is a double redemption. */
  function successesByCode(outcomes: Outcome[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const o of outcomes) if (o.status === 200 && !o.replayed) m.set(o.code, (m.get(o.code) ?? 0) + 1);
    return m;
  }

  async function expectConsistent(campaignIds: string[], expected?: Record<string, number>) {
    const report = await checkInvariants(h.db.url, campaignIds);
    figures.doubleRedemptions += report.doubleRedemptions.length;
    figures.limitOverruns += report.overruns.length;
    expect(report.doubleRedemptions, "coupons redeemed twice").to.deep.equal([]);
    expect(report.overruns, "limits passed").to.deep.equal([]);
    expect(report.disagreements, "counts that disagree").to.deep.equal([]);
    if (expected) {
      for (const t of report.tallies) expect(t.redeemedCoupons, `campaign ${t.campaignId}`).to.equal(expected[t.campaignId]);
    }
    return report;
  }

  const campaign = async (n: number, o: { maxPerUser?: number; maxTotal?: number } = {}) => {
    const list = codes(n);
    const id = await seedCampaign(h.store, {
      codes: list,
      maxRedemptionsPerUser: o.maxPerUser ?? null,
      maxTotalRedemptions: o.maxTotal ?? null,
    });
    campaigns.push(id);
    return { id, codes: list };
  };

  it("When 48 clients redeem the same coupon at once (no keys, 4 rounds), then exactly one wins each time and the rest hear ALREADY_REDEEMED", async () => {
    const c = await campaign(4);
    for (const code of c.codes) {
      const out = await storm(Array.from({ length: 48 }, (_, i) => ({ code, userId: `storm-user-${i}` })));
      const wins = out.filter((o) => o.status === 200);
      if (wins.length > 1) figures.doubleRedemptions += wins.length - 1;
      expect(wins, "winners").to.have.length(1);
      for (const o of out.filter((x) => x.status !== 200)) expect(o.body.code).to.equal("ALREADY_REDEEMED");
    }
    await expectConsistent([c.id], { [c.id]: 4 });
  });

  it("When 40 clients redeem the same coupon at once, each with its own idempotency key, then exactly one wins", async () => {
    const c = await campaign(3);
    for (const code of c.codes) {
      const out = await storm(Array.from({ length: 40 }, (_, i) => ({ code, userId: `keyed-${i}`, key: `k-${code}-${i}` })));
      expect(out.filter((o) => o.status === 200)).to.have.length(1);
      expect(out.filter((o) => o.replayed)).to.have.length(0);
    }
    await expectConsistent([c.id], { [c.id]: 3 });
  });

  it("When 32 clients send the same idempotency key and body at once, then all hear the one success, 31 as replays, and the coupon is redeemed once", async () => {
    const c = await campaign(3);
    for (const code of c.codes) {
      const key = `same-${code}`;
      const out = await storm(Array.from({ length: 32 }, () => ({ code, userId: "same-key-user", key })));
      expect(out.map((o) => o.status)).to.deep.equal(Array(32).fill(200));
      expect(
        out.filter((o) => !o.replayed),
        "the original answer",
      ).to.have.length(1);
      expect(
        out.filter((o) => o.replayed),
        "replays",
      ).to.have.length(31);
    }
    const report = await expectConsistent([c.id], { [c.id]: 3 });
    expect(report.tallies[0]?.successRows).to.equal(3);
  });

  it("When one idempotency key is sent at once with different coupons, then one request is carried out and the others hear IDEMPOTENCY_MISMATCH", async () => {
    const c = await campaign(24);
    const key = `shared-${randomBytes(4).toString("hex")}`;
    const out = await storm(c.codes.map((code) => ({ code, userId: "mismatch-user", key })));
    const ok = out.filter((o) => o.status === 200);
    expect(ok, "carried out").to.have.length(1);
    for (const o of out.filter((x) => x.status !== 200)) expect(o.body.code).to.equal("IDEMPOTENCY_MISMATCH");
    await expectConsistent([c.id], { [c.id]: 1 });
  });

  it("When one user redeems 40 coupons at once past a per-user limit of 3, with and without keys, then exactly 3 succeed", async () => {
    for (const keyed of [false, true]) {
      const c = await campaign(40, { maxPerUser: 3 });
      const out = await storm(c.codes.map((code, i) => ({ code, userId: "greedy", key: keyed ? `greedy-${i}-${code}` : undefined })));
      const ok = out.filter((o) => o.status === 200);
      if (ok.length > 3) figures.limitOverruns++;
      expect(ok, keyed ? "with keys" : "without keys").to.have.length(3);
      for (const o of out.filter((x) => x.status !== 200)) expect(o.body.code).to.equal("USER_LIMIT_REACHED");
      await expectConsistent([c.id], { [c.id]: 3 });
    }
  });

  it("When 120 users redeem at once past a campaign total limit of 25, with and without keys, then exactly 25 succeed", async () => {
    for (const keyed of [false, true]) {
      const c = await campaign(120, { maxTotal: 25 });
      const out = await storm(c.codes.map((code, i) => ({ code, userId: `crowd-${i}`, key: keyed ? `crowd-${code}` : undefined })));
      const ok = out.filter((o) => o.status === 200);
      if (ok.length > 25) figures.limitOverruns++;
      expect(ok, keyed ? "with keys" : "without keys").to.have.length(25);
      for (const o of out.filter((x) => x.status !== 200)) expect(o.body.code).to.equal("CAMPAIGN_LIMIT_REACHED");
      await expectConsistent([c.id], { [c.id]: 25 });
    }
  });

  it("When random mixes of users, coupons, limits, duplicates and keys race (property, bounded), then no coupon is doubled and no limit passed", async () => {
    const scenario = fc.record({
      coupons: fc.integer({ min: 5, max: 40 }),
      users: fc.integer({ min: 1, max: 8 }),
      maxPerUser: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      maxTotal: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      // each attempt: which coupon, which user, whether it carries a key and which one (few keys: they collide)
      attempts: fc.array(
        fc.record({ coupon: fc.nat(), user: fc.nat(), key: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) }),
        { minLength: 20, maxLength: 60 },
      ),
    });
    const t0 = Date.now();
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const c = await campaign(s.coupons, { maxPerUser: s.maxPerUser, maxTotal: s.maxTotal });
        const tag = randomBytes(3).toString("hex");
        const attempts: Attempt[] = s.attempts.map((a) => ({
          code: (c.codes[a.coupon % s.coupons] ?? "").toLowerCase(), // codes are case-insensitive
          userId: `u${a.user % s.users}`,
          key: a.key === undefined ? undefined : `${tag}-${a.key}`,
        }));
        const out = await storm(attempts);
        for (const [code, n] of successesByCode(out)) {
          if (n > 1) figures.doubleRedemptions++;
          expect(n, `fresh successes for ${code}`).to.equal(1);
        }
        const report = await expectConsistent([c.id]);
        // what the clients were told agrees with the database
        const fresh = out.filter((o) => o.status === 200 && !o.replayed).length;
        expect(report.tallies[0]?.redeemedCoupons, "successes told = coupons redeemed").to.equal(fresh);
        if (s.maxTotal !== undefined) expect(fresh).to.be.at.most(s.maxTotal);
        // an over-subscribed limit is reached exactly, not undershot
        const distinct = new Set(attempts.filter((a) => a.key === undefined).map((a) => a.code)).size;
        if (s.maxPerUser === undefined && s.maxTotal !== undefined && distinct >= s.maxTotal && attempts.every((a) => !a.key)) {
          expect(fresh).to.equal(s.maxTotal);
        }
      }),
      { numRuns: 12, interruptAfterTimeLimit: 30_000, endOnFailure: true },
    );
    expect(Date.now() - t0).to.be.below(60_000);
  });

  it("When a campaign's coupons were redeemed by many races, then the whole database still agrees with itself", async () => {
    // one more coupon added to a used campaign, redeemed under a storm, then every campaign checked
    const id = campaigns[0];
    if (!id) throw new Error("no campaign from the earlier races");
    const extra = [`${unique("L")}`.replace(/[^A-Z0-9]/g, "")];
    await addCoupons(h.store, id, extra);
    const out = await storm(Array.from({ length: 20 }, (_, i) => ({ code: extra[0] ?? "", userId: `late-${i}` })));
    expect(out.filter((o) => o.status === 200)).to.have.length(1);
    const report = await expectConsistent(campaigns);
    expect(report.tallies).to.have.length(campaigns.length);
  });
});
