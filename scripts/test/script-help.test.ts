// Every shell script under scripts/ (scripts/*.sh, scripts/deploy/*.sh) answers --help with exit 0 and
// its usage only: the comment block at its top, on stdout, nothing on stderr, no line of its code, and
// nothing run (no settings asked for, nothing contacted).
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(import.meta.dirname, "../..");

function scripts(): string[] {
  return ["scripts", "scripts/deploy"].flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((name) => name.endsWith(".sh"))
      .map((name) => join(dir, name)),
  );
}

/** The comment block at the top of a script (after the #! line), as the usage shows it. */
function headerComment(path: string): string[] {
  const lines = readFileSync(join(ROOT, path), "utf8").split("\n").slice(1);
  const end = lines.findIndex((l) => !l.startsWith("#"));
  return lines.slice(0, end).map((l) => l.replace(/^# ?/, ""));
}

describe("shell scripts answer --help", () => {
  const found = scripts();
  it("finds the scripts", () => {
    expect(found).to.include.members(["scripts/deploy/deploy.sh", "scripts/aci-launch.sh", "scripts/test-mssql.sh"]);
  });
  for (const script of found) {
    it(`When ${script} --help is run, then it exits 0 and prints its usage (its header comment) and nothing else`, () => {
      // an empty environment but PATH: a script that went on to run would miss its settings and say so
      const r = spawnSync("bash", [script, "--help"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "" },
        timeout: 30_000,
      });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.equal("");
      const usage = headerComment(script);
      expect(usage.join("\n"), `${script} has a usage comment naming itself`).to.contain(relative(ROOT, join(ROOT, script)));
      expect(r.stdout.trimEnd().split("\n")).to.deep.equal(usage);
    });
  }
});
