// The mssql engine's wiring, tested without SQL Server: the config built for each auth mode, that the
// real tedious Connection accepts it (constructing one does not connect and asks for no token), the
// error mapping and retry rules, and one connection attempt to a closed loopback port.
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import { expect } from "chai";
import sql from "mssql";
import { Connection, ConnectionError as TediousConnectionError } from "tedious";
import { StoreError } from "../src/contract.ts";
import { type CredentialFactory, azureCredentials, buildMssqlSettings, parseServer } from "../src/engines/mssql-config.ts";
import { isRetryable, mapMssqlError, resumingLoginNumber, withRetry } from "../src/engines/mssql-errors.ts";
import { openMssqlStore } from "../src/engines/mssql.ts";

/** The real credential factory, recording what it was asked for; no credential is ever asked for a token. */
function spyCredentials() {
  const calls: string[] = [];
  const factory: CredentialFactory = {
    managedIdentity(clientId) {
      calls.push(`managed-identity:${clientId ?? "system"}`);
      return azureCredentials.managedIdentity(clientId);
    },
    defaultChain(clientId) {
      calls.push(`default:${clientId ?? "-"}`);
      return azureCredentials.defaultChain(clientId);
    },
  };
  return { calls, factory };
}

/** What mssql hands to tedious for a config (its own translation, so the test sees the real thing). */
function tediousConfig(config: sql.config) {
  return (new sql.ConnectionPool(config) as unknown as { _config(): ConstructorParameters<typeof Connection>[0] })._config();
}

function configError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).code).to.equal("CONFIG");
    return err as StoreError;
  }
  throw new Error("expected a CONFIG error");
}

/** The credential of a token-credential config. */
function credentialOf(config: sql.config): unknown {
  const auth = config.authentication;
  expect(auth?.type).to.equal("token-credential");
  return (auth?.options as { credential?: unknown } | undefined)?.credential;
}

const AZURE = { COUPONS_MSSQL_SERVER: "tcp:coupons.database.windows.net,1433", COUPONS_MSSQL_DATABASE: "coupons" };

