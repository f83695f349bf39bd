// Test support: a loopback fake of Azure Resource Manager for many container groups (create, read,
// list by resource group, delete), over HTTPS with the throw-away certificate of loopback-https.ts.
// A test ends a group's container with end(name, exitCode); every call is recorded in fake.seen.
import { type FakeServer, type Reply, type Seen, selfSignedCert, startFake } from "../../../scripts/test/loopback-https.ts";

type Group = { body: Record<string, unknown> & { properties: Record<string, unknown>; tags?: Record<string, string> }; exitCode?: number };

export type ArmFake = FakeServer & {
  groups: Map<string, Group>;
  /** The container of `name` terminates with this exit code. */
  end(name: string, exitCode: number): void;
  calls(method: string, name?: string): Seen[];
};

const GROUP = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/containerGroups(?:\/([^/]+))?$/;

export const armClientOptions = () => ({ tlsOptions: { ca: selfSignedCert().cert }, retryOptions: { maxRetries: 0 } });

function view(name: string, path: string, g: Group) {
  const props = g.body.properties as { containers: { name: string; properties: Record<string, unknown> }[] };
  const ended = g.exitCode !== undefined;
  const currentState = ended ? { state: "Terminated", exitCode: g.exitCode, detailStatus: "Completed" } : { state: "Running" };
  return {
    ...g.body,
    id: path,
    name,
    type: "Microsoft.ContainerInstance/containerGroups",
    properties: {
      ...props,
      provisioningState: "Succeeded",
      instanceView: { state: ended ? "Stopped" : "Running" },
      containers: props.containers.map((c) => ({ ...c, properties: { ...c.properties, instanceView: { currentState, restartCount: 0 } } })),
    },
  };
}

export async function startArmFake(token = "arm-token"): Promise<ArmFake> {
  const groups = new Map<string, Group>();
  const handle = (req: Seen, fake: FakeServer): Reply => {
    if (req.headers.authorization !== `Bearer ${token}`) return { status: 401, body: { error: { code: "AuthenticationFailed" } } };
    const u = new URL(req.path, fake.url);
    const m = GROUP.exec(u.pathname);
    if (!m) return { status: 404, body: { error: { code: "NotFound", message: `${req.method} ${u.pathname}` } } };
    const name = m[3];
    if (!name && req.method === "GET") {
      const prefix = u.pathname;
      return { status: 200, body: { value: [...groups].map(([n, g]) => view(n, `${prefix}/${n}`, g)) } };
    }
    if (!name) return { status: 405, body: { error: { code: "MethodNotAllowed" } } };
    const existing = groups.get(name);
    if (req.method === "PUT") {
      groups.set(name, { body: JSON.parse(req.body) });
      return { status: existing ? 200 : 201, body: view(name, u.pathname, groups.get(name) as Group) };
    }
    if (!existing) return { status: 404, body: { error: { code: "ResourceNotFound", message: name } } };
    if (req.method === "GET") return { status: 200, body: view(name, u.pathname, existing) };
    if (req.method === "DELETE") {
      groups.delete(name);
      return { status: 200, body: view(name, u.pathname, existing) };
    }
    return { status: 405, body: { error: { code: "MethodNotAllowed" } } };
  };
  const fake = (await startFake(handle)) as ArmFake;
  fake.groups = groups;
  fake.end = (name, exitCode) => {
    const g = groups.get(name);
    if (!g) throw new Error(`no container group ${name}`);
    g.exitCode = exitCode;
  };
  fake.calls = (method, name) =>
    fake.seen.filter((s) => s.method === method && (name === undefined || new URL(s.path, fake.url).pathname.endsWith(`/${name}`)));
  return fake;
}
