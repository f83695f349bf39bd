// Launching a request's ACI job against a loopback fake of Azure Resource Manager over HTTPS: the real
// ContainerInstanceManagementClient PUTs the container group, follows the long-running operation
// (Azure-AsyncOperation) to Succeeded, and reads the group back. Nothing but 127.0.0.1 is contacted.
import { expect } from "chai";
import { Command } from "commander";
import { type FakeServer, type Reply, type Seen, fakeCredential, selfSignedCert, startFake } from "../../../scripts/test/loopback-https.ts";
import { buildContainerGroup, containerGroupName, launchGenerationJob, masked } from "../src/aci.ts";
import { registerLaunchCommand } from "../src/commands/launch.ts";
import { GeneratorError } from "../src/errors.ts";

const SUB = "00000000-1111-2222-3333-444444444444";
const RG = "coupons-prod";
const IDENTITY = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/coupons-generator`;
const CLIENT_ID = "99999999-8888-7777-6666-555555555555";
const IMAGE = "couponsacr.azurecr.io/coupons-generator:1.4.0";
const DB_URL = "postgres://app:hunter2@db.internal:5432/coupons?sslmode=verify-full";

type ArmState = { group?: Record<string, unknown>; polls: number; failWith?: Reply; finalStatus?: string };

/** ARM for container groups: PUT answers 201 + Azure-AsyncOperation, the operation is InProgress once, then final. */
function arm(state: ArmState) {
  return (req: Seen, fake: FakeServer): Reply => {
    if (req.headers.authorization !== "Bearer arm-token")
      return { status: 401, body: { error: { code: "AuthenticationFailed", message: "no token" } } };
    const u = new URL(req.path, fake.url);
    const groupPath =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/containerGroups\/([^/]+)$/.exec(
        u.pathname,
      );
    if (groupPath && req.method === "PUT") {
      if (state.failWith) return state.failWith;
      const body = JSON.parse(req.body) as Record<string, unknown> & { properties: Record<string, unknown> };
      state.group = {
        ...body,
        id: u.pathname,
        name: groupPath[3],
        type: "Microsoft.ContainerInstance/containerGroups",
        properties: { ...body.properties, provisioningState: "Pending" },
      };
      return {
        status: 201,
        headers: {
          "azure-asyncoperation": `${fake.url}/providers/Microsoft.ContainerInstance/operations/op-1?api-version=2023-05-01`,
          "retry-after": "0",
        },
        body: state.group,
      };
    }
    if (u.pathname === "/providers/Microsoft.ContainerInstance/operations/op-1" && req.method === "GET") {
      state.polls++;
      const status = state.polls < 2 ? "InProgress" : (state.finalStatus ?? "Succeeded");
      return {
        status: 200,
        headers: { "retry-after": "0" },
        body: { status, ...(status === "Failed" ? { error: { code: "ImagePullFailed", message: "pull access denied" } } : {}) },
      };
    }
    if (groupPath && req.method === "GET" && state.group) {
      const g = state.group as { properties: Record<string, unknown> };
      return { status: 200, body: { ...g, properties: { ...g.properties, provisioningState: "Succeeded" } } };
    }
    return { status: 404, body: { error: { code: "NotFound", message: `${req.method} ${u.pathname}` } } };
  };
}

const clientOptions = () => ({ tlsOptions: { ca: selfSignedCert().cert }, retryOptions: { maxRetries: 0 } });

type EnvVar = { name: string; value?: string; secureValue?: string };
function containerEnv(body: string): EnvVar[] {
  const b = JSON.parse(body) as { properties: { containers: { properties: { environmentVariables: EnvVar[] } }[] } };
  return b.properties.containers[0]?.properties.environmentVariables ?? [];
}

describe("launching a generation request on Azure Container Instances (loopback ARM fake)", () => {
  let fake: FakeServer;
  let state: ArmState;
  beforeEach(async () => {
    state = { polls: 0 };
    fake = await startFake(arm(state));
  });
  afterEach(() => fake.close());

  it("When a request is launched, then ARM gets the identity, image, request id, secure database URL, restart policy Never and attempt 1, and the operation is followed to Succeeded", async () => {
    const cred = fakeCredential("arm-token");
    const r = await launchGenerationJob({
      subscriptionId: SUB,
      resourceGroup: RG,
      location: "westeurope",
      image: IMAGE,
      identityResourceId: IDENTITY,
      identityClientId: CLIENT_ID,
      requestId: "REQ-2026_Spring.01",
      env: { COUPONS_DATABASE_URL: DB_URL, COUPONS_KEYVAULT_URL: "https://coupons-kv.vault.azure.net" },
      credential: cred.credential,
      endpoint: fake.url,
      clientOptions: clientOptions(),
      pollIntervalMs: 5,
    });
    expect(r.name).to.match(/^coupons-gen-req-2026-spring-01-[0-9a-f]{8}$/);
    expect(r.provisioningState).to.equal("Succeeded");
    expect(state.polls).to.equal(2);

    const put = fake.seen.find((s) => s.method === "PUT");
    expect(put, "a PUT reached the fake").to.not.equal(undefined);
    const url = new URL(put!.path, fake.url);
    expect(url.pathname).to.equal(
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/${r.name}`,
    );
    expect(url.searchParams.get("api-version")).to.match(/^\d{4}-\d{2}-\d{2}/);
    const body = JSON.parse(put!.body);
    expect(body.location).to.equal("westeurope");
    expect(body.identity).to.deep.equal({ type: "UserAssigned", userAssignedIdentities: { [IDENTITY]: {} } });
    expect(body.properties.restartPolicy).to.equal("Never");
    expect(body.tags).to.deep.equal({ app: "coupons-generator", "coupons-request-id": "REQ-2026_Spring.01", "coupons-attempt": "1" });
    expect(body.properties.osType).to.equal("Linux");
    expect(body.properties.imageRegistryCredentials).to.deep.equal([{ server: "couponsacr.azurecr.io", identity: IDENTITY }]);
    const container = body.properties.containers[0];
    expect(container.properties.image).to.equal(IMAGE);
    expect(container.properties.resources.requests).to.deep.equal({ cpu: 1, memoryInGB: 1.5 });
    const env = containerEnv(put!.body);
    expect(env).to.deep.include({ name: "COUPONS_REQUEST_ID", value: "REQ-2026_Spring.01" });
    expect(env).to.deep.include({ name: "COUPONS_DATABASE_URL", secureValue: DB_URL });
    expect(env.find((e) => e.name === "COUPONS_DATABASE_URL")).to.not.have.property("value");
    expect(env).to.deep.include({ name: "COUPONS_KEYVAULT_CLIENT_ID", value: CLIENT_ID });
    expect(env).to.deep.include({ name: "AZURE_CLIENT_ID", value: CLIENT_ID });

    // every call carried the bearer token, asked for the endpoint's own scope
    expect(fake.seen.every((s) => s.headers.authorization === "Bearer arm-token")).to.equal(true);
    expect(cred.asked[0]?.scopes).to.deep.equal([`${fake.url}/.default`]);
  });

  it("When Azure SQL settings are given with the identity's client id, then the container authenticates as that identity", () => {
    const { containerGroup } = buildContainerGroup({
      subscriptionId: SUB,
      resourceGroup: RG,
      location: "westeurope",
      image: IMAGE,
      identityResourceId: IDENTITY,
      identityClientId: CLIENT_ID,
      requestId: "r1",
      env: { COUPONS_MSSQL_SERVER: "coupons.database.windows.net", COUPONS_MSSQL_DATABASE: "coupons", COUPONS_MSSQL_PASSWORD: "pw" },
    });
    const env = containerGroup.containers[0]?.environmentVariables ?? [];
    expect(env).to.deep.include({ name: "COUPONS_MSSQL_AUTH", value: "managed-identity" });
    expect(env).to.deep.include({ name: "COUPONS_MSSQL_CLIENT_ID", value: CLIENT_ID });
    expect(env).to.deep.include({ name: "COUPONS_MSSQL_PASSWORD", secureValue: "pw" });
    expect(JSON.stringify(masked(containerGroup))).to.not.include('"pw"');
  });

  it("When ARM refuses the caller, then the error says which roles are needed; when the operation fails, then it is reported", async () => {
    const base = {
      subscriptionId: SUB,
      resourceGroup: RG,
      location: "westeurope",
      image: IMAGE,
      identityResourceId: IDENTITY,
      requestId: "r-403",
      env: { COUPONS_DATABASE_URL: DB_URL },
      credential: fakeCredential("arm-token").credential,
      endpoint: fake.url,
      clientOptions: clientOptions(),
      pollIntervalMs: 5,
    };
    state.failWith = { status: 403, body: { error: { code: "AuthorizationFailed", message: "no write on Microsoft.ContainerInstance" } } };
    const refused = await launchGenerationJob(base).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(GeneratorError);
    expect((refused as GeneratorError).message)
      .to.include("HTTP 403")
      .and.include("Managed Identity Operator")
      .and.not.include("hunter2");

    state.failWith = undefined;
    state.finalStatus = "Failed";
    const failed = await launchGenerationJob({ ...base, requestId: "r-fail" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(GeneratorError);
    expect((failed as GeneratorError).message).to.include("coupons-gen-r-fail-");
  });

  it("names container groups validly and distinctly, and refuses bad request ids", () => {
    const long = containerGroupName(`A${"b".repeat(99)}`);
    expect(long.length).to.be.at.most(63);
    for (const id of ["A", "x__y", "-lead", "Req.1", "req-1", "---", `A${"b".repeat(99)}`]) {
      const n = containerGroupName(id);
      expect(n, id).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(n.length, id).to.be.at.most(63);
    }
    expect(containerGroupName("Req.1")).to.not.equal(containerGroupName("req-1"));
    expect(() => containerGroupName("bad id")).to.throw(GeneratorError, "--request-id");
    expect(() => containerGroupName("")).to.throw(GeneratorError);
  });
});

