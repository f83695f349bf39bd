// `coupons apikey create`: the key printed once and its entry, which the redeem API accepts as it is:
// through a keys file (COUPONS_API_KEYS_FILE) with the API started by the root `npm run api` script's
// own command, and through Key Vault: the entry added to the secret on a loopback fake of the Key Vault
// REST API over HTTPS (the real SecretClient, a 401 Bearer challenge, a fake credential), then read back
// the way the API reads it at start (COUPONS_API_KEYS_SECRET).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { Command } from "commander";
import { resolveSecretEnv } from "../../../packages/db/src/secrets.ts";
import { findKey } from "../../redeem-api/src/auth.ts";
import { loadConfig } from "../../redeem-api/src/config.ts";
import { startApiProcess } from "../../redeem-api/test/helpers.ts";
import { type FakeServer, type Seen, fakeCredential, selfSignedCert, startFake } from "../../../scripts/test/loopback-https.ts";
import { registerApiKeyCommands } from "../src/commands/apikey.ts";
import type { CliContext } from "../src/commands/context.ts";
import { EXIT } from "../src/index.ts";
import { ROOT, cli, explain, tempDir } from "./helpers.ts";

const KEY = /^cpn_[A-Za-z0-9_-]{43}$/;
const CHALLENGE =
  'Bearer authorization="https://login.microsoftonline.com/72f988bf-0000-4000-8000-000000000001", resource="https://vault.azure.net"';

/** Key Vault's data plane for one secret store: GET (latest) and PUT (a new version), behind a Bearer challenge. */
function keyVault(secrets: Map<string, string>) {
  let version = 0;
  return (req: Seen, fake: FakeServer) => {
    if (req.headers.authorization !== "Bearer fake-token") {
      return { status: 401, headers: { "www-authenticate": CHALLENGE }, body: { error: { code: "Unauthorized", message: "no token" } } };
    }
    const u = new URL(req.path, fake.url);
    const name = /^\/secrets\/([^/]+)\/?$/.exec(u.pathname)?.[1];
    if (!name) return { status: 400, body: { error: { code: "BadRequest", message: req.path } } };
    if (req.method === "PUT") {
      const { value } = JSON.parse(req.body) as { value: string };
      secrets.set(name, value);
      version++;
    }
    const value = secrets.get(name);
    if (value === undefined) return { status: 404, body: { error: { code: "SecretNotFound", message: `${name} was not found` } } };
    const v = String(version).padStart(32, "0");
    return { status: 200, body: { value, id: `${fake.url}/secrets/${name}/${v}`, attributes: { enabled: true, created: 1, updated: 1 } } };
  };
}

/** Runs `apikey <args>` in this process with --json, Key Vault reached through `vault`; returns its JSON. */
async function createInProcess(args: string[], vault: Parameters<typeof registerApiKeyCommands>[2]): Promise<Record<string, unknown>> {
  const program = new Command("coupons").exitOverride().option("--json");
  const ctx = { globals: () => ({ json: true }), config: () => ({}), setExit: () => {} } as unknown as CliContext;
  registerApiKeyCommands(program, ctx, vault);
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((c: string) => chunks.push(String(c)) > 0) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "coupons", "apikey", "create", ...args]);
  } finally {
    process.stdout.write = write;
  }
  return JSON.parse(chunks.join(""));
}

