// Transport security as built: SQL Server connections are always encrypted with TLS 1.2 or newer (the
// config, and what tedious receives), and PostgreSQL honours `sslmode` from the URL, through pg's own
// parsing and against loopback servers: the local server (which has SSL off: require is refused, disable
// connects) and a throw-away TLS endpoint that answers pg's SSLRequest with a self-signed certificate.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { expect } from "chai";
import sql from "mssql";
import pg from "pg";
import { Connection } from "tedious";
import { selfSignedCert } from "../../../scripts/test/loopback-https.ts";
import { buildMssqlSettings, type CredentialFactory } from "../src/engines/mssql-config.ts";
import { poolConfig } from "../src/engines/postgres.ts";
import { POSTGRES_SKIP_REASON, POSTGRES_URL } from "./support.ts";

const noToken = { getToken: async () => null };
const credentials: CredentialFactory = { managedIdentity: () => noToken, defaultChain: () => noToken };
const AZURE = { COUPONS_MSSQL_SERVER: "tcp:coupons.database.windows.net,1433", COUPONS_MSSQL_DATABASE: "coupons" };

/** What mssql hands to tedious for a config, and the Connection tedious builds from it (constructing connects nothing). */
function tediousOptions(config: sql.config) {
  const tc = (new sql.ConnectionPool(config) as unknown as { _config(): ConstructorParameters<typeof Connection>[0] })._config();
  const conn = new Connection(tc) as unknown as {
    config: { options: Record<string, unknown> };
    secureContextOptions: Record<string, unknown>;
  };
  return { options: conn.config.options, secure: conn.secureContextOptions };
}

describe("SQL Server transport: TLS 1.2 or newer", () => {
  const cases: [string, () => ReturnType<typeof buildMssqlSettings>][] = [
    ["SQL login URL", () => buildMssqlSettings({ engine: "mssql", url: "mssql://app:secret@db.example.com/coupons" }, { credentials })],
    ["managed identity", () => buildMssqlSettings({ engine: "mssql", env: AZURE }, { credentials })],
    ["default chain", () => buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_AUTH: "default" } }, { credentials })],
    [
      "SQL login env",
      () =>
        buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_USER: "u", COUPONS_MSSQL_PASSWORD: "p" } }, { credentials }),
    ],
  ];
  for (const [name, build] of cases) {
    it(`${name}: encrypt is on, the certificate verified, and TLS below 1.2 refused, in the config and in tedious`, () => {
      const s = build();
      expect(s.config.options?.encrypt).to.equal(true);
      expect(s.config.options?.trustServerCertificate).to.equal(false);
      expect(s.config.options?.cryptoCredentialsDetails).to.deep.include({ minVersion: "TLSv1.2" });
      const t = tediousOptions(s.config);
      expect(t.options.encrypt).to.equal(true);
      expect(t.options.trustServerCertificate).to.equal(false);
      // tedious builds its TLS context from these (and caps maxVersion at TLSv1.2 for TDS 7.x encryption)
      expect(t.secure.minVersion).to.equal("TLSv1.2");
    });
  }

  it("turns encryption off only on the explicit local opt-out, and says so", () => {
    const off = buildMssqlSettings({ engine: "mssql", url: "mssql://sa:x@127.0.0.1/test?encrypt=false" }, { credentials });
    expect(off.config.options?.encrypt).to.equal(false);
    expect(off.describe).to.include("NOT encrypted");
    const on = buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_ENCRYPT: "" } }, { credentials });
    expect(on.config.options?.encrypt).to.equal(true);
  });
});

