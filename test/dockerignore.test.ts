// The build context of both images (.dockerignore): what `docker build` / `az acr build` uploads.
// Docker's rules, for the patterns used here: a pattern is matched against the path from the context's
// root (`*` within one segment, `**` across any), and excluding a folder excludes what is in it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { ROOT } from "./helpers/image.ts";

function patterns(): RegExp[] {
  return readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((p) => {
      if (p.startsWith("!")) throw new Error(`no stand-in for the exception pattern ${p}`);
      const body = p
        .replace(/^\/+|\/+$/g, "")
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) =>
          part === "**/"
            ? "(?:.*/)?"
            : part === "**"
              ? ".*"
              : part === "*"
                ? "[^/]*"
                : part === "?"
                  ? "[^/]"
                  : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
        )
        .join("");
      return new RegExp(`^${body}$`);
    });
}

/** Whether the context leaves the path out: it, or a folder it is in, matches a pattern. */
function ignored(path: string, rules: RegExp[]): boolean {
  const segments = path.split("/");
  return segments.some((_, i) => rules.some((r) => r.test(segments.slice(0, i + 1).join("/"))));
}

/** The context paths each Dockerfile COPYs (not those copied from another stage). */
function copiedFromContext(dockerfile: string): string[] {
  return readFileSync(join(ROOT, dockerfile), "utf8")
    .split("\n")
    .filter((l) => /^COPY\s/.test(l) && !l.includes("--from="))
    .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
}

describe("the images' build context (.dockerignore)", () => {
  const rules = patterns();

  it("When the context is sent, then it leaves out the installed modules, compiled output, data folders, git and tests", () => {
    for (const p of [
      "node_modules/express/index.js",
      "apps/redeem-api/node_modules/x",
      "packages/db/dist/index.js",
      "apps/generator/dist/main.js",
      "apps/redeem-api/tsconfig.tsbuildinfo",
      ".coupons/db/PG_VERSION",
      "apps/generator/.coupons/db",
      ".git/HEAD",
      "packages/db/test/conformance.ts",
      "test/architecture.test.ts",
      "scripts/test/deploy.test.ts",
      ".env",
    ]) {
      expect(ignored(p, rules), p).to.equal(true);
    }
  });

  it("When either Dockerfile copies from the context, then nothing it copies is left out (sources, manifests, SQL)", () => {
    const copied = [...copiedFromContext("Dockerfile.api"), ...copiedFromContext("Dockerfile.generator")];
    expect(copied).to.include.members(["package-lock.json", "packages/db", "database"]);
    for (const p of [...new Set(copied)]) expect(ignored(p, rules), p).to.equal(false);
    for (const p of [
      "packages/db/src/index.ts",
      "apps/redeem-api/src/main.ts",
      "apps/generator/src/main.ts",
      "database/postgres/0001_schema.sql",
    ]) {
      expect(ignored(p, rules), p).to.equal(false);
    }
  });
});