describe("coupons apikey create", function () {
  this.timeout(90_000);
  const dir = tempDir();
  after(() => dir.remove());

  it("When a key is made with --file, then the file holds its entry (mode 600) and `npm run api`'s command serves that key's scopes and refuses others", async () => {
    const file = join(dir.path, "keys", "api-keys.json");
    const made = await cli(["--json", "apikey", "create", "--id", "shop", "--scopes", "Redeem,read", "--file", file]);
    expect(made.code, explain(made)).to.equal(EXIT.OK);
    const out = JSON.parse(made.stdout) as { key: string; entry: { id: string; sha256: string; scopes: string[] } };
    expect(out.key).to.match(KEY);
    expect(out.entry).to.deep.include({ id: "shop", scopes: ["redeem", "read"] });
    expect(readFileSync(file, "utf8"), "the file holds the hash, never the key").to.not.contain(out.key);
    expect(statSync(file).mode & 0o777).to.equal(0o600);

    const again = await cli(["apikey", "create", "--id", "shop", "--file", file]);
    expect(again.code, explain(again)).to.equal(EXIT.REFUSED);
    expect(again.stderr).to.contain("has a key with id shop already");
    expect(JSON.parse(readFileSync(file, "utf8"))).to.have.length(1);

    // the root package.json's `api` script, run as it is written (node -> this Node)
    const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.api;
    const [node, ...args] = (script ?? "").split(" ");
    expect(node).to.equal("node");
    const api = await startApiProcess(args, {
      COUPONS_API_KEYS_FILE: file,
      COUPONS_DATABASE_URL: "embedded:memory",
      COUPONS_API_PORT: "0",
      COUPONS_API_HOST: "127.0.0.1",
    });
    try {
      const get = (key: string) => fetch(`http://127.0.0.1:${api.port}/v1/campaigns`, { headers: { "x-api-key": key } });
      expect((await get(out.key)).status).to.equal(200);
      expect((await get(`${out.key.slice(0, -1)}x`)).status).to.equal(401);
      const admin = await fetch(`http://127.0.0.1:${api.port}/v1/campaigns`, {
        method: "POST",
        headers: { "x-api-key": out.key, "content-type": "application/json" },
        body: "{}",
      });
      expect(admin.status, "no admin scope").to.equal(403);
    } finally {
      api.child.kill("SIGKILL");
    }
  });

  it("When no key is configured, then the API's message names COUPONS_API_KEYS_FILE and `coupons apikey create`", () => {
    expect(() => loadConfig({})).to.throw(/COUPONS_API_KEYS_FILE.*coupons apikey create/);
    expect(() => loadConfig({ COUPONS_API_KEYS_FILE: join(dir.path, "missing.json") })).to.throw(/cannot be read \(ENOENT\)/);
  });

  describe("with --key-vault (loopback fake Key Vault over HTTPS)", () => {
    let fake: FakeServer;
    const secrets = new Map<string, string>();
    beforeEach(async () => {
      secrets.clear();
      fake = await startFake(keyVault(secrets));
    });
    afterEach(() => fake.close());

    it("When two keys are made, then the secret holds both entries and the API, reading it as COUPONS_API_KEYS_SECRET, accepts both keys", async () => {
      const cred = fakeCredential();
      const vault = {
        vault: {
          credential: cred.credential,
          clientOptions: {
            tlsOptions: { ca: selfSignedCert().cert },
            retryOptions: { maxRetries: 0 },
            disableChallengeResourceVerification: true,
          },
        },
      };
      const first = await createInProcess(["--id", "shop", "--key-vault", fake.url], vault);
      const second = await createInProcess(
        ["--id", "billing", "--scopes", "read", "--key-vault", fake.url, "--secret", "coupons-api-keys"],
        vault,
      );
      expect(first.keyVault).to.deep.include({ url: fake.url, secret: "coupons-api-keys" });
      const puts = fake.seen.filter((s) => s.method === "PUT");
      expect(puts).to.have.length(2);
      for (const p of puts) expect(p.body, "the key itself never leaves the process").to.not.contain(first.key).and.not.contain(second.key);

      const { env } = await resolveSecretEnv({ COUPONS_API_KEYS_SECRET: "coupons-api-keys" }, undefined, {
        vaultUrl: fake.url,
        ...vault.vault,
      });
      const config = loadConfig(env);
      expect(config.apiKeys.map((k) => k.id)).to.deep.equal(["shop", "billing"]);
      expect(findKey(config.apiKeys, first.key as string)?.id).to.equal("shop");
      expect([...(findKey(config.apiKeys, second.key as string)?.scopes ?? [])]).to.deep.equal(["read"]);

      let refused: unknown;
      await createInProcess(["--id", "shop", "--key-vault", fake.url], vault).catch((e) => {
        refused = e;
      });
      expect(String(refused)).to.contain("has a key with id shop already");
      expect(fake.seen.filter((s) => s.method === "PUT")).to.have.length(2, "nothing written for a refused id");
    });
  });
});
