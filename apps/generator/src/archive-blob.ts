// The archive file in Azure Blob storage (`coupons archive --blob-url`), keeping the local file's
// guarantee (every moved row in the file exactly once, even after a kill and a re-run) when the
// container's disk is gone after a kill. The store's archive protocol (packages/db/src/archive.ts:
// write a batch to the file, record the file's length and the batch's ids as pending, then move
// exactly those ids) runs on a local working copy; after each batch is durably in the local file and
// before its rows are moved (the archive's afterWrite step), the new bytes are committed to the blob
// as one block and the state uploaded as `<blob>.state.json`. So a row is moved only after its
// batch is in Blob storage together with a state that names it. A re-run downloads the blob
// and its state and goes on exactly as a local re-run does: blocks past the recorded length (a kill
// between commit and state) are dropped. One archive per blob: a 60 s lease on the state blob,
// renewed while the run lasts (a killed run's lease runs out within a minute).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenCredential } from "@azure/identity";
import { type BlobLeaseClient, BlockBlobClient, type StoragePipelineOptions, StorageSharedKeyCredential } from "@azure/storage-blob";
import { type ArchiveProgress, type ArchiveResult, type CouponStore, StoreError } from "@coupons/db";

export type BlobArchiveOptions = {
  /** https://<account>.blob.core.windows.net/<container>/<path> (the container must exist). */
  blobUrl: string;
  /** An account key (Azurite, or a key from Key Vault) or a token credential (managed identity). */
  credential: StorageSharedKeyCredential | TokenCredential;
  before: Date;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (e: ArchiveProgress) => void;
  pipelineOptions?: StoragePipelineOptions;
};

type FileState = { version: 1; size: number; pending: string[] };

const LEASE_SECONDS = 60;
const blockId = (offset: number) => Buffer.from(`coupons-${String(offset).padStart(16, "0")}`).toString("base64");

/** The credential for a blob URL: its account's key when given, else the token credential. */
export function blobCredential(blobUrl: string, accountKey: string | undefined, tokens: () => TokenCredential) {
  if (!accountKey) return tokens();
  const account = new BlockBlobClient(blobUrl).accountName;
  if (!account) throw new StoreError("INVALID_INPUT", `cannot tell the storage account of ${blobUrl}`);
  return new StorageSharedKeyCredential(account, accountKey);
}

function checkUrl(blobUrl: string): void {
  let u: URL;
  try {
    u = new URL(blobUrl);
  } catch {
    throw new StoreError(
      "INVALID_INPUT",
      `--blob-url must be a URL like https://<account>.blob.core.windows.net/<container>/<file> (got "${blobUrl}")`,
    );
  }
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(loopback && u.protocol === "http:"))
    throw new StoreError("INVALID_INPUT", `--blob-url must use https (plain http only for a local emulator): ${blobUrl}`);
  const b = new BlockBlobClient(blobUrl);
  if (!b.containerName || !b.name) throw new StoreError("INVALID_INPUT", `--blob-url names no container and file: ${blobUrl}`);
}

export async function archiveToBlob(store: CouponStore, o: BlobArchiveOptions): Promise<ArchiveResult> {
  checkUrl(o.blobUrl);
  const data = new BlockBlobClient(o.blobUrl, o.credential as StorageSharedKeyCredential, o.pipelineOptions);
  const stateUrl = new URL(o.blobUrl);
  stateUrl.pathname += ".state.json";
  const stateBlob = new BlockBlobClient(stateUrl.href, o.credential as StorageSharedKeyCredential, o.pipelineOptions);
  const dir = mkdtempSync(join(tmpdir(), "coupons-archive-"));
  const local = join(dir, "archive.jsonl.gz");
  const result: ArchiveResult = { before: o.before, moved: 0, batches: 0, file: o.blobUrl, fileRows: 0, recovered: 0, stopped: false };
  let lease: BlobLeaseClient | undefined;
  let renew: NodeJS.Timeout | undefined;
  try {
    // a state before any data: a blob without a state beside it is not ours
    let state: FileState | null = (await stateBlob.exists()) ? JSON.parse((await stateBlob.downloadToBuffer()).toString("utf8")) : null;
    if (!state) {
      if ((await data.exists()) && ((await data.getProperties()).contentLength ?? 0) > 0)
        throw new StoreError(
          "CONFLICT",
          `${o.blobUrl} exists but was not written by the archive (no .state.json beside it); choose a new name`,
        );
      state = { version: 1, size: 0, pending: [] };
      await stateBlob.upload(JSON.stringify(state), Buffer.byteLength(JSON.stringify(state)));
    }
    lease = stateBlob.getBlobLeaseClient();
    try {
      await lease.acquireLease(LEASE_SECONDS);
    } catch (err) {
      throw new StoreError(
        "CONFLICT",
        `another archive is writing ${o.blobUrl} (its state blob is leased); wait for it to finish or for its lease to run out`,
        { cause: err },
      );
    }
    const held = lease;
    renew = setInterval(() => void held.renewLease().catch(() => {}), (LEASE_SECONDS * 1000) / 4);
    const leaseId = held.leaseId;

    let blocks = state.size > 0 ? ((await data.getBlockList("committed")).committedBlocks ?? []) : [];
    writeFileSync(local, state.size > 0 ? await data.downloadToBuffer() : Buffer.alloc(0));
    writeFileSync(`${local}.state.json`, JSON.stringify(state));

    /** The local file's recorded bytes into the blob (one block per batch), then the state. */
    const sync = async () => {
      const s = JSON.parse(readFileSync(`${local}.state.json`, "utf8")) as FileState;
      let end = 0;
      const keep: string[] = [];
      for (const b of blocks) {
        if (end + b.size > s.size) break;
        keep.push(b.name);
        end += b.size;
      }
      const added = end < s.size ? readFileSync(local).subarray(end, s.size) : null;
      if (added) {
        await data.stageBlock(blockId(end), added, added.length);
        keep.push(blockId(end));
      }
      if (added || keep.length < blocks.length) {
        await data.commitBlockList(keep, { blobHTTPHeaders: { blobContentType: "application/gzip" } });
        blocks = (await data.getBlockList("committed")).committedBlocks ?? [];
      }
      const text = JSON.stringify(s);
      await stateBlob.upload(text, Buffer.byteLength(text), { conditions: { leaseId } });
    };

    // Each batch's new bytes and state reach the blob before its rows leave the history (afterWrite);
    // a batch a killed run wrote and uploaded but did not move is moved first on the next run.
    let writtenYet = false;
    const r = await store.archiveRedemptionHistory({
      before: o.before,
      batchSize: o.batchSize,
      file: local,
      signal: o.signal,
      afterWrite: sync,
      onProgress: (e) => {
        if (e.phase === "moved") {
          result.moved += e.rows;
          if (!writtenYet) result.recovered += e.rows;
          else result.batches++;
        } else {
          writtenYet = true;
          result.fileRows += e.rows;
        }
        o.onProgress?.(e);
      },
    });
    result.stopped = r.stopped;
    await sync();
    return result;
  } finally {
    clearInterval(renew);
    await lease?.releaseLease().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
