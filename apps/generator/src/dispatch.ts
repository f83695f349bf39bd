// The design card's way to run requests on Azure (`coupons dispatch`): one Azure Container Instances
// container group per Requested generation request, launched through Resource Manager with the
// generator's user-assigned identity (aci.ts: the same group `coupons launch` makes, named after the
// request, so a request never gets two groups), and deleted once it has ended (a group left behind
// costs money). Groups run with restart policy Never, and the dispatcher is the restart policy:
//   exit 0                                the request is done: delete the group;
//   exit 5, 6, killed, evicted/stopped    resumable: delete, launch again (attempt n+1, up to a limit;
//                                         past it the request is Failed with the last exit);
//   exit 4                                another live worker holds the request: delete, leave it to it;
//   exit 1, 2, 3, any other, or a group   permanent: the request is marked Failed with the exit's
//   that could not be provisioned         meaning (unless it already ended), then the group is deleted.
// It wakes on the store's push (PostgreSQL NOTIFY) and looks at the queue and the groups every pollMs.
// The ended group is the durable record of an exit: a dispatcher restarted later still sees it.
import type { TokenCredential } from "@azure/identity";
import type { ContainerGroup, ContainerInstanceManagementClientOptionalParams } from "@azure/arm-containerinstance";
import type { CouponStore } from "@coupons/db";
import pLimit from "p-limit";
import {
  GROUP_DEFAULTS,
  type LaunchOptions,
  containerGroupName,
  containerGroupsClient,
  describeFailure,
  launchGenerationJob,
} from "./aci.ts";
import { EXIT } from "./errors.ts";
import { jitter } from "./worker.ts";

export type DispatchEvent =
  | { type: "launched"; requestId: string; group: string; attempt: number }
  | { type: "launch-failed"; requestId: string; reason: string }
  | { type: "ended"; requestId: string; group: string; exitCode: number | null; outcome: Outcome }
  | { type: "failed"; requestId: string; reason: string }
  | { type: "deleted"; requestId: string; group: string }
  | { type: "idle"; waitingMs: number }
  | { type: "exit"; reason: "once" | "signal"; launched: number; deleted: number };

export type DispatchOptions = {
  /** The container groups' spec (resolveLaunchSpec in commands/launch.ts) without the request. */
  spec: Omit<LaunchOptions, "credential" | "requestId" | "attempt">;
  credential: TokenCredential;
  clientOptions?: ContainerInstanceManagementClientOptionalParams;
  /** Long-running operation polling interval of ARM calls. */
  pollIntervalMs?: number;
  /** One look at the groups and the queue, then return. */
  once?: boolean;
  /** Stops the dispatcher after the pass in flight (SIGTERM). Groups keep running. */
  signal?: AbortSignal;
  /** Longest wait between looks (default 15 s); a new request wakes it at once where the store pushes. */
  pollMs?: number;
  /** Launches of one request before it is Failed (default 5). */
  maxLaunches?: number;
  /** Groups created at once (default 8). */
  parallel?: number;
  onEvent?: (e: DispatchEvent) => void;
};

export type DispatchReport = { launched: string[]; deleted: string[]; failed: string[]; exit: "once" | "signal" };

type Outcome = "done" | "resumable" | "held-elsewhere" | "permanent";

const MEANING: Record<number, string> = {
  [EXIT.FAILED]: "failed",
  [EXIT.USAGE]: "usage: a bad or missing setting",
  [EXIT.REFUSED]: "refused",
  [EXIT.BUSY]: "busy",
  [EXIT.INTERRUPTED]: "interrupted",
  [EXIT.UNAVAILABLE]: "database unavailable",
  137: "killed",
  143: "terminated",
};

/** What an ended container's exit means for its request (null: stopped or evicted without an exit code). */
export function outcomeOf(exitCode: number | null): Outcome {
  if (exitCode === EXIT.OK) return "done";
  if (exitCode === EXIT.BUSY) return "held-elsewhere";
  if (exitCode === null || exitCode === EXIT.INTERRUPTED || exitCode === EXIT.UNAVAILABLE || exitCode === 137 || exitCode === 143)
    return "resumable";
  return "permanent";
}

type Ended = { exitCode: number | null; detail: string };

/** The group's end, or null while it is provisioning or running. */
function endOf(g: ContainerGroup): Ended | null {
  if (g.provisioningState === "Failed") return { exitCode: null, detail: "the container group could not be provisioned" };
  const c = g.containers[0]?.instanceView?.currentState;
  if (c?.state === "Terminated") return { exitCode: c.exitCode ?? null, detail: c.detailStatus ?? "" };
  const s = g.instanceView?.state;
  if (s === "Stopped" || s === "Failed" || s === "Succeeded") return { exitCode: null, detail: `group ${s}` };
  return null;
}

