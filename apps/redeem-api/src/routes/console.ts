// The operator console (apps/console, a static single-page app) served at GET /console, its hashed
// assets under /console/assets/. It holds no rights of its own: the page calls the public API with
// the key the operator types. Not operations (no data, not in the OpenAPI document), like /docs' assets.
// The built folder is the dist/ beside @coupons/console's package.json (resolved like any workspace
// package); when it has not been built, /console answers a 503 problem that says how to build it.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import express, { type Express, type Response } from "express";
import { HttpProblem } from "../problems.ts";

/** Everything from this origin only; no inline script or style; the page may only call this API. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** The folder of the built console (the installed @coupons/console's dist/), null when the package is not installed. */
export function consoleDir(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@coupons/console/package.json")), "dist");
  } catch {
    return null;
  }
}

const notBuilt = (dir: string | null) =>
  new HttpProblem(
    503,
    "CONSOLE_NOT_BUILT",
    "The operator console has not been built",
    `run \`npm run build\` (it builds apps/console into ${dir ?? "apps/console/dist"}), then reload this page`,
    {},
    { "Cache-Control": "no-store" },
  );

export function mountConsole(app: Express, dir: string | null = consoleDir()): void {
  const security = (res: Response) => {
    res.setHeader("Content-Security-Policy", CONSOLE_CSP);
    res.setHeader("Referrer-Policy", "no-referrer");
  };
  // index.html is read when asked (a rebuild shows without a restart) and never cached: it names the hashed files
  app.get(["/console", "/console/"], (_req, res, next) => {
    const index = dir ? join(dir, "index.html") : null;
    if (!index || !existsSync(index)) {
      next(notBuilt(dir));
      return;
    }
    security(res);
    res.setHeader("Cache-Control", "no-cache");
    res.type("text/html").send(readFileSync(index, "utf8"));
  });
  if (!dir) return;
  // hashed names: a file never changes under its name, so clients keep it a year without asking
  app.use(
    "/console/assets",
    (_req, res, next) => {
      security(res);
      next();
    },
    express.static(join(dir, "assets"), {
      immutable: true,
      maxAge: "365d",
      index: false,
      redirect: false,
      fallthrough: true,
      etag: false,
    }),
  );
}
