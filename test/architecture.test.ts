// The shape of the code, checked on every run: no import circle among the source files, the layers
// point one way (apps -> packages/db -> drivers), and no source file grows past 350 lines without a
// line near its top that says why.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_ROOTS = ["packages/db/src", "apps/generator/src", "apps/redeem-api/src", "apps/console/src"];
/** Tests and scripts: not part of the import graph's layers, but held to the same length rule. */
const OTHER_ROOTS = ["packages/db/test", "apps/generator/test", "apps/redeem-api/test", "scripts", "test"];
const MAX_LINES = 350;

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : /\.tsx?$/.test(f) && !f.endsWith(".d.ts") ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), resolved to files. */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** The import circles of a graph, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      if (state.get(m) === "open") found.push(stack.slice(stack.indexOf(m)));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

function sourceGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const root of SOURCE_ROOTS) {
    for (const f of tsFiles(join(ROOT, root))) graph.set(f, importsOf(f, readFileSync(f, "utf8")));
  }
  return graph;
}

const rel = (f: string) => relative(ROOT, f);

describe("architecture", () => {
  it("has no import circle among the source files", () => {
    const graph = sourceGraph();
    expect(graph.size).to.be.greaterThan(30);
    expect(cycles(graph).map((c) => c.map(rel).join(" -> "))).to.deep.equal([]);
  });

  it("finds a circle when there is one (two files importing each other, type-only included)", () => {
    const a = "/x/a.ts";
    const b = "/x/b.ts";
    const graph = new Map([
      [a, importsOf(a, 'import type { B } from "./b.ts";')],
      [b, importsOf(b, 'export { a } from "./a.ts";\nconst c = await import("./c.ts");')],
    ]);
    expect(cycles(graph)).to.deep.equal([[a, b]]);
  });

  it("keeps the layers one way: packages/db imports nothing of the apps", () => {
    const wrong = [...sourceGraph()]
      .filter(([f]) => rel(f).startsWith("packages/db/"))
      .flatMap(([f, deps]) => deps.filter((d) => rel(d).startsWith("apps/")).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(wrong).to.deep.equal([]);
    for (const [f] of sourceGraph()) {
      if (!rel(f).startsWith("packages/db/")) continue;
      expect(readFileSync(f, "utf8"), rel(f)).to.not.match(/from\s+["'](@coupons\/(generator|redeem-api)|express|commander)["']/);
    }
  });

  it(`says why at the top of any source, test or script file over ${MAX_LINES} lines`, () => {
    const files = [...sourceGraph().keys(), ...OTHER_ROOTS.flatMap((r) => tsFiles(join(ROOT, r)))];
    const long = files.flatMap((f) => {
      const lines = readFileSync(f, "utf8").split("\n");
      const head = lines.slice(0, 6).join("\n");
      return lines.length > MAX_LINES && !/over 350 lines/i.test(head) ? [`${rel(f)} (${lines.length} lines)`] : [];
    });
    expect(long).to.deep.equal([]);
  });
});