describe("mssql engine configuration", () => {
  it("builds a SQL login from an mssql:// URL, encrypted with TLS 1.2+ and a verified certificate by default", () => {
    const s = buildMssqlSettings(
      { engine: "mssql", url: "mssql://app:p%40ss@db.example.com:14330/coupons" },
      { applicationName: "redeem-api" },
    );
    expect(s.auth).to.equal("sql");
    expect(s.config).to.deep.include({ server: "db.example.com", port: 14330, database: "coupons" });
    expect(s.config.authentication).to.deep.equal({ type: "default", options: { userName: "app", password: "p@ss" } });
    expect(s.config.options).to.deep.include({ encrypt: true, trustServerCertificate: false, appName: "redeem-api" });
    expect(s.config.options?.cryptoCredentialsDetails).to.deep.equal({ minVersion: "TLSv1.2" });
    expect(s.describe).to.not.include("p@ss");
  });

  it("reads sqlserver:// URLs and the local opt-outs from URL options", () => {
    const s = buildMssqlSettings({ engine: "mssql", url: "sqlserver://sa:x@127.0.0.1/test?trustServerCertificate=true" });
    expect(s.config.port).to.equal(1433);
    expect(s.config.options).to.deep.include({ encrypt: true, trustServerCertificate: true });
    const plain = buildMssqlSettings({ engine: "mssql", url: "mssql://sa:x@localhost/test?encrypt=false" });
    expect(plain.config.options?.encrypt).to.equal(false);
    expect(plain.describe).to.include("NOT encrypted");
  });

  it("builds a SQL login from the environment", () => {
    const env = { ...AZURE, COUPONS_MSSQL_USER: "app", COUPONS_MSSQL_PASSWORD: "secret" };
    const s = buildMssqlSettings({ engine: "mssql", env });
    expect(s.auth).to.equal("sql");
    expect(s.config).to.deep.include({ server: "coupons.database.windows.net", port: 1433, database: "coupons" });
    expect(s.config.authentication).to.deep.equal({ type: "default", options: { userName: "app", password: "secret" } });
  });

  it("uses the system-assigned managed identity through token-credential when no user or client id is given", () => {
    const spy = spyCredentials();
    const s = buildMssqlSettings({ engine: "mssql", env: AZURE }, { credentials: spy.factory });
    expect(s.auth).to.equal("managed-identity");
    expect(spy.calls).to.deep.equal(["managed-identity:system"]);
    expect(credentialOf(s.config)).to.be.instanceOf(ManagedIdentityCredential);
    expect(s.config.options?.encrypt).to.equal(true);
  });

  it("uses a user-assigned managed identity when COUPONS_MSSQL_CLIENT_ID is set", () => {
    const spy = spyCredentials();
    const env = { ...AZURE, COUPONS_MSSQL_AUTH: "managed-identity", COUPONS_MSSQL_CLIENT_ID: "11111111-2222-3333-4444-555555555555" };
    const s = buildMssqlSettings({ engine: "mssql", env }, { credentials: spy.factory });
    expect(spy.calls).to.deep.equal(["managed-identity:11111111-2222-3333-4444-555555555555"]);
    expect(credentialOf(s.config)).to.be.instanceOf(ManagedIdentityCredential);
    expect(s.describe).to.include("client 11111111");
  });

  it("uses the default credential chain (developer machines) for COUPONS_MSSQL_AUTH=default", () => {
    const spy = spyCredentials();
    const s = buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_AUTH: "default" } }, { credentials: spy.factory });
    expect(s.auth).to.equal("default");
    expect(spy.calls).to.deep.equal(["default:-"]);
    expect(credentialOf(s.config)).to.be.instanceOf(DefaultAzureCredential);
  });

  it("refuses bad settings with a message that names the variable", () => {
    expect(configError(() => buildMssqlSettings({ engine: "mssql", env: {} })).message).to.include("COUPONS_MSSQL_SERVER");
    expect(configError(() => buildMssqlSettings({ engine: "mssql", env: { COUPONS_MSSQL_SERVER: "x" } })).message).to.include(
      "COUPONS_MSSQL_DATABASE",
    );
    expect(
      configError(() => buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_AUTH: "kerberos" } })).message,
    ).to.include("COUPONS_MSSQL_AUTH");
    expect(configError(() => buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_AUTH: "sql" } })).message).to.include(
      "COUPONS_MSSQL_PASSWORD",
    );
    expect(
      configError(() => buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_ENCRYPT: "maybe" } })).message,
    ).to.include("COUPONS_MSSQL_ENCRYPT");
    const noUser = configError(() => buildMssqlSettings({ engine: "mssql", url: "mssql://db.example.com/coupons" }));
    expect(noUser.message).to.include("COUPONS_MSSQL_AUTH");
    const leak = configError(() => buildMssqlSettings({ engine: "mssql", url: "mssql://u:topsecret@h/db?auth=x" }));
    expect(leak.message).to.include('unknown option "auth"').and.not.include("topsecret");
  });

  it("reads the server forms people paste", () => {
    expect(parseServer("tcp:a.database.windows.net,1433")).to.deep.equal({ server: "a.database.windows.net", port: 1433 });
    expect(parseServer("localhost:14333")).to.deep.equal({ server: "localhost", port: 14333 });
    expect(parseServer("sql1")).to.deep.equal({ server: "sql1", port: 1433 });
    configError(() => parseServer("a b"));
  });

  describe("the real tedious Connection accepts the config of each mode", () => {
    const modes: [string, () => sql.config][] = [
      ["sql login", () => buildMssqlSettings({ engine: "mssql", url: "mssql://app:secret@127.0.0.1:1433/coupons" }).config],
      ["managed identity", () => buildMssqlSettings({ engine: "mssql", env: AZURE }).config],
      [
        "user-assigned managed identity",
        () =>
          buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_CLIENT_ID: "11111111-2222-3333-4444-555555555555" } })
            .config,
      ],
      ["default credential chain", () => buildMssqlSettings({ engine: "mssql", env: { ...AZURE, COUPONS_MSSQL_AUTH: "default" } }).config],
    ];
    for (const [name, build] of modes) {
      it(name, () => {
        const cfg = tediousConfig(build());
        // tedious validates the whole configuration in its constructor; it connects only on connect().
        const conn = new Connection(cfg);
        expect(conn.config.options.encrypt).to.equal(true);
        expect(conn.config.options.cryptoCredentialsDetails).to.deep.equal({ minVersion: "TLSv1.2" });
        expect(conn.config.authentication.type).to.equal(cfg.authentication?.type);
      });
    }

    it("and tedious rejects a broken one (so the check above can fail)", () => {
      const cfg = tediousConfig(buildMssqlSettings({ engine: "mssql", env: AZURE }).config);
      const broken = { ...cfg, authentication: { type: "token-credential", options: { credential: {} } } };
      expect(() => new Connection(broken as typeof cfg)).to.throw(TypeError);
    });
  });
});

