// What `docker build` would make of a Dockerfile's last (production) stage, without Docker: its
// instructions are read from the Dockerfile itself and carried out in a temporary folder standing for
// its WORKDIR. The build stage's output (`npx tsc -b <project>`) is built in the repository, which is
// the build stage's context with its full install; each COPY (from the context or --from=build) then
// copies from the repository, and the production RUN (`npm ci --omit=dev ...`, then its `find
// node_modules ... -delete` prune) runs as written, offline-first and quiet. USER, EXPOSE and HEALTHCHECK have no meaning here and are skipped.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { promisify } from "node:util";

export const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

export type ProductionStage = {
  /** The stage's WORKDIR, laid out in a temporary folder. */
  dir: string;
  /** ENTRYPOINT followed by CMD, as the container would start. */
  command: string[];
  /** The stage's ENV. */
  env: Record<string, string>;
  /** What was carried out, one line each (for failure messages). */
  steps: string[];
  remove(): void;
};

/** The Dockerfile's instructions, continuation lines joined, comments dropped, split into stages. */
function stages(dockerfile: string): string[][] {
  const lines = readFileSync(join(ROOT, dockerfile), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const out: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) out.push([]);
    out.at(-1)?.push(l);
  }
  return out;
}

function envPairs(rest: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, "");
  return env;
}

export async function productionStage(dockerfile: string): Promise<ProductionStage> {
  const all = stages(dockerfile);
  const build = all[0] ?? [];
  const production = all.at(-1) ?? [];
  if (all.length < 2) throw new Error(`${dockerfile}: expected a build stage and a production stage`);
  const steps: string[] = [];
  const buildWorkdir = build.map((l) => /^WORKDIR\s+(\S+)$/.exec(l)?.[1]).find(Boolean) ?? "/";
  // the build stage's compile step, in the repository (its context, with the full install)
  for (const l of build) {
    const tsc = /^RUN npx tsc -b (.+)$/.exec(l);
    const npmBuild = /^RUN npm run build (-w \S+)$/.exec(l);
    if (tsc) {
      const args = ["-b", ...(tsc[1] as string).split(/\s+/)];
      await run(join(ROOT, "node_modules/.bin/tsc"), args, { cwd: ROOT });
      steps.push(`build: tsc ${args.join(" ")}`);
    } else if (npmBuild) {
      // a workspace's own build script (the console's esbuild bundle), run as written
      const args = ["run", "build", ...(npmBuild[1] as string).split(/\s+/)];
      await run("npm", args, { cwd: ROOT });
      steps.push(`build: npm ${args.join(" ")}`);
    } else if (/^RUN\s/.test(l) && !/^RUN npm ci\s/.test(l)) {
      throw new Error(`${dockerfile}: no stand-in for the build stage's "${l}"`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "coupons-image-"));
  const stage: ProductionStage = {
    dir,
    command: [],
    env: {},
    steps,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  try {
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    for (const l of production.slice(1)) {
      const [, op = "", rest = ""] = /^(\w+)\s+(.*)$/.exec(l) ?? [];
      switch (op.toUpperCase()) {
        case "ENV":
          Object.assign(stage.env, envPairs(rest));
          break;
        case "COPY": {
          // Docker's rules: a folder's content goes to the destination; a file goes into a
          // destination ending in "/", or becomes it; --from=build reads the build stage's WORKDIR
          const parts = rest.split(/\s+/);
          const fromBuild = parts.some((p) => p.startsWith("--from="));
          const [dest = "", ...sources] = parts.filter((p) => !p.startsWith("--")).reverse();
          for (const src of sources.reverse()) {
            const from = fromBuild ? join(ROOT, relative(buildWorkdir, src)) : join(ROOT, src);
            const to = statSync(from).isFile() && dest.endsWith("/") ? join(dir, dest, basename(src)) : join(dir, dest);
            cpSync(from, to, { recursive: true });
          }
          steps.push(`COPY ${rest}`);
          break;
        }
        case "RUN": {
          // each command of the chain: the production install, the cache clean (nothing to clean
          // here), and a `find node_modules ... -delete` prune, run as written in the stage's folder
          for (const command of rest.split(/\s*&&\s*/)) {
            if (/^npm cache clean --force$/.test(command)) continue;
            if (/^find node_modules\s/.test(command)) {
              await run("sh", ["-c", command], { cwd: dir });
              steps.push(`RUN ${command}`);
              continue;
            }
            if (!/^npm ci\s/.test(command)) throw new Error(`${dockerfile}: no stand-in for "RUN ${command}"`);
            const args = [...command.split(/\s+/).slice(1), "--no-audit", "--no-fund", "--prefer-offline"];
            await run("npm", args, { cwd: dir, env: { ...process.env, NODE_ENV: "production" } });
            steps.push(`RUN npm ${args.join(" ")}`);
          }
          break;
        }
        case "ENTRYPOINT":
          entrypoint = JSON.parse(rest) as string[];
          break;
        case "CMD":
          cmd = JSON.parse(rest) as string[];
          break;
        case "WORKDIR":
        case "USER":
        case "EXPOSE":
        case "HEALTHCHECK":
        case "ARG":
          break;
        default:
          throw new Error(`${dockerfile}: no stand-in for "${l}"`);
      }
    }
    stage.command = [...entrypoint, ...cmd];
    if (stage.command.length === 0) throw new Error(`${dockerfile}: the production stage has no ENTRYPOINT or CMD`);
    return stage;
  } catch (err) {
    stage.remove();
    throw err;
  }
}
