// scripts/deploy: deploy.sh --dry-run prints every step and runs none (az, sqlcmd, npm, docker, curl and git
// are stubs on PATH that record any call), and the Bicep files hang together: every module exists, gets only
// parameters it declares and every one it requires, deploy.sh reads only outputs main.bicep has, and the
// security settings the seed asks for are present. One launcher: generator-aci.bicep and scripts/aci-launch.sh
// build the container group `coupons launch` builds (GROUP_DEFAULTS), and the Container Apps Jobs run commands
// the CLI has. No Bicep compiler is available here (see docs/deployment.md).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { expect } from "chai";
import { GROUP_DEFAULTS, containerGroupName } from "../../apps/generator/src/aci.ts";
import { buildProgram } from "../../apps/generator/src/cli.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "scripts/deploy");
const STUBBED = ["az", "sqlcmd", "npm", "npx", "node", "docker", "curl", "wget", "git", "bicep"];
const ADMIN_ID = "11111111-2222-3333-4444-555555555555";

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "coupons-deploy-"));
  const bin = join(dir, "bin");
  const log = join(dir, "calls.log");
  spawnSync("mkdir", ["-p", bin]);
  for (const tool of STUBBED) {
    const p = join(bin, tool);
    writeFileSync(p, `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexit 97\n`);
    chmodSync(p, 0o755);
  }
  const keys = join(dir, "api-keys.json");
  writeFileSync(keys, '[{"id":"shop","sha256":"deadbeef-not-a-real-hash-VALUE","scopes":["redeem"]}]');
  return {
    dir,
    keys,
    calls: () => (existsSync(log) ? readFileSync(log, "utf8") : ""),
    run: (args: string[]) =>
      spawnSync("bash", [join(DEPLOY, "deploy.sh"), ...args], {
        cwd: dir,
        encoding: "utf8",
        timeout: 20_000,
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, LANG: "C" },
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe("deploy.sh --dry-run", () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => {
    box = sandbox();
  });
  afterEach(() => box.remove());

  const args = (extra: string[] = []) => [
    "--dry-run",
    "--resource-group",
    "rg-coupons-test",
    "--location",
    "westeurope",
    "--sql-admin-login",
    "Coupons SQL Admins",
    "--sql-admin-object-id",
    ADMIN_ID,
    "--tag",
    "1.4.0",
    ...extra,
  ];

  it("When every option is given, then it prints all six steps with their commands and calls no tool", () => {
    const r = box.run(args(["--api-keys-file", box.keys, "--client-ip", "203.0.113.7", "--deployer-object-id", ADMIN_ID]));
    expect(r.status, r.stderr).to.equal(0);
    const out = r.stdout;
    expect(box.calls(), "no tool may run in a dry run").to.equal("");
    expect(out).to.include("DRY RUN");
    const steps = [...out.matchAll(/^== step (\d+): (.*)$/gm)].map((m) => m[2]);
    expect(steps).to.have.length(6);
    const lines = out.split("\n").filter((l) => l.startsWith("+ "));
    const find = (re: RegExp) => lines.filter((l) => re.test(l));
    expect(find(/^\+ az group create --name rg-coupons-test --location westeurope/)).to.have.length(1);
    const deployments = find(/^\+ az deployment group create .*main\.bicep/);
    expect(deployments).to.have.length(2);
    expect(deployments[0]).to.include("deployApi=false").and.include(`sqlAdminObjectId=${ADMIN_ID}`).and.include("Coupons\\ SQL\\ Admins");
    expect(deployments[1]).to.include("deployApi=true").and.include("apiImage=\\<registryLoginServer\\>/coupons-redeem-api:1.4.0");
    expect(find(/^\+ az acr build .*coupons-generator:1\.4\.0 .*Dockerfile\.generator/)).to.have.length(1);
    expect(find(/^\+ az acr build .*coupons-redeem-api:1\.4\.0 .*Dockerfile\.api/)).to.have.length(1);
    expect(find(/^\+ az keyvault secret set .*--name coupons-api-keys --file /)).to.have.length(1);
    expect(find(/^\+ az sql server firewall-rule create .*--start-ip-address 203\.0\.113\.7/)).to.have.length(1);
    expect(find(/^\+ az sql server firewall-rule delete /)).to.have.length(1);
    expect(find(/^\+ env COUPONS_MSSQL_SERVER=.* COUPONS_MSSQL_AUTH=default npm --prefix .* run --silent migrate$/)).to.have.length(1);
    expect(find(/^\+ sqlcmd .*ActiveDirectoryDefault .*database\/mssql\/0004_security\.sql$/)).to.have.length(1);
    expect(find(/^\+ sqlcmd .*--input-file .*generatorIdentityName.*\.sql$/)).to.have.length(1);
    expect(find(/^\+ sqlcmd .*--input-file .*apiIdentityName.*\.sql$/)).to.have.length(1);
    // order: infrastructure, images, secret, database, API
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const order = [/deployApi=false/, /az acr build/, /keyvault secret set/, /0004_security/, /firewall-rule delete/, /deployApi=true/].map(
      at,
    );
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(out).to.not.include("not-a-real-hash-VALUE");
    expect(out).to.include("launch --request-id");
  });

  it("When optional parts are left out, then their steps say so and the rest still prints", () => {
    const r = box.run(args(["--skip-images"]));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include("skipped (--skip-images)").and.include("skipped: no --api-keys-file");
    expect(r.stdout).to.not.include("firewall-rule");
    expect(box.calls()).to.equal("");
  });

  it("When a required setting is missing or malformed, then it exits 2 naming it, before any step", () => {
    const cases: [string[], string][] = [
      [["--dry-run", "--location", "westeurope"], "--resource-group"],
      [args(["--sql-admin-object-id", "nope"]), "--sql-admin-object-id"],
      [args(["--client-ip", "1.2.3"]), "--client-ip"],
      [args(["--prefix", "Bad-Prefix"]), "--prefix"],
      [args(["--api-keys-file", "/nonexistent/keys.json"]), "--api-keys-file"],
      [args(["--bogus"]), "unknown argument --bogus"],
    ];
    for (const [a, word] of cases) {
      const r = box.run(a);
      expect(r.status, a.join(" ")).to.equal(2);
      expect(r.stderr).to.include(word);
      expect(r.stdout).to.not.include("== step");
    }
    expect(box.calls()).to.equal("");
  });
});

