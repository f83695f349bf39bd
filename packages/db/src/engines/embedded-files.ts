// The embedded database's folder is private to the user who runs it: it holds every coupon code (bearer
// secrets) and PGlite writes its initial files world-readable and world-writable (0666, whatever the
// umask), so the folder (and the folders made for it) is created 0700, and at every open whatever
// it holds is taken back to its owner: files 0600, folders 0700. Files PostgreSQL makes later are
// 0600 already, and the folder's own 0700 keeps everyone else out in any case. Not on Windows, whose
// permissions are ACLs that chmod does not set.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

const PRIVATE_DIR = 0o700;
const applies = process.platform !== "win32";

/** Creates the data folder (and its missing parents) 0700, or takes an existing one back to 0700. */
export function prepareDataDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: PRIVATE_DIR });
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  if (applies) restrict(dir);
}

/** Takes everything in the data folder back to its owner (group and other bits cleared). */
export function restrictDataDir(dir: string): void {
  if (!applies) return;
  restrict(dir);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() || entry.isDirectory()) restrict(join(entry.parentPath, entry.name));
  }
}

function restrict(path: string): void {
  try {
    const { mode } = lstatSync(path);
    if ((mode & 0o077) !== 0) chmodSync(path, mode & 0o700);
  } catch (err) {
    // gone since it was listed, or not this user's to change (the folder's 0700 still keeps others out)
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EPERM") throw err;
  }
}
