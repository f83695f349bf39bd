// The embedded default serves itself: the API process on an embedded data folder generates the
// requests made through it, with nothing else started, and a request cancelled through it stops at
// its next batch. Waits follow the process's own log lines, never a clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ApiClient, startApiProcess, testEnv } from "./helpers.ts";

const DAY = 86_400_000;

/** Resolves when the process has written a log line with this event (and returns it). */
async function logged(output: () => string, event: string, exited: () => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const line = output()
      .split("\n")
      .find((l) => l.includes(`"event":"${event}"`));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    if (exited()) throw new Error(`the API exited before logging ${event}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("redeem API on the embedded engine: requests made through it are generated in its process", function () {
  this.timeout(120_000);
  let dir: string;
  let api: ApiClient;
  let proc: Awaited<ReturnType<typeof startApiProcess>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "coupons-api-worker-"));
    proc = await startApiProcess(
      ["--conditions=source", "--disable-warning=ExperimentalWarning", "apps/redeem-api/src/main.ts"],
      testEnv({ COUPONS_DATABASE_URL: `embedded:${dir}/db`, COUPONS_LOG_LEVEL: "info" }),
    );
    api = await ApiClient.connect(`http://127.0.0.1:${proc.port}`);
    const r = await api.post("/v1/campaigns", {
      campaignId: "EMBEDDED",
      name: "Embedded",
      startDate: new Date(Date.now() - DAY).toISOString(),
      endDate: new Date(Date.now() + 30 * DAY).toISOString(),
      discountPercentage: 5,
    });
    expect(r.status, r.text).to.equal(201);
  });
  // the process lives across these tests; `after` runs even when one times out
  after(async () => {
    if (proc?.child.exitCode === null) proc.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const exited = () => proc.child.exitCode !== null;

  it("When a request is created through the API, then the API's own worker generates exactly its amount", async () => {
    expect(proc.output()).to.include("generation worker running in this process");
    const r = await api.post("/v1/generation-requests", { campaignId: "EMBEDDED", requestedAmount: 3_000, requestId: "emb-1" });
    expect(r.status, r.text).to.equal(201);
    const done = await logged(proc.output, "worker.generated", exited);
    expect(done.requestId).to.equal("emb-1");
    const now = await api.get("/v1/generation-requests/emb-1");
    expect(now.body).to.include({ status: "Generated", generatedAmount: 3_000 });
  });

  it("When a running request is cancelled through the API, then it stops at its next batch and keeps its codes", async () => {
    const r = await api.post("/v1/generation-requests", { campaignId: "EMBEDDED", requestedAmount: 400_000, requestId: "emb-2" });
    expect(r.status, r.text).to.equal(201);
    await logged(
      () =>
        proc
          .output()
          .split("\n")
          .filter((l) => l.includes('"emb-2"'))
          .join("\n"),
      "worker.claimed",
      exited,
    );
    const cancelled = await api.delete("/v1/generation-requests/emb-2");
    expect(cancelled.status, cancelled.text).to.equal(200);
    const reported = await logged(proc.output, "worker.cancelled", exited);
    expect(reported.requestId).to.equal("emb-2");
    const now = await api.get("/v1/generation-requests/emb-2");
    expect(now.body.status).to.equal("Cancelled");
    expect(now.body.generatedAmount).to.be.lessThan(400_000);
    const listed = await api.get("/v1/generation-requests?status=cancelled");
    expect(listed.body.requests.map((x: { requestId: string }) => x.requestId)).to.deep.equal(["emb-2"]);
  });

  it("When the API is stopped with SIGTERM, then its worker drains and the process exits 0", async () => {
    const ended = new Promise<number | null>((resolve) => proc.child.once("exit", (code) => resolve(code)));
    proc.child.kill("SIGTERM");
    expect(await ended).to.equal(0);
  });
});