// --- the Bicep files, checked structurally -------------------------------------------------------

type BicepParam = { name: string; required: boolean };

function params(file: string): BicepParam[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^param (\w+) (\w+)( = .*)?$/gm)].map((m) => ({ name: m[1] as string, required: !m[3] }));
}

function modules(file: string) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^module (\w+) '([^']+)' = (?:if \([^)]*\) )?\{\n([\s\S]*?)\n\}$/gm)].map((m) => {
    const body = m[3] as string;
    const block = /\n {2}params: \{\n([\s\S]*?)\n {2}\}/.exec(`\n${body}`)?.[1] ?? "";
    return {
      symbol: m[1] as string,
      path: join(dirname(file), m[2] as string),
      passed: [...block.matchAll(/^ {4}(\w+):/gm)].map((p) => p[1] as string),
    };
  });
}

describe("scripts/deploy Bicep files", () => {
  const main = join(DEPLOY, "main.bicep");

  it("main.bicep's modules exist and get exactly the parameters they declare (all required ones)", () => {
    const mods = modules(main);
    expect(mods.map((m) => m.symbol)).to.include.members([
      "monitoring",
      "identities",
      "registry",
      "keyVault",
      "sql",
      "storage",
      "environment",
      "api",
      "jobs",
    ]);
    for (const m of mods) {
      expect(existsSync(m.path), m.path).to.equal(true);
      const declared = params(m.path);
      const names = declared.map((p) => p.name);
      for (const p of m.passed) expect(names, `${m.symbol} passes ${p}`).to.include(p);
      for (const p of declared.filter((d) => d.required)) expect(m.passed, `${m.symbol} needs ${p.name}`).to.include(p.name);
    }
  });

  it("deploy.sh reads only outputs and passes only parameters that main.bicep has", () => {
    const text = readFileSync(main, "utf8");
    const outputs = new Set([...text.matchAll(/^output (\w+) /gm)].map((m) => m[1]));
    const script = readFileSync(join(DEPLOY, "deploy.sh"), "utf8");
    const read = [...script.matchAll(/\$\(output (\w+)\)/g)].map((m) => m[1]);
    expect(read.length).to.be.greaterThan(5);
    for (const o of read) expect(outputs.has(o), `output ${o}`).to.equal(true);
    const declared = params(main).map((p) => p.name);
    const passed = [
      ...script.matchAll(/^\s+(\w+)="\$\w+"$/gm),
      ...script.matchAll(/ (deployApi|apiImage|deployJobs|generatorImage)=/g),
    ].map((m) => m[1] as string);
    expect(passed).to.include.members(["deployJobs", "generatorImage"]);
    for (const p of passed) expect(declared, `parameter ${p}`).to.include(p);
    for (const p of params(main).filter((d) => d.required)) expect(passed, `deploy.sh must pass ${p.name}`).to.include(p.name);
  });

  it("keeps the security settings: Entra-only TLS 1.2 SQL, RBAC Key Vault, key-less private Blob storage, the right roles, Never-restarted ACI jobs", () => {
    const read = (f: string) => readFileSync(join(DEPLOY, f), "utf8");
    const sql = read("modules/sql.bicep");
    expect(sql)
      .to.include("minimalTlsVersion: '1.2'")
      .and.include("azureADOnlyAuthentication: true")
      .and.include("administratorType: 'ActiveDirectory'");
    const kv = read("modules/keyvault.bicep");
    expect(kv).to.include("enableRbacAuthorization: true");
    expect(kv).to.include("4633458b-17de-408a-b874-0445c86b69e6"); // Key Vault Secrets User
    expect(kv).to.include("b86a8fe4-44ce-4948-aee5-eccb2c155cd7"); // Key Vault Secrets Officer
    expect(read("modules/registry.bicep")).to.include("7f951dda-4ed3-4680-a7ca-43fe172d538d").and.include("adminUserEnabled: false"); // AcrPull
    const app = read("modules/containerapp.bicep");
    expect(app)
      .to.include("type: 'UserAssigned'")
      .and.include("path: '/healthz'")
      .and.include("path: '/readyz'")
      .and.include("allowInsecure: false");
    const aci = read("generator-aci.bicep");
    expect(aci).to.include("restartPolicy: 'Never'").and.include("type: 'UserAssigned'").and.include("COUPONS_REQUEST_ID");
    expect(read("modules/storage.bicep"))
      .to.include("allowSharedKeyAccess: false")
      .and.include("allowBlobPublicAccess: false")
      .and.include("minimumTlsVersion: 'TLS1_2'")
      .and.include("ba92f5b4-2d11-453d-a403-e96b0029c9fe"); // Storage Blob Data Contributor
    // every Bicep file balances its braces and brackets (a cheap guard against a broken edit)
    for (const f of [
      "main.bicep",
      "generator-aci.bicep",
      ...[
        "monitoring",
        "appinsights",
        "identities",
        "registry",
        "keyvault",
        "sql",
        "storage",
        "environment",
        "containerapp",
        "jobs",
        "launcher-role",
      ].map((m) => `modules/${m}.bicep`),
    ]) {
      const t = read(f)
        .replace(/'[^'\n]*'/g, "''")
        .replace(/\/\/.*$/gm, "");
      for (const [o, c] of [
        ["{", "}"],
        ["[", "]"],
        ["(", ")"],
      ] as const) {
        expect(t.split(o).length, `${f} ${o}${c}`).to.equal(t.split(c).length);
      }
    }
  });
});

