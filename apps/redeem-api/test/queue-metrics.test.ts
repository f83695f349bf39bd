// /metrics shows the generation queue, read from the store at each scrape: the number of waiting
// (Requested) generation requests and the age of the oldest, on every reachable engine; a store that
// cannot be read gives NaN for both while the rest of /metrics is still served.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { type EngineUnderTest, describePostgres, embeddedEngine, postgresEngine } from "../../../packages/db/test/support.ts";
import { type RunningServer, startServer, stopServer } from "../src/server.ts";
import { ApiClient, KEYS, seedCampaign, testConfig } from "./helpers.ts";

/** The value of an unlabelled sample in Prometheus' text format. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} is not in /metrics:\n${text}`);
  return Number(line.slice(name.length + 1));
}

function scenarios(engine: EngineUnderTest) {
  let store: CouponStore;
  let cleanup: () => Promise<void>;
  let running: RunningServer;
  let api: ApiClient;
  before(async () => {
    ({ store, cleanup } = await engine.open());
    running = await startServer({ store, config: testConfig() });
    api = await ApiClient.connect(running.url);
  });
  after(async () => {
    if (running) await stopServer(running, { closeStore: false });
    if (cleanup) await cleanup();
  });

  /** Scrapes /metrics; the oldest age is checked against the creation time, bounded by the scrape's start and end. */
  async function scrape(oldest: Date | null) {
    const t0 = Date.now();
    const r = await api.get("/metrics", KEYS.reader);
    const t1 = Date.now();
    expect(r.status).to.equal(200);
    const age = sample(r.text, "coupons_generation_oldest_waiting_seconds");
    if (oldest === null) expect(age).to.equal(0);
    else expect(age).to.be.within((t0 - oldest.getTime()) / 1000, (t1 - oldest.getTime()) / 1000);
    return sample(r.text, "coupons_generation_requests_waiting");
  }

  it("When requests wait, one is claimed and one cancelled, then /metrics counts the waiting ones and gives the oldest one's age", async () => {
    expect(await scrape(null), "nothing waits").to.equal(0);
    const campaignId = await seedCampaign(store, { codes: [] });
    const create = async () => {
      const r = await api.post("/v1/generation-requests", { campaignId, requestedAmount: 10 }, KEYS.admin);
      expect(r.status, r.text).to.equal(201);
      return (await store.getGenerationRequest(r.body.requestId)) as NonNullable<Awaited<ReturnType<CouponStore["getGenerationRequest"]>>>;
    };
    const first = await create();
    const second = await create();
    const third = await create();
    expect(await scrape(first.createdAt)).to.equal(3);
    const claim = await store.claimGenerationRequest(second.requestId, "metrics-test"); // Generating: no longer waiting
    try {
      expect(await scrape(first.createdAt)).to.equal(2);
      expect((await api.delete(`/v1/generation-requests/${first.requestId}`, KEYS.admin)).status).to.equal(200);
      expect(await scrape(third.createdAt), "the oldest waiting is now the third").to.equal(1);
    } finally {
      await claim.release();
    }
  });
}

describe("/metrics: the generation queue (embedded)", () => scenarios(embeddedEngine));
describePostgres("/metrics: the generation queue (postgres)", () => scenarios(postgresEngine));

describe("/metrics when the store cannot be read", () => {
  it("When the store fails, then both queue gauges are NaN and the other metrics are still served", async () => {
    const { store, cleanup } = await embeddedEngine.open();
    const running = await startServer({ store, config: testConfig() });
    try {
      const api = await ApiClient.connect(running.url);
      await cleanup(); // a closed store: every read fails
      const r = await api.get("/metrics", KEYS.reader);
      expect(r.status).to.equal(200);
      expect(sample(r.text, "coupons_generation_requests_waiting")).to.be.NaN;
      expect(sample(r.text, "coupons_generation_oldest_waiting_seconds")).to.be.NaN;
      expect(r.text).to.contain("process_cpu_user_seconds_total");
    } finally {
      await stopServer(running, { closeStore: false });
    }
  });
});
