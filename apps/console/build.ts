// Builds the operator console into dist/: one JavaScript and one CSS bundle named by their content
// hash under dist/assets/ (served immutable), and dist/index.html naming them (served no-cache).
// No inline script or style, so the API's Content-Security-Policy can refuse all of them.
// Prints each file's size and gzipped size. Run: node build.ts (npm run build -w @coupons/console).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, "dist");

// only what this script writes: dist/tsc holds the type check's output (tsc -b)
rmSync(join(DIST, "assets"), { recursive: true, force: true });
mkdirSync(join(DIST, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(HERE, "src/main.tsx")],
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(DIST, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  write: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => join(process.cwd(), p));
const js = outputs.find((p) => p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
if (!js || !css) throw new Error(`esbuild made no ${js ? "CSS" : "JavaScript"} bundle: ${outputs.join(", ")}`);
const url = (p: string) => `/console/assets/${basename(p)}`;

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Coupons console</title>
<link rel="stylesheet" href="${url(css)}">
<script type="module" src="${url(js)}"></script>
</head>
<body>
<noscript>The operator console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(join(DIST, "index.html"), html);

let total = 0;
for (const file of [...outputs, join(DIST, "index.html")]) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`${relative(HERE, file).padEnd(36)} ${String(bytes.length).padStart(8)} B  ${String(gz).padStart(7)} B gzipped`);
}
console.log(`${"total".padEnd(36)} ${" ".repeat(11)}${String(total).padStart(7)} B gzipped`);