function program(deps: Parameters<typeof registerLaunchCommand>[1]) {
  const p = new Command("coupons").option("--database <url>").exitOverride();
  registerLaunchCommand(p, deps).exitOverride();
  return p;
}

describe("coupons launch", () => {
  let fake: FakeServer;
  let state: ArmState;
  beforeEach(async () => {
    state = { polls: 0 };
    fake = await startFake(arm(state));
  });
  afterEach(() => fake.close());
  const env = {
    AZ_RESOURCE_GROUP: RG,
    AZ_LOCATION: "westeurope",
    COUPONS_IMAGE: IMAGE,
    AZ_IDENTITY_ID: IDENTITY,
    AZ_IDENTITY_CLIENT_ID: CLIENT_ID,
    COUPONS_MSSQL_SERVER: "coupons.database.windows.net",
    COUPONS_MSSQL_DATABASE: "coupons",
    COUPONS_DATABASE_URL_SECRET: "coupons-db-url",
    HOME: "/root",
    COUPONS_LOG_ANALYTICS_WORKSPACE_ID: "ws-customer-id",
    COUPONS_LOG_ANALYTICS_KEY: "la-shared-key-VALUE",
  };

  it("When --dry-run is given, then it prints the PUT with secrets masked and contacts nothing", async () => {
    const outs: string[] = [];
    const cred = fakeCredential("arm-token");
    await program({ credential: cred.credential, out: (t) => outs.push(t), err: () => {}, env }).parseAsync(
      ["launch", "--request-id", "spring-1", "--dry-run", "--env", "EXTRA_TOKEN=t0ps3cret", "--cpu", "2"],
      { from: "user" },
    );
    const printed = JSON.parse(outs.join(""));
    expect(printed.method).to.equal("PUT");
    expect(printed.url).to.equal(
      `https://management.azure.com/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/${printed.name}`,
    );
    expect(printed.body.restartPolicy).to.equal("Never");
    expect(printed.body.containers[0].resources.requests.cpu).to.equal(2);
    const vars = printed.body.containers[0].environmentVariables as EnvVar[];
    expect(vars).to.deep.include({ name: "COUPONS_REQUEST_ID", value: "spring-1" });
    expect(vars).to.deep.include({ name: "EXTRA_TOKEN", secureValue: "***" });
    expect(vars).to.deep.include({ name: "COUPONS_DATABASE_URL_SECRET", secureValue: "***" });
    expect(vars.map((v) => v.name)).to.not.include("HOME");
    expect(outs.join("")).to.not.include("t0ps3cret").and.not.include("la-shared-key-VALUE");
    expect(printed.body.diagnostics.logAnalytics).to.deep.equal({ workspaceId: "ws-customer-id", workspaceKey: "***" });
    expect(fake.seen).to.have.length(0);
    expect(cred.asked).to.have.length(0);
  });

  it("When run against an ARM endpoint, then it creates the group and prints its name and state", async () => {
    const outs: string[] = [];
    await program({
      credential: fakeCredential("arm-token").credential,
      clientOptions: clientOptions(),
      pollIntervalMs: 5,
      out: (t) => outs.push(t),
      err: () => {},
      env: { ...env, AZ_ARM_ENDPOINT: fake.url },
    }).parseAsync(["launch", "--request-id", "spring-2", "--arm-endpoint", fake.url], { from: "user" });
    const printed = JSON.parse(outs.join(""));
    expect(printed).to.include({ requestId: "spring-2", provisioningState: "Succeeded" });
    const put = fake.seen.find((s) => s.method === "PUT");
    expect(containerEnv(put!.body)).to.deep.include({ name: "COUPONS_MSSQL_CLIENT_ID", value: CLIENT_ID });
  });

  it("When settings are missing or the database is embedded, then it refuses before contacting anything", async () => {
    const run = async (e: Record<string, string>, args: string[] = []) => {
      try {
        await program({ credential: fakeCredential().credential, out: () => {}, err: () => {}, env: e }).parseAsync(
          ["launch", "--request-id", "x", "--dry-run", ...args],
          { from: "user" },
        );
      } catch (err) {
        return err as Error;
      }
      return null;
    };
    const { AZ_LOCATION: _, ...noLocation } = env;
    expect((await run(noLocation))?.message).to.include("--location (or AZ_LOCATION)");
    expect((await run(env, ["--database", "embedded:./x"]))?.message).to.include("embedded database");
    const { COUPONS_MSSQL_SERVER: _s, COUPONS_DATABASE_URL_SECRET: _d, ...noDb } = env;
    expect((await run(noDb))?.message).to.include("needs a database");
    expect(fake.seen).to.have.length(0);
  });
});
