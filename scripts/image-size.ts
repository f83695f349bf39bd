// Prints the installed size of each image's production stage: the Dockerfile's production stage laid
// out without Docker (test/helpers/image.ts: its COPY lines, its `npm ci --omit=dev ...` install and
// prune, the compiled dist/), measured with du. The base image (node:24-slim) is not counted.
//   node --conditions=source scripts/image-size.ts [Dockerfile.api Dockerfile.generator]
import { execFileSync } from "node:child_process";
import { productionStage } from "../test/helpers/image.ts";

const dockerfiles = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["Dockerfile.api", "Dockerfile.generator"];
const du = (dir: string, path: string) => Number(execFileSync("du", ["-sm", path], { cwd: dir, encoding: "utf8" }).split("\t")[0]);

for (const dockerfile of dockerfiles) {
  const stage = await productionStage(dockerfile);
  try {
    const total = du(stage.dir, ".");
    const modules = du(stage.dir, "node_modules");
    const top = execFileSync("sh", ["-c", "du -sm node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -5"], {
      cwd: stage.dir,
      encoding: "utf8",
    });
    console.log(`${dockerfile}: ${total} MB installed (${modules} MB node_modules) on top of node:24-slim`);
    for (const line of top.trim().split("\n")) console.log(`  ${line.replace("\t", " MB  ")}`);
  } finally {
    stage.remove();
  }
}
