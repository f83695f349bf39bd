// Test support: a throw-away certificate authority and HTTPS servers on 127.0.0.1 that stand in for Azure
// endpoints (Key Vault, Resource Manager). The certificate comes from `openssl req -x509` in a temporary
// folder (node:crypto cannot make X.509 certificates); clients trust it through their tlsOptions.ca.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type SelfSigned = { key: string; cert: string };

let cached: SelfSigned | undefined;

/** A self-signed certificate for 127.0.0.1 (IP SAN), valid for a day; made once per process. */
export function selfSignedCert(): SelfSigned {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "coupons-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    cached = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Seen = { method: string; path: string; headers: IncomingMessage["headers"]; body: string };

export type Reply = { status: number; headers?: Record<string, string>; body?: unknown };

export type FakeServer = {
  /** https://127.0.0.1:<port> */
  url: string;
  seen: Seen[];
  close(): Promise<void>;
};

/** An HTTPS server on an ephemeral loopback port that records every request and answers with `handle`. */
export async function startFake(handle: (req: Seen, fake: FakeServer) => Reply | Promise<Reply>): Promise<FakeServer> {
  const { key, cert } = selfSignedCert();
  const seen: Seen[] = [];
  const fake: FakeServer = { url: "", seen, close: async () => {} };
  const server = createServer({ key, cert, minVersion: "TLSv1.2" }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const s: Seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(s);
      let reply: Reply;
      try {
        reply = await handle(s, fake);
      } catch (err) {
        reply = { status: 599, body: { error: { code: "FakeFailed", message: String(err) } } };
      }
      const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** A TokenCredential that hands out fixed tokens and records what it was asked for; it contacts nothing. */
export function fakeCredential(token = "fake-token") {
  const asked: { scopes: string[]; tenantId?: string }[] = [];
  return {
    asked,
    credential: {
      async getToken(scopes: string | string[], options?: { tenantId?: string }) {
        asked.push({ scopes: Array.isArray(scopes) ? scopes : [scopes], tenantId: options?.tenantId });
        return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    },
  };
}
