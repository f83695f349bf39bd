// One process at a time per resource (an embedded data folder, an archive file), held by something the
// operating system releases when the process dies, however it dies (SIGKILL, a container's PID 1, OOM),
// so a lock is never stale and never taken over by a race:
// - Linux: a listening Unix-domain socket in the abstract namespace, "\0coupons-lock-<sha256 of the
//   resource's real path>". bind() is atomic: while any process holds the name every other bind fails
//   with EADDRINUSE, and the kernel frees it when the socket closes, process death included. No file.
// - Windows: a named pipe, \\?\pipe\coupons-lock-<hash>, with the same properties.
// - Other Unix (macOS, BSD): a socket file `<path>.sock` beside the resource. It is held while a
//   connect to it succeeds; a file nobody answers on was left by a dead owner and is removed and bound
//   again. That takeover is not atomic: two processes taking over one dead owner's file at the same
//   instant can both succeed (Linux and Windows have no such window).
// The side file `<path>` holds the owner's pid and host for the busy message only; no decision reads it.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type Server, connect, createServer } from "node:net";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";

/** Who holds a lock, as its side file says (null when it says nothing readable). */
export type LockOwner = { pid: number; host: string } | null;

/** Locks this process holds, by socket name: a second take in this process is told apart. */
const held = new Set<string>();

/** The socket name for the resource `path` (its folder must exist). */
function socketName(path: string): string {
  const real = join(realpathSync(dirname(path)), basename(path));
  const hash = createHash("sha256").update(real).digest("hex");
  if (process.platform === "linux") return `\0coupons-lock-${hash}`;
  if (process.platform === "win32") return `\\\\?\\pipe\\coupons-lock-${hash}`;
  return `${real}.sock`;
}

function listen(name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ path: name, exclusive: true }, () => {
      server.off("error", reject);
      server.unref(); // the lock never keeps the process alive
      resolve(server);
    });
  });
}

/** Other Unix only: whether a process answers on the socket file. */
function answers(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path: name });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function readOwner(path: string): LockOwner {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown; host?: unknown };
    return typeof owner.pid === "number" && typeof owner.host === "string" ? { pid: owner.pid, host: owner.host } : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock for `path` (its side file), or throws `busy(owner, ownProcess)` when a live process
 * holds it (`ownProcess`: this one). Returns the release; the process's death releases it as well.
 */
export async function acquireProcessLock(path: string, busy: (owner: LockOwner, ownProcess: boolean) => Error): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const name = socketName(path);
  if (held.has(name)) throw busy({ pid: process.pid, host: hostname() }, true);
  let server: Server;
  try {
    server = await listen(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    if (held.has(name)) throw busy({ pid: process.pid, host: hostname() }, true);
    const unix = process.platform !== "linux" && process.platform !== "win32";
    if (!unix || (await answers(name))) throw busy(readOwner(path), false);
    rmSync(name, { force: true }); // a socket file left by a dead owner
    try {
      server = await listen(name);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === "EADDRINUSE") throw busy(readOwner(path), false);
      throw again;
    }
  }
  held.add(name);
  // written whole (temp file, then rename) so a reader never sees half of it
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), { mode: 0o600 });
  renameSync(temp, path);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(path, { force: true }); // still ours: nobody else can have written it while we hold the lock
    server.close();
    held.delete(name);
  };
}
