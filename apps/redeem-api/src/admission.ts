// Admission per campaign, in front of the store calls of redemptions, validations and lookups: each
// campaign's calls wait in a queue of their own (KeyedLimit, the bound the engines put in front of
// the slow path) for one of `perCampaign` turns, holding no database connection while they wait. So
// a burst on one campaign (a flash sale: hundreds of requests at once) never fills the pool's one
// first-come queue ahead of the other campaigns' calls. The campaign is guessed from the code's prefix
// (prefix-index.ts); codes whose campaign is not known share one lane with a bound of its own. A wrong
// guess only changes which queue a call waits in: the database decides every outcome.
// Beyond a lane's queue, or after waiting maxWaitMs, a call is refused UNAVAILABLE (503 with
// Retry-After) having executed nothing.
import { EventEmitter } from "node:events";
import { type CouponStore, KeyedLimit, StoreError } from "@coupons/db";
import type { Logger } from "pino";
import type { AdmissionConfig } from "./admission-config.ts";
import { FairIntake, RETRY_AFTER_SECONDS } from "./intake.ts";
import { HttpProblem } from "./problems.ts";
import { PrefixIndex, UNKNOWN_LANE, prefixesOf } from "./prefix-index.ts";

/** The 503 of an operation behind admission (it also calls the database). */
export const BUSY = {
  503: "UNAVAILABLE: the database cannot be reached, or too many calls for this campaign wait already (nothing was executed); retry after Retry-After seconds",
} as const;

/** Requests of a lane in progress in the API beyond its turns to the database: one getting ready
 *  (authenticated, validated, throttled) while the others call, so a hot campaign's turns do not sit
 *  idle between calls, and no more, so a burst's work is not done ahead of its turns. */
const READY_PER_LANE = 1;

/**
 * Events: "admitted" (lane) when a call gets its turn, "queued" (lane) when it has to wait for one,
 * "refused" (lane) when it is turned away.
 */
export class Admission extends EventEmitter {
  readonly index: PrefixIndex;
  /** The fair intake in front of it (intake.ts): the same lanes, one more in progress than turns here. */
  readonly intake: FairIntake;
  readonly #config: AdmissionConfig;
  readonly #campaigns: KeyedLimit;
  readonly #unknown: KeyedLimit;

  constructor(config: AdmissionConfig, index: PrefixIndex) {
    super();
    this.#config = config;
    this.index = index;
    const bound = { maxWaitMs: config.maxWaitMs, maxQueue: config.maxQueue };
    this.#campaigns = new KeyedLimit({ ...bound, perKey: Math.max(1, config.perCampaign) });
    this.#unknown = new KeyedLimit({ ...bound, perKey: Math.max(1, config.unknownLane) });
    this.intake = new FairIntake({ ...bound, sliceMs: config.sliceMs, boundOf: (lane) => this.turns(lane) + READY_PER_LANE });
  }

  get enabled(): boolean {
    return this.#config.perCampaign > 0;
  }

  /** Calls of a lane let in flight at once. */
  turns(lane: string): number {
    return Math.max(1, lane === UNKNOWN_LANE ? this.#config.unknownLane : this.#config.perCampaign);
  }

  /** Calls in flight and waiting in a lane (`campaign:<id>` or UNKNOWN_LANE). */
  load(lane: string): { running: number; waiting: number } {
    return this.#limitOf(lane).load(lane);
  }

  /** Runs `fn` once the code's lane has a free turn; a full queue or a wait too long is 503. */
  async run<T>(code: string, fn: () => Promise<T>): Promise<T> {
    if (!this.enabled) return fn();
    const lane = this.index.laneOf(code);
    const limit = this.#limitOf(lane);
    const before = limit.load(lane);
    // the refusal does not name the campaign: a guessed code must not learn which campaign it fell in
    const turn = limit.acquire(lane, lane === UNKNOWN_LANE ? "the shared queue of codes of no known campaign" : "this campaign's queue");
    const queued = limit.load(lane).waiting > before.waiting;
    if (queued) this.emit("queued", lane);
    let release: () => void;
    try {
      release = await turn;
    } catch (err) {
      this.emit("refused", lane);
      if (!(err instanceof StoreError)) throw err;
      // KeyedLimit's UNAVAILABLE, said as it is (a store error's 5xx text would say the database is away)
      throw new HttpProblem(503, "UNAVAILABLE", "The service cannot answer now", err.message, {}, { "Retry-After": RETRY_AFTER_SECONDS });
    }
    this.emit("admitted", lane);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  start(): void {
    if (this.enabled) this.index.start();
  }

  stop(): void {
    this.index.stop();
  }

  #limitOf(lane: string): KeyedLimit {
    return lane === UNKNOWN_LANE ? this.#unknown : this.#campaigns;
  }
}

export function createAdmission(config: AdmissionConfig, store: CouponStore, logger: Logger): Admission {
  let warned = 0;
  const index = new PrefixIndex({
    load: () => prefixesOf(store),
    refreshMs: config.refreshSeconds * 1000,
    missRefreshMs: config.missRefreshSeconds * 1000,
    onError: (err) => {
      // one line a minute at most: the old index stays in use, and calls are admitted all the same
      if (Date.now() - warned < 60_000) return;
      warned = Date.now();
      logger.warn({ err: (err as Error)?.message ?? String(err) }, "admission: the prefix index could not be refreshed");
    },
  });
  return new Admission(config, index);
}
