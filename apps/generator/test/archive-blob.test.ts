// `coupons archive --blob-url` against Azurite (the Azure Storage emulator, started here on a loopback
// port with telemetry off, and killed after the suite, also when it fails) and the embedded store:
// the rows move and the blob holds each exactly once, also when a run dies after writing a batch
// locally (the container's disk is lost) or after uploading it but before moving its rows.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { type CouponStore, openStore } from "@coupons/db";
import { expect } from "chai";
import { Command } from "commander";
import { archiveToBlob } from "../src/archive-blob.ts";
import { registerOpsCommands } from "../src/commands/ops.ts";
import { loadGeneratorConfig } from "../src/config.ts";

const AZURITE = resolve(import.meta.dirname, "../../../node_modules/.bin/azurite-blob");
const ACCOUNT = "devstoreaccount1";
// Azurite's well-known development key (public, in Azurite's documentation)
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const HOUR = 3_600_000;

describe("archive to Azure Blob storage (Azurite on loopback)", function () {
  this.timeout(60_000);
  let azurite: ChildProcess | undefined;
  let dir: string;
  let container: ContainerClient;
  let store: CouponStore;
  let n = 0;
  const credential = new StorageSharedKeyCredential(ACCOUNT, KEY);
  const kill = () => azurite?.exitCode === null && azurite.kill("SIGKILL");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "coupons-azurite-"));
    process.once("exit", kill);
    azurite = spawn(
      AZURITE,
      ["--inMemoryPersistence", "--disableTelemetry", "--blobHost", "127.0.0.1", "--blobPort", "0", "--skipApiVersionCheck"],
      { stdio: ["ignore", "pipe", "pipe"], cwd: dir },
    );
    let seen = "";
    const port = await new Promise<number>((resolvePort, reject) => {
      azurite?.stderr?.on("data", (c: Buffer) => {
        seen += c.toString();
      });
      azurite?.stdout?.on("data", (c: Buffer) => {
        seen += c.toString();
        const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
        if (m) resolvePort(Number(m[1]));
      });
      azurite?.once("exit", (code) => reject(new Error(`azurite exited ${code}: ${seen}`)));
    });
    container = new ContainerClient(`http://127.0.0.1:${port}/${ACCOUNT}/archives`, credential);
    await container.create();
  });
  after(async () => {
    if (azurite && azurite.exitCode === null && azurite.signalCode === null) {
      const gone = once(azurite, "exit");
      kill();
      await gone;
    }
    process.off("exit", kill);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    store = await openStore("embedded:memory");
    await store.createCampaign({
      campaignId: "arc",
      name: "arc",
      startDate: new Date(Date.now() - 24 * HOUR),
      endDate: new Date(Date.now() + 24 * HOUR),
      discountPercentage: 5,
    });
    for (let i = 0; i < 7; i++) await store.redeemCoupon({ code: `NOPE${i}`, userId: `u${i}`, ipAddress: "203.0.113.9" });
  });
  afterEach(() => store?.close());

  const blobUrl = () => `${container.url}/2026/q${++n}.jsonl.gz`;
  const cutoffDate = () => new Date(Date.now() + HOUR);

  /** The ids in the blob, one per line, in order (the file is a sequence of gzip members). */
  async function idsInBlob(url: string): Promise<string[]> {
    const name = url.slice(container.url.length + 1);
    const buf = await container.getBlockBlobClient(name).downloadToBuffer();
    return gunzipSync(buf)
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { redemptionId: string }).redemptionId);
  }
  const historyIds = async () => (await store.listRedemptionAttempts({})).map((r) => r.redemptionId);

  it("When archive --blob-url runs with an account key, then every row moves and the blob holds each exactly once", async () => {
    const ids = await historyIds();
    expect(ids).to.have.length(7);
    const url = blobUrl();
    const lines: string[] = [];
    const program = new Command("coupons").option("--json").exitOverride();
    registerOpsCommands(program, {
      withStore: (fn) => fn(store),
      out: (l) => lines.push(l),
      config: () => loadGeneratorConfig({ COUPONS_ARCHIVE_BLOB_KEY: KEY }),
    });
    const cutoff = cutoffDate().toISOString();
    await program.parseAsync(["node", "coupons", "archive", "--before", cutoff, "--batch-size", "3", "--blob-url", url]);
    expect(lines).to.deep.equal([`Archived 7 history row(s) attempted before ${cutoff} in 3 batch(es); 7 written to ${url}.`]);
    expect([...(await idsInBlob(url))].sort()).to.deep.equal([...ids].sort());
    expect(await historyIds()).to.deep.equal([]);
    const state = JSON.parse(
      (await container.getBlockBlobClient(`${url.slice(container.url.length + 1)}.state.json`).downloadToBuffer()).toString(),
    );
    expect(state.size).to.equal((await container.getBlockBlobClient(url.slice(container.url.length + 1)).getProperties()).contentLength);

    const again = await archiveToBlob(store, { blobUrl: url, credential, before: cutoffDate() });
    expect(again).to.include({ moved: 0, fileRows: 0 });
    expect(await idsInBlob(url)).to.have.length(7);
  });

  it("When a run dies after a batch is written locally, or after it is uploaded but before its rows move, then a re-run still leaves each row in the blob exactly once", async () => {
    const ids = await historyIds();
    const url = blobUrl();
    // dies in its second batch, after the local write and before the upload (its working copy is lost)
    let written = 0;
    const died = await archiveToBlob(store, {
      blobUrl: url,
      credential,
      before: cutoffDate(),
      batchSize: 2,
      onProgress: (e) => {
        if (e.phase === "written" && ++written === 2) throw new Error("killed");
      },
    }).catch((e: Error) => e.message);
    expect(died).to.equal("killed");
    expect(await idsInBlob(url)).to.have.length(2);
    expect(await historyIds()).to.have.length(5); // the first batch uploaded, then moved; the second only local
    // dies right after uploading a batch, before its rows move
    const dying = new Proxy(store, {
      get: (t, p) =>
        p === "archiveRedemptionHistory"
          ? (o: Parameters<CouponStore["archiveRedemptionHistory"]>[0]) =>
              t.archiveRedemptionHistory({
                ...o,
                afterWrite: async () => {
                  await o?.afterWrite?.();
                  throw new Error("killed");
                },
              })
          : Reflect.get(t, p),
    });
    expect(
      await archiveToBlob(dying, { blobUrl: url, credential, before: cutoffDate(), batchSize: 2 }).catch((e: Error) => e.message),
    ).to.equal("killed");
    const done = await archiveToBlob(store, { blobUrl: url, credential, before: cutoffDate(), batchSize: 2 });
    expect(done.stopped).to.equal(false);
    const inBlob = await idsInBlob(url);
    expect(inBlob).to.have.length(7);
    expect([...inBlob].sort()).to.deep.equal([...ids].sort());
    expect(await historyIds()).to.deep.equal([]);
    expect((await store.getScaleStatus({})).archiveRows).to.equal(7);
  });

  it("When the blob exists without the archive's state beside it, or the URL is not https, then it refuses and moves nothing", async () => {
    const url = blobUrl();
    const name = url.slice(container.url.length + 1);
    await container.getBlockBlobClient(name).upload("someone else's data", 19);
    const refused = await archiveToBlob(store, { blobUrl: url, credential, before: cutoffDate() }).catch((e: Error) => e.message);
    expect(refused).to.include("was not written by the archive");
    const plain = await archiveToBlob(store, { blobUrl: "http://example.com/c/x.gz", credential, before: cutoffDate() }).catch(
      (e: Error) => e.message,
    );
    expect(plain).to.include("must use https");
    expect(await historyIds()).to.have.length(7);
  });
});
