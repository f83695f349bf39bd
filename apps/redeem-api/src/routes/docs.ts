// The API's own documentation, without a key (it describes the API and holds no data):
// GET /openapi.json (generated from the operations, see openapi.ts) and GET /docs (Swagger UI, served
// from the swagger-ui-dist package under /docs/assets; no CDN, a CSP that allows only 'self', and
// data: images for Swagger UI's icons).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Express } from "express";
import { z } from "zod";
import type { Operation, Register } from "../routing.ts";

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js"] as const;

/** Only this origin, for everything the page loads; no inline script or style. Images may also be
 *  data: URIs, which load nothing: swagger-ui.css draws its icons with them. */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; object-src 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Coupon redeem API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io
const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });\n`;

export const getOpenApiDocument = {
  operationId: "getOpenApiDocument",
  method: "get",
  path: "/openapi.json",
  tag: "Service",
  summary: "This API's OpenAPI 3.1 document",
  description: "Generated from the request and response schemas the server itself checks with. No key needed.",
  access: "public",
  success: {
    status: 200,
    description: "The OpenAPI 3.1 document",
    schema: z.object({ openapi: z.literal("3.1.0") }).loose(),
    example: { openapi: "3.1.0", info: { title: "Coupon redeem API", version: "1.0.0" }, paths: {} },
  },
} as const satisfies Operation;

export const getDocs = {
  operationId: "getDocs",
  method: "get",
  path: "/docs",
  tag: "Service",
  summary: "Browse this documentation (Swagger UI)",
  description: "An HTML page that renders /openapi.json; its scripts and styles come from this server only. No key needed.",
  access: "public",
  success: {
    status: 200,
    description: "The documentation page",
    contentType: "text/html",
    schema: z.string(),
    example: "<!doctype html>…",
  },
} as const satisfies Operation;

export function docsRoutes(register: Register, document: () => string): void {
  register(getOpenApiDocument, (_input, _req, res) => {
    res.type("application/json").send(document());
  });
  register(getDocs, (_input, _req, res) => {
    res.setHeader("Content-Security-Policy", DOCS_CSP);
    res.type("text/html").send(PAGE);
  });
}

/** The page's scripts and styles (not operations: not in the document). */
export function mountDocsAssets(app: Express): void {
  const cache = (res: { setHeader(k: string, v: string): unknown }) => {
    res.setHeader("Content-Security-Policy", DOCS_CSP);
    res.setHeader("Cache-Control", "public, max-age=3600");
  };
  for (const name of ASSETS) {
    app.get(`/docs/assets/${name}`, (_req, res, next) => {
      cache(res);
      res.sendFile(join(SWAGGER_UI, name), (err) => {
        if (err) next(err);
      });
    });
  }
  app.get("/docs/assets/init.js", (_req, res) => {
    cache(res);
    res.type("text/javascript").send(INIT);
  });
}
