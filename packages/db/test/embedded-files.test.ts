// The embedded database's folder is private: under the common umask 022, nothing in it, nor the
// folders made for it, nor its lock file, is readable or writable by group or others; a folder left
// open by an earlier version is taken back at the next open.
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { openStore } from "../src/index.ts";

/** Every path under root (root included) whose mode lets group or others in. */
function openToOthers(root: string): string[] {
  const paths = [root, ...readdirSync(root, { recursive: true }).map((p) => join(root, String(p)))];
  return paths
    .filter((p) => !lstatSync(p).isSymbolicLink() && (lstatSync(p).mode & 0o077) !== 0)
    .map((p) => `${p} ${(lstatSync(p).mode & 0o777).toString(8)}`);
}

(process.platform === "win32" ? describe.skip : describe)("the embedded data folder's permissions", function () {
  this.timeout(120_000);
  let base: string;
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
    base = mkdtempSync(join(tmpdir(), "coupons-perm-"));
  });
  after(() => {
    process.umask(umask);
    rmSync(base, { recursive: true, force: true });
  });

  it("When a new data folder is created under umask 022, then it, its new parents, its files and its lock file are the owner's only (0700 / 0600)", async () => {
    const parent = join(base, "new-parent");
    const dir = join(parent, "db");
    const store = await openStore(`embedded:${dir}`);
    try {
      await store.createCampaign({
        campaignId: "perm",
        name: "perm",
        startDate: new Date(),
        endDate: new Date(Date.now() + 86_400_000),
        discountPercentage: 5,
        maxRedemptionsPerUser: null,
        maxTotalRedemptions: null,
        isActive: true,
      });
      expect(openToOthers(parent), "open to group or others while open").to.deep.equal([]);
      expect(lstatSync(dir).mode & 0o777).to.equal(0o700);
      expect(lstatSync(`${dir}.lock`).mode & 0o777).to.equal(0o600);
    } finally {
      await store.close();
    }
    expect(openToOthers(parent), "open to group or others after closing").to.deep.equal([]);
  });

  it("When an existing data folder is open to others, then opening it takes it back to its owner", async () => {
    const dir = join(base, "old");
    await (await openStore(`embedded:${dir}`)).close();
    // as an earlier version left it: folders 0755, files 0666
    chmodSync(dir, 0o755);
    for (const p of readdirSync(dir, { recursive: true })) {
      const path = join(dir, String(p));
      chmodSync(path, lstatSync(path).isDirectory() ? 0o755 : 0o666);
    }
    expect(openToOthers(dir)).to.not.deep.equal([]);
    const store = await openStore(`embedded:${dir}`);
    try {
      expect(openToOthers(dir)).to.deep.equal([]);
      expect(await store.getCampaign("none")).to.equal(null);
    } finally {
      await store.close();
    }
  });
});
