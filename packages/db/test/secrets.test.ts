// Key Vault settings against a loopback fake of the Key Vault REST API over HTTPS: the real SecretClient
// meets a 401 Bearer challenge first, asks our fake credential for a token, and retries with it.
// Nothing but 127.0.0.1 is contacted; the fake's self-signed certificate is trusted through tlsOptions.
import { expect } from "chai";
import { type FakeServer, type Seen, fakeCredential, selfSignedCert, startFake } from "../../../scripts/test/loopback-https.ts";
import { StoreError } from "../src/contract.ts";
import { type SecretsOptions, loadSecretsIntoEnv, resolveSecretEnv, secretReferences } from "../src/secrets.ts";

const TENANT = "72f988bf-0000-4000-8000-000000000001";
const CHALLENGE = `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`;
const DB_URL = "postgres://app:hunter2-db@db.internal:5432/coupons";
const API_KEYS = '[{"name":"shop","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]';

type Vault = Record<string, { value: string; version: string } | { status: number; message: string }>;

/** The Key Vault data plane, as much as getSecret needs: challenge first, then bearer-token GETs. */
function keyVault(secrets: Vault, token = "fake-token") {
  return (req: Seen, fake: FakeServer) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      return { status: 401, headers: { "www-authenticate": CHALLENGE }, body: { error: { code: "Unauthorized", message: "no token" } } };
    }
    const u = new URL(req.path, fake.url);
    const m = /^\/secrets\/([^/]+)\/?([^/]*)$/.exec(u.pathname);
    if (req.method !== "GET" || !m || !u.searchParams.get("api-version"))
      return { status: 400, body: { error: { code: "BadRequest", message: `unexpected ${req.path}` } } };
    const entry = secrets[m[1] as string];
    if (!entry)
      return { status: 404, body: { error: { code: "SecretNotFound", message: `A secret with (name/id) ${m[1]} was not found` } } };
    if ("status" in entry) return { status: entry.status, body: { error: { code: "Failed", message: entry.message } } };
    const version = m[2] || entry.version;
    return {
      status: 200,
      body: { value: entry.value, id: `${fake.url}/secrets/${m[1]}/${version}`, attributes: { enabled: true, created: 1, updated: 1 } },
    };
  };
}

