// The archive loop shared by every engine: batches of RedemptionHistory moved to
// RedemptionHistoryArchive by the engine's procedure, optionally written to a gzip JSON-lines file
// first. The engines supply three calls (ArchiveOps); this file owns the ordering that makes a kill
// at any moment harmless.
//
// Without a file each batch is one statement (DELETE ... RETURNING -> INSERT; DELETE ... OUTPUT
// INTO), so a row is always in exactly one table. With a file, per batch:
//   1. read the next rows (oldest first);
//   2. append them to the file as one gzip member and fsync;
//   3. record in <file>.state.json (write, fsync, rename, fsync the folder) the file's new length and
//      the batch's ids as pending;
//   4. move exactly those ids (one statement).
// A re-run first cuts the file back to the recorded length (a member torn by a kill in step 2 or
// written before step 3 disappears: its rows were never deleted, so they are read and written
// again), then moves the pending ids (a no-op for ids moved already). So every row ends in exactly
// one table, and in the file exactly once. One process per file (process-lock.ts).
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { acquireProcessLock } from "./process-lock.ts";
import { type ArchiveOptions, type ArchiveResult, type RedemptionAttempt, StoreError, lastClosedQuarterEnd } from "./contract.ts";

export type ArchiveOps = {
  /** The next rows attempted before `before`, oldest (lowest id) first. */
  list(before: Date, limit: number): Promise<RedemptionAttempt[]>;
  /** Moves up to batchSize rows attempted before `before`; returns how many. */
  move(before: Date, batchSize: number): Promise<number>;
  /** Moves exactly these ids (those still in the history); returns how many. */
  moveIds(ids: readonly string[]): Promise<number>;
};

export const DEFAULT_ARCHIVE_BATCH = 5000;
export const MAX_ARCHIVE_BATCH = 100_000;

type FileState = { version: 1; size: number; pending: string[] };

export function checkArchiveOptions(o: ArchiveOptions): { before: Date; batchSize: number } {
  const before = o.before ?? lastClosedQuarterEnd();
  if (!(before instanceof Date) || Number.isNaN(before.getTime())) throw new StoreError("INVALID_INPUT", "before must be a valid Date");
  const batchSize = o.batchSize ?? DEFAULT_ARCHIVE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_ARCHIVE_BATCH) {
    throw new StoreError("INVALID_INPUT", `batchSize must be an integer from 1 to ${MAX_ARCHIVE_BATCH} (got ${batchSize})`);
  }
  return { before, batchSize };
}

export async function runArchive(ops: ArchiveOps, options: ArchiveOptions = {}): Promise<ArchiveResult> {
  const { before, batchSize } = checkArchiveOptions(options);
  const result: ArchiveResult = { before, moved: 0, batches: 0, file: null, fileRows: 0, recovered: 0, stopped: false };
  const progress = options.onProgress ?? (() => {});
  if (!options.file) {
    for (;;) {
      if (options.signal?.aborted) return { ...result, stopped: true };
      const n = await ops.move(before, batchSize);
      if (n === 0) return result;
      result.moved += n;
      result.batches++;
      progress({ phase: "moved", rows: n, totalMoved: result.moved });
      if (n < batchSize) return result;
    }
  }
  const file = resolve(options.file);
  result.file = file;
  const unlock = await lockFile(`${file}.lock`);
  let fd: number | undefined;
  try {
    const stateFile = `${file}.state.json`;
    let state = readState(stateFile, file);
    if (!state) {
      state = { version: 1, size: 0, pending: [] };
      writeState(stateFile, state); // before the file exists: a file without state is not ours
    }
    fd = openSync(file, existsSync(file) ? "r+" : "w+");
    fsyncDir(file);
    const size = statSync(file).size;
    if (size < state.size) {
      throw new StoreError(
        "CONFLICT",
        `${file} is shorter (${size} bytes) than its state file records (${state.size}); it was changed by something else, so the archive stops rather than guess`,
      );
    }
    if (size > state.size) {
      ftruncateSync(fd, state.size); // a batch written but never recorded: its rows are still in the history
      fsyncSync(fd);
    }
    if (state.pending.length > 0) {
      const n = await ops.moveIds(state.pending);
      result.recovered = n;
      result.moved += n;
      state = { version: 1, size: state.size, pending: [] };
      writeState(stateFile, state);
      if (n > 0) progress({ phase: "moved", rows: n, totalMoved: result.moved });
    }
    for (;;) {
      if (options.signal?.aborted) return { ...result, stopped: true };
      const rows = await ops.list(before, batchSize);
      if (rows.length === 0) return result;
      const member = gzipSync(Buffer.from(rows.map((r) => `${JSON.stringify(fileRow(r))}\n`).join("")));
      writeAll(fd, member, state.size);
      fsyncSync(fd);
      state = { version: 1, size: state.size + member.length, pending: rows.map((r) => r.redemptionId) };
      writeState(stateFile, state);
      result.fileRows += rows.length;
      progress({ phase: "written", rows: rows.length, totalMoved: result.moved });
      await options.afterWrite?.();
      const n = await ops.moveIds(state.pending);
      result.moved += n;
      result.batches++;
      progress({ phase: "moved", rows: n, totalMoved: result.moved });
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
    unlock();
  }
}

/** One line of the archive file: the history row, times in ISO 8601 UTC. */
function fileRow(r: RedemptionAttempt) {
  return {
    redemptionId: r.redemptionId,
    couponCode: r.couponCode,
    userId: r.userId,
    campaignId: r.campaignId,
    attemptedAt: r.attemptedAt.toISOString(),
    success: r.success,
    failureReason: r.failureReason,
    ipAddress: r.ipAddress,
    userAgent: r.userAgent,
  };
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

function readState(stateFile: string, file: string): FileState | null {
  if (!existsSync(stateFile)) {
    if (existsSync(file) && statSync(file).size > 0) {
      throw new StoreError(
        "CONFLICT",
        `${file} exists but was not written by the archive (no ${basename(stateFile)} beside it); choose a new file name`,
      );
    }
    return null;
  }
  try {
    const s = JSON.parse(readFileSync(stateFile, "utf8")) as FileState;
    if (s.version !== 1 || !Number.isInteger(s.size) || !Array.isArray(s.pending)) throw new Error("unknown shape");
    return s;
  } catch (err) {
    throw new StoreError("CONFLICT", `${stateFile} is unreadable (${(err as Error).message}); the archive stops rather than guess`, {
      cause: err,
    });
  }
}

/** Atomic and durable: a kill leaves the old state or the new one, never half of either. */
function writeState(stateFile: string, state: FileState): void {
  const tmp = `${stateFile}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeAll(fd, Buffer.from(JSON.stringify(state)), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, stateFile);
  fsyncDir(stateFile);
}

function fsyncDir(path: string): void {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One archiver per file; the operating system releases a dead archiver's lock. */
function lockFile(lock: string): Promise<() => void> {
  const file = lock.replace(/\.lock$/, "");
  return acquireProcessLock(lock, (owner) =>
    owner
      ? new StoreError("CONFLICT", `another archive (process ${owner.pid} on ${owner.host}) is writing ${file}; wait for it to finish`)
      : new StoreError("CONFLICT", `another archive is writing ${file}; wait for it to finish`),
  );
}
