// A bound on calls in flight per key (a p-limit style semaphore keyed by, say, campaign id), with a
// bounded wait. The SQL engines put it in front of a redemption's slow path (sp_RedeemCoupon with
// p_Slow, which locks all 16 counter slots of one campaign): those calls serialise on the campaign's
// slot locks anyway, so letting more of them in only parks pool connections on a lock, and one hot
// campaign would starve the others of connections. Waiters wait here, holding no connection.
import { StoreError } from "./contract.ts";

export type KeyedLimitOptions = {
  /** Calls in flight per key. */
  perKey: number;
  /** Longest wait for a turn; then the call is refused UNAVAILABLE, having executed nothing. */
  maxWaitMs: number;
  /** Most waiters per key; one more is refused UNAVAILABLE at once. */
  maxQueue: number;
};

type Waiter = { grant: () => void; timer: NodeJS.Timeout };
type Lane = { running: number; waiting: Waiter[] };

export class KeyedLimit {
  readonly #opts: KeyedLimitOptions;
  readonly #lanes = new Map<string, Lane>();

  constructor(opts: KeyedLimitOptions) {
    this.#opts = opts;
  }

  /** Calls in flight and waiting for a key (for tests and metrics). */
  load(key: string): { running: number; waiting: number } {
    const lane = this.#lanes.get(key);
    return { running: lane?.running ?? 0, waiting: lane?.waiting.length ?? 0 };
  }

  /** Resolves with a release function once the key has a free turn. */
  acquire(key: string, what: string): Promise<() => void> {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.#lanes.set(key, lane);
    }
    const l = lane;
    const release = this.#releaser(key, l);
    if (l.running < this.#opts.perKey) {
      l.running++;
      return Promise.resolve(release);
    }
    if (l.waiting.length >= this.#opts.maxQueue) {
      return Promise.reject(this.#busy(what, `${l.waiting.length} calls wait already`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve(release);
        },
        timer: setTimeout(() => {
          const i = l.waiting.indexOf(waiter);
          if (i >= 0) l.waiting.splice(i, 1);
          this.#forget(key, l);
          reject(this.#busy(what, `no turn came free within ${this.#opts.maxWaitMs} ms`));
        }, this.#opts.maxWaitMs),
      };
      l.waiting.push(waiter);
    });
  }

  #releaser(key: string, lane: Lane): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = lane.waiting.shift();
      if (next) {
        next.grant(); // the turn passes on: running stays the same
        return;
      }
      lane.running--;
      this.#forget(key, lane);
    };
  }

  #forget(key: string, lane: Lane): void {
    if (lane.running === 0 && lane.waiting.length === 0 && this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }

  #busy(what: string, why: string): StoreError {
    return new StoreError("UNAVAILABLE", `${what} is busy (${why}); nothing was executed, retry it`);
  }
}
