// Every shell script of the repository passes shellcheck: the *.sh files under scripts/ and .ci/, and the
// extension-less scripts there whose first line names sh or bash (.ci/run). Fails with shellcheck's output.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(import.meta.dirname, "../..");

function isShellScript(path: string): boolean {
  if (path.endsWith(".sh")) return true;
  if (/\.[a-z0-9]+$/i.test(path)) return false;
  const first = readFileSync(path, "utf8").split("\n", 1)[0] ?? "";
  return /^#!.*\b(ba|da)?sh\b/.test(first);
}

/** Shell scripts under scripts/ and .ci/, relative to the repository root. */
function shellScripts(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".git")) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (isShellScript(p)) out.push(relative(ROOT, p));
    }
  };
  for (const d of ["scripts", ".ci"]) {
    try {
      walk(join(ROOT, d));
    } catch {
      // a missing folder has no scripts
    }
  }
  return out.sort();
}

const available = spawnSync("shellcheck", ["--version"], { encoding: "utf8" }).status === 0;
const reason = "shellcheck is not installed (apt-get install shellcheck; CI installs it)";

function shellcheck(files: string[]) {
  return spawnSync("shellcheck", ["--format=gcc", "--external-sources", ...files], { cwd: ROOT, encoding: "utf8" });
}

describe(`shell scripts pass shellcheck${available ? "" : ` [skipped: ${reason}]`}`, () => {
  before(function () {
    if (!available) {
      if (process.env.CI === "true") throw new Error(`${reason}: CI must run this check`);
      this.skip();
    }
  });

  it("finds the scripts, deploy.sh among them", () => {
    const files = shellScripts();
    expect(files).to.include("scripts/deploy/deploy.sh");
    expect(files).to.include(".ci/run");
  });

  it("reports nothing for any of them", () => {
    const files = shellScripts();
    const r = shellcheck(files);
    const findings = `${r.stdout}${r.stderr}`.trim();
    expect(findings, `shellcheck found problems in ${files.join(", ")}:\n${findings}`).to.equal("");
    expect(r.status).to.equal(0);
  });

  it("catches a broken script (the check can fail)", () => {
    const dir = mkdtempSync(join(tmpdir(), "coupons-sc-"));
    try {
      const bad = join(dir, "bad.sh");
      writeFileSync(bad, "#!/usr/bin/env bash\nfor f in $(ls $1); do echo $f; done\n");
      const r = shellcheck([bad]);
      expect(r.status).to.not.equal(0);
      expect(r.stdout).to.include("SC2086");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
