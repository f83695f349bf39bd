// The read commands on an embedded data folder that the redeem API holds: PGlite cannot be opened by a
// second process (not even to read), so when the folder is busy and its owner published itself
// (@coupons/db local-api.ts: `<folder>.api.json`), these commands ask that API instead, over loopback
// HTTP with the key it made for this run. Only the reads the commands make are served this way
// (campaigns, their statistics, generation requests, the fraud report); anything else is refused saying what to do.
import {
  type Campaign,
  type CouponStore,
  type FraudReportRow,
  type GenerationRequest,
  type ListedCampaign,
  type LocalApi,
  type RedemptionStats,
  type StatsSeries,
  StoreError,
  openStore,
  readLocalApi,
} from "@coupons/db";
import { type CliContext, storeConfig } from "./context.ts";

/** Dates travel as ISO text: fields named *Date or *At become Dates again, as the store gives them. */
function revive(key: string, value: unknown): unknown {
  return typeof value === "string" && /(Date|At)$/.test(key) && /^\d{4}-\d\d-\d\dT/.test(value) ? new Date(value) : value;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** The reads of a CouponStore, answered by the API that holds the folder. */
export function apiReadStore(api: LocalApi): CouponStore {
  const get = async <T>(path: string): Promise<T | null> => {
    let res: Response;
    try {
      res = await fetch(`${api.url}${path}`, { headers: { "x-api-key": api.key, accept: "application/json" } });
    } catch (err) {
      throw new StoreError(
        "UNAVAILABLE",
        `the redeem API at ${api.url} (process ${api.pid}), which holds the embedded database, does not answer`,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (res.status === 404) return null;
    if (!res.ok) {
      const detail = (() => {
        try {
          return (JSON.parse(text) as { detail?: string; title?: string }).detail ?? res.statusText;
        } catch {
          return res.statusText;
        }
      })();
      throw new StoreError("UNAVAILABLE", `the redeem API at ${api.url} answered ${res.status}: ${detail}`);
    }
    return JSON.parse(text, revive) as T;
  };
  const enc = encodeURIComponent;
  const reads: Partial<CouponStore> = {
    engine: "embedded",
    getCampaign: (id: string) => get<Campaign>(`/v1/campaigns/${enc(id)}`),
    listCampaigns: async (f = {}) =>
      (await get<{ campaigns: ListedCampaign[] }>(`/v1/campaigns${query({ state: f.state, limit: f.limit, cursor: f.after })}`))
        ?.campaigns ?? [],
    getGenerationRequest: async (id: string) => strip(await get<GenerationRequest>(`/v1/generation-requests/${enc(id)}`)),
    listGenerationRequests: async (f = {}) =>
      (
        (
          await get<{ requests: GenerationRequest[] }>(
            `/v1/generation-requests${query({ campaignId: f.campaignId, status: f.status, limit: f.limit, cursor: f.after })}`,
          )
        )?.requests ?? []
      ).map((r) => strip(r) as GenerationRequest),
    getRedemptionStats: async (id: string) => {
      const answer = await get<RedemptionStats & { series?: unknown }>(`/v1/campaigns/${enc(id)}/stats`);
      if (!answer) return null;
      const { series: _, ...stats } = answer;
      return stats;
    },
    getCampaignStatsSeries: async (id, o) => {
      const q = query({ interval: o.interval, since: o.since?.toISOString(), until: o.until?.toISOString() });
      const answer = await get<{ series?: SeriesDocument }>(`/v1/campaigns/${enc(id)}/stats${q}`);
      return answer?.series ? seriesOf(answer.series) : null;
    },
    fraudReport: async (input) => {
      const q = query({ by: input.by, since: input.since.toISOString(), until: input.until.toISOString(), top: input.top });
      const answer = await get<{ rows: (Omit<FraudReportRow, "firstSeen" | "lastSeen"> & { firstSeen: string; lastSeen: string })[] }>(
        `/v1/fraud-report${q}`,
      );
      return (answer?.rows ?? []).map((r) => ({ ...r, firstSeen: new Date(r.firstSeen), lastSeen: new Date(r.lastSeen) }));
    },
    close: async () => {},
  };
  return new Proxy(reads as CouponStore, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver);
      if (typeof prop === "symbol" || prop === "then") return undefined;
      return () => {
        throw new StoreError(
          "REQUEST_BUSY",
          `the redeem API (process ${api.pid}, ${api.url}) holds the embedded database, and this command cannot go through it; stop the API, or use PostgreSQL for more than one process`,
        );
      };
    },
  });
}

/** The series as the API writes it: instants as ISO text. */
type SeriesDocument = Omit<StatsSeries, "since" | "until" | "points"> & {
  since: string;
  until: string;
  points: (Omit<StatsSeries["points"][number], "start"> & { start: string })[];
};

function seriesOf(d: SeriesDocument): StatsSeries {
  return {
    ...d,
    since: new Date(d.since),
    until: new Date(d.until),
    points: d.points.map((p) => ({ ...p, start: new Date(p.start) })),
  };
}

/** The API's answer without what it adds to the stored request (progressPercent). */
function strip(r: (GenerationRequest & { progressPercent?: number }) | null): GenerationRequest | null {
  if (!r) return null;
  const { progressPercent: _, ...rest } = r;
  return rest;
}

/** Opens the configured store for a read command; on an embedded folder the redeem API holds, asks the
 *  API instead (saying so on stderr). */
export async function withReadStore<T>(ctx: CliContext, fn: (store: CouponStore) => Promise<T>): Promise<T> {
  const config = storeConfig(ctx.globals());
  let store: CouponStore;
  try {
    store = await openStore(config, { applicationName: "coupons-generator" });
  } catch (err) {
    const api =
      err instanceof StoreError && err.code === "REQUEST_BUSY" && config.engine === "embedded" && config.dataDir !== "memory"
        ? readLocalApi(config.dataDir)
        : null;
    if (!api) throw err;
    process.stderr.write(`(the redeem API, process ${api.pid} at ${api.url}, holds the embedded database: read through it)\n`);
    return fn(apiReadStore(api));
  }
  try {
    return await fn(store);
  } finally {
    await store.close().catch(() => {});
  }
}