/** pg's own reading of a URL: the ssl setting the client will use. */
function pgSsl(url: string): unknown {
  return (new pg.Client(poolConfig({ url })) as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters.ssl;
}

type Handshake = { sslRequested: boolean; protocol?: string | null; error?: string };

/** A loopback endpoint that answers pg's SSLRequest with 'S' and a TLS handshake (self-signed), then hangs up. */
async function fakeTlsPostgres() {
  const { key, cert } = selfSignedCert();
  const seen: Handshake[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", (first: Buffer) => {
      const h: Handshake = { sslRequested: first.length >= 8 && first.readInt32BE(4) === 80877103 };
      seen.push(h);
      if (!h.sslRequested) return socket.destroy();
      socket.pause();
      socket.write("S");
      const tls = new TLSSocket(socket, { isServer: true, key, cert, minVersion: "TLSv1.2" } as ConstructorParameters<typeof TLSSocket>[1]);
      tls.on("secure", () => {
        h.protocol = tls.getProtocol();
        tls.destroy();
      });
      tls.on("error", (err) => {
        h.error = err.message;
      });
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function tryConnect(url: string): Promise<Error | null> {
  const client = new pg.Client({ ...poolConfig({ url }), connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => {});
  }
}

describe("PostgreSQL transport: sslmode from the URL is honoured", () => {
  let dir: string;
  let caFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "coupons-pgtls-"));
    caFile = join(dir, "ca.pem");
    writeFileSync(caFile, selfSignedCert().cert);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("pg reads disable as no TLS, require and verify-full as TLS with a verified certificate, no-verify as unverified TLS", () => {
    const base = "postgres://app:pw@db.example.com:5432/coupons";
    expect(pgSsl(`${base}?sslmode=disable`)).to.equal(false);
    expect(pgSsl(base)).to.equal(false);
    for (const mode of ["require", "verify-full"]) {
      const ssl = pgSsl(`${base}?sslmode=${mode}`) as Record<string, unknown>;
      expect(ssl, mode).to.be.an("object");
      // pg (without uselibpqcompat) verifies the certificate for require as well: stricter than libpq
      expect(ssl.rejectUnauthorized, mode).to.not.equal(false);
    }
    expect(pgSsl(`${base}?sslmode=no-verify`)).to.deep.equal({ rejectUnauthorized: false });
    expect((pgSsl(`${base}?sslmode=verify-full&sslrootcert=${caFile}`) as { ca: string }).ca).to.include("BEGIN CERTIFICATE");
  });

  describe("against a loopback TLS endpoint with a self-signed certificate", () => {
    let fake: Awaited<ReturnType<typeof fakeTlsPostgres>>;
    beforeEach(async () => {
      fake = await fakeTlsPostgres();
    });
    afterEach(() => fake.close());
    const url = (q: string) => `postgres://app:pw@127.0.0.1:${fake.port}/coupons?${q}`;

    it("When sslmode=verify-full names no trusted CA, then the handshake is refused by the client", async () => {
      const err = await tryConnect(url("sslmode=verify-full"));
      expect(err?.message).to.match(/self[- ]signed|unable to verify/i);
      expect(fake.seen[0]?.sslRequested).to.equal(true);
      expect(fake.seen[0]?.protocol).to.equal(undefined);
    });

    it("When sslmode=require (verified by pg) meets an untrusted certificate, then it is refused too", async () => {
      const err = await tryConnect(url("sslmode=require"));
      expect(err?.message).to.match(/self[- ]signed|unable to verify/i);
    });

    it("When sslmode=verify-full trusts the CA (sslrootcert), then TLS 1.2+ is negotiated", async () => {
      await tryConnect(url(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`));
      expect(fake.seen[0]?.sslRequested).to.equal(true);
      expect(fake.seen[0]?.protocol).to.be.oneOf(["TLSv1.2", "TLSv1.3"]);
    });

    it("When sslmode=disable, then no SSLRequest is sent at all", async () => {
      await tryConnect(url("sslmode=disable"));
      expect(fake.seen[0]?.sslRequested).to.equal(false);
    });
  });

  describe(`against the local server${POSTGRES_SKIP_REASON ? ` [skipped: ${POSTGRES_SKIP_REASON}]` : ""}`, () => {
    const withMode = (mode: string) => {
      const u = new URL(POSTGRES_URL);
      u.searchParams.set("sslmode", mode);
      return u.toString();
    };
    let serverSsl: string | undefined;
    before(async function () {
      if (!POSTGRES_URL) return this.skip();
      const c = new pg.Client({ connectionString: withMode("disable") });
      await c.connect();
      try {
        serverSsl = (await c.query("SHOW ssl")).rows[0]?.ssl;
      } finally {
        await c.end();
      }
    });

    it("sslmode=disable connects in clear; sslmode=require is refused by a server without SSL (accepted by one with it)", async () => {
      expect(await tryConnect(withMode("disable"))).to.equal(null);
      const err = await tryConnect(withMode("require"));
      if (serverSsl === "off") expect(err?.message).to.equal("The server does not support SSL connections");
      else expect(err === null || /self[- ]signed|unable to verify|certificate/i.test(err.message)).to.equal(true);
    });
  });
});
