// `coupons dispatch` against a loopback fake of Azure Resource Manager (arm-fake.ts, the real
// ContainerInstanceManagementClient) and the embedded store: a new request gets exactly one container
// group, named after it, created once; a finished group is deleted; a permanent exit marks the request
// Failed and deletes the group without a restart; a resumable exit is launched again up to the limit.
// Waits are driven by the dispatcher's own events; nothing but 127.0.0.1 is contacted.
import type { CouponStore } from "@coupons/db";
import { expect } from "chai";
import { fakeCredential } from "../../../scripts/test/loopback-https.ts";
import { embeddedEngine } from "../../../packages/db/test/support.ts";
import { containerGroupName } from "../src/aci.ts";
import { type DispatchEvent, type DispatchOptions, outcomeOf, runDispatcher } from "../src/dispatch.ts";
import { runWorker } from "../src/worker.ts";
import { type ArmFake, armClientOptions, startArmFake } from "./arm-fake.ts";
import { createCampaign } from "./helpers.ts";

const SUB = "00000000-1111-2222-3333-444444444444";
const RG = "coupons-prod";
const IDENTITY = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/coupons-generator`;

type Tags = Record<string, string>;
const tagsOf = (put: { body: string }) => (JSON.parse(put.body) as { tags: Tags }).tags;

describe("coupons dispatch: a container group per request (loopback ARM fake, embedded store)", () => {
  let store: CouponStore;
  let cleanup: () => Promise<void>;
  let arm: ArmFake;
  let n = 0;
  beforeEach(async () => {
    ({ store, cleanup } = await embeddedEngine.open());
    await createCampaign(store);
    arm = await startArmFake();
  });
  afterEach(async () => {
    await arm?.close();
    await cleanup?.();
  });

  const options = (extra: Partial<DispatchOptions> = {}): DispatchOptions => ({
    spec: {
      subscriptionId: SUB,
      resourceGroup: RG,
      location: "westeurope",
      image: "couponsacr.azurecr.io/coupons-generator:1.4.0",
      identityResourceId: IDENTITY,
      env: { COUPONS_DATABASE_URL: "postgres://app:pw@db.internal:5432/coupons" },
      endpoint: arm.url,
    },
    credential: fakeCredential("arm-token").credential,
    clientOptions: armClientOptions(),
    pollIntervalMs: 5,
    ...extra,
  });
  const request = (amount = 10) =>
    store.createGenerationRequest({ requestId: `req-${++n}`, campaignId: "c1", requestedAmount: amount, prefix: `D${n}-`, codeLength: 8 });

  it("When a request is created while the dispatcher runs, then exactly one group is created for it, and deleted once it has finished", async function () {
    this.timeout(30_000);
    const stop = new AbortController();
    const events: DispatchEvent[] = [];
    let onEvent: (e: DispatchEvent) => void = () => {};
    const next = (type: DispatchEvent["type"]) =>
      new Promise<DispatchEvent>((resolve) => {
        onEvent = (e) => e.type === type && resolve(e);
      });
    const idle = next("idle");
    const running = runDispatcher(store, {
      ...options({ pollMs: 50, signal: stop.signal }),
      onEvent: (e) => {
        events.push(e);
        onEvent(e);
      },
    });
    try {
      await idle;
      const launched = next("launched");
      const r = await request();
      const e = (await launched) as Extract<DispatchEvent, { type: "launched" }>;
      const name = containerGroupName(r.requestId);
      expect(e).to.deep.equal({ type: "launched", requestId: r.requestId, group: name, attempt: 1 });
      // the container's work, done here by the worker; then its container exits 0
      await runWorker(store, { once: true });
      expect((await store.getGenerationRequest(r.requestId))?.status).to.equal("Generated");
      const deleted = next("deleted");
      arm.end(name, 0);
      expect(await deleted).to.deep.equal({ type: "deleted", requestId: r.requestId, group: name });
      // another pass after the deletion creates nothing
      await next("idle");
    } finally {
      stop.abort();
      await running;
    }
    const puts = arm.calls("PUT");
    expect(puts.map((p) => new URL(p.path, arm.url).pathname.split("/").pop())).to.deep.equal([containerGroupName("req-1")]);
    expect(tagsOf(puts[0] as { body: string })).to.include({ "coupons-request-id": "req-1", "coupons-attempt": "1" });
    expect(JSON.parse((puts[0] as { body: string }).body).properties.restartPolicy).to.equal("Never");
    expect(arm.calls("DELETE")).to.have.length(1);
    expect(arm.groups.size).to.equal(0);
    expect(events.filter((x) => x.type === "ended")).to.deep.equal([
      { type: "ended", requestId: "req-1", group: containerGroupName("req-1"), exitCode: 0, outcome: "done" },
    ]);
  });

  it("When a group exists already for a waiting request, then no second group is created", async () => {
    const r = await request();
    await runDispatcher(store, options({ once: true }));
    await runDispatcher(store, options({ once: true }));
    expect(arm.calls("PUT", containerGroupName(r.requestId))).to.have.length(1);
    expect(arm.groups.has(containerGroupName(r.requestId))).to.equal(true);
  });

  it("When the container ends with a permanent exit (3 refused), then the request is Failed with it and the group deleted, never restarted", async () => {
    const r = await request();
    await runDispatcher(store, options({ once: true }));
    const name = containerGroupName(r.requestId);
    arm.end(name, 3);
    const report = await runDispatcher(store, options({ once: true }));
    expect(report).to.deep.include({ failed: [r.requestId], deleted: [name], launched: [] });
    const now = await store.getGenerationRequest(r.requestId);
    expect(now?.status).to.equal("Failed");
    expect(now?.failureReason).to.include("exit 3 (refused)").and.include(name);
    expect(arm.calls("PUT", name)).to.have.length(1);
    expect(arm.groups.size).to.equal(0);
  });

  it("When the container ends resumably (6), then it is launched again as the next attempt, and past the limit the request is Failed", async () => {
    const r = await request();
    const name = containerGroupName(r.requestId);
    await runDispatcher(store, options({ once: true, maxLaunches: 2 }));
    arm.end(name, 6);
    const second = await runDispatcher(store, options({ once: true, maxLaunches: 2 }));
    expect(second).to.deep.include({ deleted: [name], launched: [r.requestId], failed: [] });
    const puts = arm.calls("PUT", name);
    expect(puts.map((p) => tagsOf(p)["coupons-attempt"])).to.deep.equal(["1", "2"]);
    expect((await store.getGenerationRequest(r.requestId))?.status).to.equal("Requested");

    arm.end(name, 6);
    const third = await runDispatcher(store, options({ once: true, maxLaunches: 2 }));
    expect(third).to.deep.include({ deleted: [name], launched: [], failed: [r.requestId] });
    expect((await store.getGenerationRequest(r.requestId))?.failureReason)
      .to.include("gave up after 2 container runs")
      .and.include("exit 6");
    expect(arm.groups.size).to.equal(0);
  });

  it("classifies exits: 0 done, 4 held elsewhere, 5/6/killed/no code resumable, 1/2/3 and others permanent", () => {
    expect([0, 4, 5, 6, 137, 143, null, 1, 2, 3, 42].map(outcomeOf)).to.deep.equal([
      "done",
      "held-elsewhere",
      "resumable",
      "resumable",
      "resumable",
      "resumable",
      "resumable",
      "permanent",
      "permanent",
      "permanent",
      "permanent",
    ]);
  });
});