function options(
  fake: FakeServer,
  credential: SecretsOptions["credential"],
  extra: Partial<SecretsOptions["clientOptions"]> = {},
): SecretsOptions {
  return {
    vaultUrl: fake.url,
    credential,
    clientOptions: {
      tlsOptions: { ca: selfSignedCert().cert },
      retryOptions: { maxRetries: 0 },
      disableChallengeResourceVerification: true,
      ...extra,
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected a StoreError");
}

describe("settings from Azure Key Vault (loopback fake over HTTPS)", () => {
  let fake: FakeServer;
  const vault: Vault = {
    "coupons-db-url": { value: DB_URL, version: "0123456789abcdef0123456789abcdef" },
    "coupons-api-keys": { value: API_KEYS, version: "fedcba9876543210fedcba9876543210" },
    "coupons-broken": { status: 500, message: `backend failed while reading ${DB_URL}` },
    "coupons-forbidden": { status: 403, message: "Caller is not authorized" },
    "coupons-empty": { value: "", version: "00000000000000000000000000000000" },
  };
  beforeEach(async () => {
    fake = await startFake(keyVault(vault));
  });
  afterEach(() => fake.close());

  it("When COUPONS_*_SECRET names secrets, then the values land in the variables after a Bearer challenge, and the report holds no value", async () => {
    const cred = fakeCredential();
    const env: Record<string, string | undefined> = {
      COUPONS_KEYVAULT_URL: fake.url,
      COUPONS_DATABASE_URL_SECRET: "coupons-db-url",
      COUPONS_API_KEYS_SECRET: "coupons-api-keys",
      AZURE_CLIENT_SECRET: "not-a-secret-name-and-not-ours",
    };
    const { vaultUrl: _, ...opts } = options(fake, cred.credential);
    const report = await loadSecretsIntoEnv(env, opts);
    expect(env.COUPONS_DATABASE_URL).to.equal(DB_URL);
    expect(env.COUPONS_API_KEYS).to.equal(API_KEYS);
    expect(env.AZURE_CLIENT).to.equal(undefined);
    expect(report.resolved).to.deep.equal([
      { variable: "COUPONS_API_KEYS", secret: "coupons-api-keys" },
      { variable: "COUPONS_DATABASE_URL", secret: "coupons-db-url" },
    ]);
    expect(report.describe).to.include("COUPONS_DATABASE_URL <- coupons-db-url").and.not.include("hunter2");
    expect(JSON.stringify(report)).to.not.include("hunter2").and.not.include("sha256");

    // the challenge flow: the first request goes without a token (and without a body), then every one with it
    expect(fake.seen[0]?.headers.authorization).to.equal(undefined);
    const authorised = fake.seen.filter((s) => s.headers.authorization === "Bearer fake-token");
    expect(authorised.map((s) => s.path.replace(/\?.*/, "")).sort()).to.deep.equal([
      "/secrets/coupons-api-keys/",
      "/secrets/coupons-db-url/",
    ]);
    expect(fake.seen.every((s) => s.method === "GET")).to.equal(true);
    expect(cred.asked.length).to.be.greaterThan(0);
    expect(cred.asked[0]).to.deep.equal({ scopes: ["https://vault.azure.net/.default"], tenantId: TENANT });
  });

  it("When a secret is pinned as name/version, then that version is asked for", async () => {
    const cred = fakeCredential();
    const { env } = await resolveSecretEnv(
      { COUPONS_MSSQL_PASSWORD_SECRET: "coupons-db-url/aaaabbbbccccddddeeeeffff00001111" },
      undefined,
      options(fake, cred.credential),
    );
    expect(env.COUPONS_MSSQL_PASSWORD).to.equal(DB_URL);
    expect(fake.seen.at(-1)?.path).to.match(/^\/secrets\/coupons-db-url\/aaaabbbbccccddddeeeeffff00001111\?api(-|%2D)version=/);
  });

  it("When only some names are asked for, then only those are read", async () => {
    const env = {
      COUPONS_DATABASE_URL_SECRET: "coupons-db-url",
      COUPONS_API_KEYS_SECRET: "coupons-api-keys",
      OTHER_SECRET: "coupons-api-keys",
    };
    const out = await resolveSecretEnv(env, ["OTHER"], options(fake, fakeCredential().credential));
    expect(out.resolved).to.deep.equal([{ variable: "OTHER", secret: "coupons-api-keys" }]);
    expect(out.env.OTHER).to.equal(API_KEYS);
    expect(out.env.COUPONS_DATABASE_URL).to.equal(undefined);
    expect(env).to.not.have.property("OTHER"); // resolveSecretEnv returns a copy
  });

  it("When no *_SECRET variable is set, then nothing is contacted and no vault URL is needed", async () => {
    const cred = fakeCredential();
    const env = { COUPONS_DATABASE_URL: "embedded:memory" };
    const report = await loadSecretsIntoEnv(env, { credential: cred.credential });
    expect(report).to.deep.equal({ resolved: [], describe: "no settings from Key Vault" });
    expect(fake.seen).to.have.length(0);
    expect(cred.asked).to.have.length(0);
  });

  it("When the challenge names another domain than the vault's, then no token is asked for (verification stays on by default)", async () => {
    const cred = fakeCredential();
    const err = await rejection(
      resolveSecretEnv(
        { COUPONS_DATABASE_URL_SECRET: "coupons-db-url" },
        undefined,
        options(fake, cred.credential, { disableChallengeResourceVerification: false }),
      ),
    );
    expect(err.message).to.include("does not match the requested domain").and.include("COUPONS_DATABASE_URL");
    expect(cred.asked).to.have.length(0);
    expect(fake.seen.every((s) => s.headers.authorization === undefined)).to.equal(true);
  });

  it("When the vault's certificate is not trusted, then the request fails and no token is sent", async () => {
    const cred = fakeCredential();
    const opts = options(fake, cred.credential);
    opts.clientOptions = { retryOptions: { maxRetries: 0 }, disableChallengeResourceVerification: true };
    const err = await rejection(resolveSecretEnv({ COUPONS_DATABASE_URL_SECRET: "coupons-db-url" }, undefined, opts));
    expect(err.code).to.equal("UNAVAILABLE");
    expect(err.message).to.match(/certificate/i);
    expect(fake.seen).to.have.length(0);
    expect(cred.asked).to.have.length(0);
  });

  it("When a secret is missing, forbidden, empty or the vault fails, then the error names the variable and secret, never a value", async () => {
    const opts = options(fake, fakeCredential().credential);
    const missing = await rejection(resolveSecretEnv({ COUPONS_DATABASE_URL_SECRET: "coupons-nope" }, undefined, opts));
    expect(missing.code).to.equal("CONFIG");
    expect(missing.message).to.include('"coupons-nope"').and.include("COUPONS_DATABASE_URL_SECRET").and.include("does not exist");

    const forbidden = await rejection(resolveSecretEnv({ COUPONS_API_KEYS_SECRET: "coupons-forbidden" }, undefined, opts));
    expect(forbidden.code).to.equal("CONFIG");
    expect(forbidden.message).to.include("403").and.include("Key Vault Secrets User");

    const empty = await rejection(resolveSecretEnv({ COUPONS_API_KEYS_SECRET: "coupons-empty" }, undefined, opts));
    expect(empty.message).to.include("is empty");

    const broken = await rejection(
      resolveSecretEnv({ COUPONS_DATABASE_URL_SECRET: "coupons-db-url", COUPONS_API_KEYS_SECRET: "coupons-broken" }, undefined, opts),
    );
    expect(broken.code).to.equal("UNAVAILABLE");
    expect(broken.message).to.include("coupons-broken").and.not.include("hunter2");
    expect(broken.message).to.include("***");
  });

  it("refuses bad settings before contacting anything, naming the variable", async () => {
    const none = fakeCredential();
    const bad = (env: Record<string, string>) => rejection(resolveSecretEnv(env, undefined, { credential: none.credential }));
    expect((await bad({ COUPONS_DATABASE_URL_SECRET: "coupons-db-url" })).message).to.include("COUPONS_KEYVAULT_URL must be set");
    expect((await bad({ COUPONS_KEYVAULT_URL: "http://127.0.0.1:1", COUPONS_DATABASE_URL_SECRET: "x" })).message).to.include("https://");
    expect((await bad({ COUPONS_KEYVAULT_URL: fake.url, COUPONS_DATABASE_URL_SECRET: "bad name!" })).message).to.include(
      "COUPONS_DATABASE_URL_SECRET must be a Key Vault secret name",
    );
    const both = await bad({ COUPONS_KEYVAULT_URL: fake.url, COUPONS_DATABASE_URL: DB_URL, COUPONS_DATABASE_URL_SECRET: "coupons-db-url" });
    expect(both.message).to.include("COUPONS_DATABASE_URL and COUPONS_DATABASE_URL_SECRET are both set").and.not.include("hunter2");
    expect(fake.seen).to.have.length(0);
    expect(none.asked).to.have.length(0);
    expect(secretReferences({ COUPONS_X_SECRET: "  ", AZURE_CLIENT_SECRET: "s3cr3t" })).to.deep.equal([]);
  });
});
