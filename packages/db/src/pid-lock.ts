// A lock file holding the owner's pid: one process at a time per resource (an embedded data folder,
// an archive file). A lock left by a process that died is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Takes `path`; `busy(pid)` gives the error to throw when a live process holds it. With
 *  `ownProcessIsBusy`, this process's own earlier lock counts as held too. Returns the release. */
export function acquirePidLock(
  path: string,
  busy: (pid: number, ownProcess: boolean) => Error,
  opts: { ownProcessIsBusy?: boolean } = {},
): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8"));
      const own = pid === process.pid;
      if (own && opts.ownProcessIsBusy) throw busy(pid, true);
      if (!own && Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw busy(pid, false);
      rmSync(path, { force: true }); // left by a process that died
    }
  }
  throw busy(0, false);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