function requestError(number: number, message = `error ${number}`) {
  const err = new sql.RequestError(message, "EREQUEST") as sql.RequestError & { number: number };
  err.number = number;
  return err;
}

describe("mssql engine errors and retries", () => {
  it("maps our THROW numbers and SQL Server's own onto StoreError codes", () => {
    const code = (err: unknown) => (mapMssqlError(err) as StoreError).code;
    expect(code(requestError(50400))).to.equal("INVALID_INPUT");
    expect(code(requestError(50404))).to.equal("NOT_FOUND");
    expect(code(requestError(50409))).to.equal("CONFLICT");
    expect(code(requestError(50413))).to.equal("CAP_EXCEEDED");
    expect(code(requestError(50422))).to.equal("IDEMPOTENCY_MISMATCH");
    expect(code(requestError(50423))).to.equal("REQUEST_BUSY");
    expect(code(requestError(2627))).to.equal("CONFLICT");
    expect(code(requestError(2601))).to.equal("CONFLICT");
    expect(code(requestError(2628))).to.equal("INVALID_INPUT");
    expect(code(requestError(8152))).to.equal("INVALID_INPUT");
    expect(code(requestError(547, 'The INSERT statement conflicted with the FOREIGN KEY constraint "FK_X"'))).to.equal("NOT_FOUND");
    expect(code(requestError(547, 'The INSERT statement conflicted with the CHECK constraint "CK_X"'))).to.equal("INVALID_INPUT");
    expect(code(requestError(40613))).to.equal("UNAVAILABLE");
    expect(code(new sql.ConnectionError("Login failed for user 'x'.", "ELOGIN"))).to.equal("CONFIG");
    const other = requestError(1234);
    expect(mapMssqlError(other)).to.equal(other);
  });

  it("retries reads on any transient failure, writes only when the server surely did not run them", () => {
    expect(isRetryable(requestError(40613), false), "database unavailable: refused before running").to.equal(true);
    expect(isRetryable(requestError(1205), false), "deadlock victim: rolled back whole").to.equal(true);
    expect(isRetryable(requestError(10054), true), "connection reset, idempotent call").to.equal(true);
    expect(isRetryable(requestError(10054), false), "connection reset, a write may have run").to.equal(false);
    expect(isRetryable(new sql.ConnectionError("Failed to connect", "ESOCKET"), false)).to.equal(true);
    expect(isRetryable(new sql.ConnectionError("Login failed", "ELOGIN"), true)).to.equal(false);
    expect(isRetryable(requestError(50404), true)).to.equal(false);
  });

  it("repeats a retryable failure and stops at the first other one", async () => {
    let calls = 0;
    const value = await withRetry(
      async () => {
        if (++calls < 3) throw requestError(40501);
        return "ok";
      },
      false,
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, resumeBudgetMs: 0 },
    );
    expect([value, calls]).to.deep.equal(["ok", 3]);
    calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw requestError(50409);
      },
      true,
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, resumeBudgetMs: 0 },
    );
    await failing.then(
      () => expect.fail("should have failed"),
      (err: unknown) => expect((err as { number: number }).number).to.equal(50409),
    );
    expect(calls).to.equal(1);
  });

  // What the pool rejects with when tedious refused the login: tedious's own ConnectionError (the
  // server's message, code ELOGIN, no number), wrapped by mssql's ConnectionError.
  const loginRefused = (message: string) => new sql.ConnectionError(new TediousConnectionError(message, "ELOGIN") as unknown as Error);
  const resumingMessages: [number, string][] = [
    [40613, "Database 'coupons' on server 'x.database.windows.net' is not currently available. Please retry the connection later."],
    [4060, 'Cannot open database "coupons" requested by the login. The login failed.'],
    [40197, "The service has encountered an error processing your request. Please try again. Error code 4815."],
    [40501, "The service is currently busy. Retry the request after 10 seconds. Incident ID: 1. Code: 2."],
    [4221, "Login to read-secondary failed due to long wait on 'HADR_DATABASE_WAIT_FOR_TRANSITION_TO_VERSIONING'."],
    [615, "Could not find database ID 5, name 'coupons'. The database may be offline. Wait a few minutes and try again."],
  ];

  it("reads a login refused for now (serverless resume, failover, busy) as UNAVAILABLE and retryable, a bad password as CONFIG", () => {
    for (const [number, message] of resumingMessages) {
      const err = loginRefused(message);
      expect(resumingLoginNumber(err), message).to.be.oneOf([number, number === 40197 ? 40540 : number]);
      expect(isRetryable(err, false), message).to.equal(true);
      const mapped = mapMssqlError(err) as StoreError;
      expect(mapped.code, message).to.equal("UNAVAILABLE");
    }
    const wrong = loginRefused("Login failed for user 'app'.");
    expect(resumingLoginNumber(wrong)).to.equal(undefined);
    expect(isRetryable(wrong, true)).to.equal(false);
    expect((mapMssqlError(wrong) as StoreError).code).to.equal("CONFIG");
  });

  it("reads a managed-identity token failure (tedious's AggregateError with EFEDAUTH) as CONFIG, not retried", () => {
    const token = new sql.ConnectionError(
      new AggregateError([
        new TediousConnectionError("Security token could not be authenticated or authorized.", "EFEDAUTH"),
        Object.assign(new Error("ManagedIdentityCredential: no managed identity endpoint"), { name: "CredentialUnavailableError" }),
      ]),
    );
    expect(isRetryable(token, true)).to.equal(false);
    const mapped = mapMssqlError(token) as StoreError;
    expect(mapped.code).to.equal("CONFIG");
    expect(mapped.message).to.match(/managed identity/);
  });

  it("reads a request timeout as a cancelled call, not a lost connection: not retried, and said so", () => {
    const timeout = new sql.RequestError("Timeout: Request failed to complete in 30000ms", "ETIMEOUT");
    expect(isRetryable(timeout, true)).to.equal(false);
    const mapped = mapMssqlError(timeout) as StoreError;
    expect(mapped.code).to.equal("UNAVAILABLE");
    expect(mapped.message)
      .to.match(/did not finish within its time limit/)
      .and.not.match(/cannot be reached/);
    const connectTimeout = new sql.ConnectionError("Failed to connect in 15000ms", "ETIMEOUT");
    expect(isRetryable(connectTimeout, false), "a connect timeout sent nothing").to.equal(true);
  });

  it("keeps retrying a resuming login past the attempt count until its time budget, and no longer", async () => {
    const policy = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, resumeBudgetMs: 60_000 };
    let calls = 0;
    const value = await withRetry(
      async () => {
        if (++calls < 6) throw loginRefused(resumingMessages[0]?.[1] ?? "");
        return "resumed";
      },
      false,
      policy,
    );
    expect([value, calls]).to.deep.equal(["resumed", 6]);
    calls = 0;
    const spent = await withRetry(
      async () => {
        calls++;
        throw loginRefused(resumingMessages[0]?.[1] ?? "");
      },
      false,
      { ...policy, resumeBudgetMs: 0 },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(spent).to.be.instanceOf(Error);
    expect(calls).to.equal(1);
  });

  it("reports a server that cannot be reached as UNAVAILABLE (loopback, closed port)", async function () {
    this.timeout(30_000);
    const err = await openMssqlStore({ engine: "mssql", url: "mssql://sa:x@127.0.0.1:1/coupons?encrypt=false" }).then(
      () => expect.fail("connected to a closed port"),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).code).to.equal("UNAVAILABLE");
    expect((err as StoreError).message)
      .to.include("127.0.0.1:1/coupons")
      .and.not.include(":x@");
  });
});