export async function runDispatcher(store: CouponStore, o: DispatchOptions): Promise<DispatchReport> {
  const emit = o.onEvent ?? (() => {});
  const maxLaunches = o.maxLaunches ?? 5;
  const pollMs = o.pollMs ?? 15_000;
  const rg = o.spec.resourceGroup;
  const client = containerGroupsClient({ ...o.spec, credential: o.credential, clientOptions: o.clientOptions });
  const lro = o.pollIntervalMs !== undefined ? { updateIntervalInMs: o.pollIntervalMs } : {};
  const report: DispatchReport = { launched: [], deleted: [], failed: [], exit: "once" };
  const limit = pLimit(o.parallel ?? 8);

  const launch = async (requestId: string, attempt: number) => {
    try {
      const r = await launchGenerationJob({
        ...o.spec,
        requestId,
        attempt,
        credential: o.credential,
        clientOptions: o.clientOptions,
        pollIntervalMs: o.pollIntervalMs,
      });
      report.launched.push(requestId);
      emit({ type: "launched", requestId, group: r.name, attempt });
    } catch (err) {
      emit({ type: "launch-failed", requestId, reason: (err as Error).message });
    }
  };

  const fail = async (requestId: string, reason: string) => {
    const now = await store.getGenerationRequest(requestId);
    if (now?.status !== "Requested" && now?.status !== "Generating") return;
    await store.updateGenerationRequest(requestId, "Failed", reason.slice(0, 1000));
    report.failed.push(requestId);
    emit({ type: "failed", requestId, reason });
  };

  const remove = async (requestId: string, group: string) => {
    try {
      await client.containerGroups.beginDeleteAndWait(rg, group, lro);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw describeFailure(err, `deleting container group ${group}`);
    }
    report.deleted.push(group);
    emit({ type: "deleted", requestId, group });
  };

  /** Handles one of our groups; true while it still stands for its request. */
  const sweep = async (name: string, requestId: string, attempt: number): Promise<boolean> => {
    const g = await client.containerGroups.get(rg, name);
    const end = endOf(g);
    if (!end) return true;
    const outcome = g.provisioningState === "Failed" ? "permanent" : outcomeOf(end.exitCode);
    emit({ type: "ended", requestId, group: name, exitCode: end.exitCode, outcome });
    const what = `${end.exitCode === null ? "no exit code" : `exit ${end.exitCode}${MEANING[end.exitCode] ? ` (${MEANING[end.exitCode]})` : ""}`}${end.detail ? `, ${end.detail}` : ""}`;
    if (outcome === "permanent") await fail(requestId, `generator container ${name} ended: ${what}; see its logs`);
    const request = outcome === "resumable" ? await store.getGenerationRequest(requestId) : null;
    const again = request?.status === "Requested" || request?.status === "Generating";
    if (again && attempt >= maxLaunches) await fail(requestId, `gave up after ${attempt} container runs; the last ended with ${what}`);
    await remove(requestId, name);
    if (again && attempt < maxLaunches) {
      await launch(requestId, attempt + 1);
      return true;
    }
    return false;
  };

  const pass = async () => {
    const ours = new Map<string, { requestId: string; attempt: number }>();
    for await (const g of client.containerGroups.listByResourceGroup(rg)) {
      const requestId = g.tags?.[GROUP_DEFAULTS.tagRequest];
      if (g.tags?.app !== GROUP_DEFAULTS.tagApp || !g.name || !requestId) continue;
      ours.set(g.name, { requestId, attempt: Number(g.tags?.[GROUP_DEFAULTS.tagAttempt]) || 1 });
    }
    const standing = new Set<string>();
    await Promise.all(
      [...ours].map(([name, g]) =>
        limit(async () => {
          if (await sweep(name, g.requestId, g.attempt)) standing.add(g.requestId);
        }),
      ),
    );
    const waiting = await store.listGenerationRequests({ status: "Requested", limit: 100 });
    await Promise.all(
      waiting.filter((r) => !standing.has(r.requestId) && !ours.has(safeName(r.requestId))).map((r) => limit(() => launch(r.requestId, 1))),
    );
  };

  // A push during a pass is remembered, so the next wait ends at once.
  let woke = false;
  let wake: () => void = () => {};
  const notify = () => {
    woke = true;
    wake();
  };
  o.signal?.addEventListener("abort", notify);
  const watch = o.once ? null : await store.watchGenerationRequests(notify).catch(() => null);
  try {
    for (;;) {
      if (o.signal?.aborted) {
        report.exit = "signal";
        break;
      }
      woke = false;
      await pass();
      if (o.once) break;
      if (woke) continue;
      const waitingMs = jitter(pollMs);
      emit({ type: "idle", waitingMs });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (wake = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, waitingMs))),
      ]);
      clearTimeout(timer);
    }
  } finally {
    o.signal?.removeEventListener("abort", notify);
    await watch?.close().catch(() => {});
  }
  emit({ type: "exit", reason: report.exit, launched: report.launched.length, deleted: report.deleted.length });
  return report;
}

/** The group name of a request id, or "" for an id no group can be named after (launch reports it). */
function safeName(requestId: string): string {
  try {
    return containerGroupName(requestId);
  } catch {
    return "";
  }
}
