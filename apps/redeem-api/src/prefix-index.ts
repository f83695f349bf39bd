// Which campaign a coupon code belongs to, guessed from its prefix, without asking the database: codes
// are made as `<prefix><random>` per generation request, and each request names its campaign and
// prefix. The index holds every (prefix, campaign) pair of the generation requests, answers with the
// campaign of the longest prefix a code starts with, and is refreshed in the background (every
// `refreshMs`) and when a code matches no prefix (at most once per `missRefreshMs`). It only steers
// scheduling (admission.ts): a wrong or stale answer puts a call in another queue, and the database
// still decides everything about the call.
import { EventEmitter } from "node:events";
import { type CouponStore, MAX_PAGE, normalizeCode } from "@coupons/db";

export type PrefixEntry = { prefix: string; campaignId: string };

/** The lane of codes whose campaign is not known: no prefix matches, or their requests had none. */
export const UNKNOWN_LANE = "unknown";

export type PrefixIndexOptions = {
  /** Reads every (prefix, campaign) pair; the index keeps the last good answer when it fails. */
  load: () => Promise<PrefixEntry[]>;
  /** Background refresh period; 0: none (refresh() and misses only). */
  refreshMs: number;
  /** A code that matches no prefix starts a refresh, at most this often. */
  missRefreshMs: number;
  /** Told why a refresh failed (the old index stays in use). */
  onError?: (err: unknown) => void;
  now?: () => number;
};

/**
 * Events: "refreshed" (entries) after each successful load.
 */
export class PrefixIndex extends EventEmitter {
  readonly #opts: PrefixIndexOptions;
  readonly #now: () => number;
  /** prefix -> the lane of its campaign (two campaigns sharing one prefix share one lane). */
  #lanes = new Map<string, string>();
  #longest = 0;
  #loading: Promise<void> | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: PrefixIndexOptions) {
    super();
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** How many prefixes are known. */
  get size(): number {
    return this.#lanes.size;
  }

  /**
   * The lane of a code: `campaign:<id>` of the longest known prefix it starts with (compared as
   * codes are: ASCII letters upper-cased), else UNKNOWN_LANE; a miss starts a refresh (throttled).
   */
  laneOf(code: string): string {
    const c = normalizeCode(code);
    for (let n = Math.min(this.#longest, c.length); n > 0; n--) {
      const lane = this.#lanes.get(c.slice(0, n));
      if (lane !== undefined) return lane;
    }
    if (this.#now() - this.#lastStart >= this.#opts.missRefreshMs) void this.refresh().catch(() => {});
    return UNKNOWN_LANE;
  }

  /** Loads the pairs again (one load at a time: a call during a load joins it). */
  refresh(): Promise<void> {
    if (this.#loading) return this.#loading;
    this.#lastStart = this.#now();
    this.#loading = this.#opts
      .load()
      .then(
        (entries) => {
          this.#replace(entries);
          this.emit("refreshed", entries);
        },
        (err) => {
          this.#opts.onError?.(err);
          throw err;
        },
      )
      .finally(() => {
        this.#loading = null;
      });
    return this.#loading;
  }

  /** Starts the background refresh (a first load at once); the timer never keeps the process alive. */
  start(): void {
    if (this.#timer || this.#opts.refreshMs <= 0) return;
    void this.refresh().catch(() => {});
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), this.#opts.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #replace(entries: PrefixEntry[]): void {
    const campaigns = new Map<string, Set<string>>();
    for (const { prefix, campaignId } of entries) {
      const p = normalizeCode(prefix);
      if (p === "") continue; // codes without a prefix say nothing about their campaign
      const set = campaigns.get(p) ?? new Set<string>();
      set.add(campaignId);
      campaigns.set(p, set);
    }
    const lanes = new Map<string, string>();
    let longest = 0;
    for (const [p, ids] of campaigns) {
      lanes.set(p, `campaign:${[...ids].sort().join(",")}`);
      longest = Math.max(longest, p.length);
    }
    this.#lanes = lanes;
    this.#longest = longest;
  }
}

/** Every generation request's (prefix, campaign), page by page (newest first). */
export async function prefixesOf(store: CouponStore): Promise<PrefixEntry[]> {
  const out: PrefixEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listGenerationRequests({ limit: MAX_PAGE, after });
    for (const r of page) out.push({ prefix: r.prefix, campaignId: r.campaignId });
    const last = page.at(-1);
    if (page.length < MAX_PAGE || !last) return out;
    after = last.requestId;
  }
}