describe("one launcher: the Bicep template, scripts/aci-launch.sh and the jobs agree with the CLI", () => {
  const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

  it("generator-aci.bicep has the TypeScript launcher's restart policy, resources, container name and tags", () => {
    const aci = read("scripts/deploy/generator-aci.bicep");
    expect(aci).to.include(`restartPolicy: '${GROUP_DEFAULTS.restartPolicy}'`);
    expect(aci).to.match(new RegExp(`^param cpu int = ${GROUP_DEFAULTS.cpu}$`, "m"));
    expect(aci).to.match(new RegExp(`^param memoryInGB string = '${GROUP_DEFAULTS.memoryInGB}'$`, "m"));
    expect(aci).to.include(`name: '${GROUP_DEFAULTS.containerName}'`);
    expect(aci).to.include(`app: '${GROUP_DEFAULTS.tagApp}'`);
    expect(aci).to.include(`'${GROUP_DEFAULTS.tagRequest}': requestId`).and.include(`'${GROUP_DEFAULTS.tagAttempt}': '1'`);
    // the name has no default of its own: it is the one `coupons launch --dry-run` prints
    expect(aci).to.match(/^param containerGroupName string$/m);
  });

  it("scripts/aci-launch.sh --dry-run prints the group `coupons launch` builds: its name and restart policy", () => {
    const dir = mkdtempSync(join(tmpdir(), "coupons-aci-launch-"));
    try {
      const r = spawnSync("bash", [join(ROOT, "scripts/aci-launch.sh"), "--request-id", "Spring_2026.A", "--dry-run"], {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
        env: {
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
          HOME: dir,
          AZ_RESOURCE_GROUP: "rg-coupons",
          AZ_LOCATION: "westeurope",
          COUPONS_IMAGE: "acr.azurecr.io/coupons-generator:1.0",
          AZ_IDENTITY_ID:
            "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-coupons/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gen",
          COUPONS_DATABASE_URL: "postgres://u:hunter2@db.internal/coupons",
        },
      });
      expect(r.status, r.stderr).to.equal(0);
      const printed = JSON.parse(r.stdout);
      expect(printed.name).to.equal(containerGroupName("Spring_2026.A"));
      expect(printed.body.restartPolicy).to.equal(GROUP_DEFAULTS.restartPolicy);
      expect(printed.body.containers[0].resources.requests).to.deep.equal({
        cpu: GROUP_DEFAULTS.cpu,
        memoryInGB: GROUP_DEFAULTS.memoryInGB,
      });
      expect(r.stdout).to.not.include("hunter2");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Container Apps Jobs run commands and options the CLI has, with the KEDA scaler counting Requested requests", () => {
    const jobs = read("scripts/deploy/modules/jobs.bicep");
    const program = buildProgram(() => {});
    const argsOf = (re: RegExp) => (re.exec(jobs)?.[1] ?? "").split(",").map((a) => a.trim().replace(/^'|'$/g, ""));
    const [command, ...options] = argsOf(/command: \['node', 'apps\/generator\/dist\/main\.js'\]\n\s+args: \[([^\]]*)\]/);
    const worker = program.commands.find((c) => c.name() === command);
    expect(worker, `coupons ${command}`).to.not.equal(undefined);
    for (const o of options)
      expect(
        worker?.options.map((x) => x.long),
        o,
      ).to.include(o);
    expect(options).to.deep.equal(["--once"]);
    expect(argsOf(/command: \['node', 'apps\/generator\/dist\/ops-main\.js'\]\n\s+args: \[([^\]]*)\]/)).to.deep.equal(["archive"]);
    // every scheduled operations job runs a command, with options, that the operations program has
    const opsJobs = [...jobs.matchAll(/command: \['node', 'apps\/generator\/dist\/ops-main\.js'\]\n\s+args: \[([^\]]*)\]/g)].map((m) =>
      (m[1] ?? "").split(",").map((a) => a.trim().replace(/^'|'$/g, "")),
    );
    expect(opsJobs.map((a) => a[0])).to.deep.equal(["archive", "purge-idempotency-keys"]);
    for (const [name, ...args] of opsJobs) {
      const cmd = program.commands.find((c) => c.name() === name);
      expect(cmd, `coupons ${name}`).to.not.equal(undefined);
      for (const a of args.filter((x) => x.startsWith("--")))
        expect(
          cmd?.options.map((x) => x.long),
          a,
        ).to.include(a);
    }
    expect(existsSync(join(ROOT, "apps/generator/src/ops-main.ts"))).to.equal(true);
    expect(jobs).to.include("triggerType: 'Event'").and.include("type: 'mssql'").and.include("triggerType: 'Schedule'");
    expect(jobs).to.match(/SELECT COUNT\(\*\) FROM dbo\.GenerationRequests WHERE Status = N'Requested'/);
    expect(jobs).to.include("name: 'COUPONS_ARCHIVE_BLOB_URL'");
  });
});
