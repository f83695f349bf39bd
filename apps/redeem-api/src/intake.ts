// Fair intake: the API's one event loop takes requests in by campaign, round-robin, a bounded slice
// of work per turn. Without it, a flash sale's 500 requests arriving at once are each authenticated,
// validated and throttled (a few hundred microseconds of JavaScript apiece) before anything else
// runs: another campaign's request, or the database's answer to one, waits behind all of them (about
// 100 ms). With it, a request costs only its parse (headers and JSON body) on arrival; the rest of its
// work waits in its campaign's lane (admission.ts names lanes the same way), and each turn of the
// drain gives every waiting lane one request before any lane gets a second, then yields to the event
// loop once the slice is spent, so I/O (a database answer, a new request) is served between slices.
// The lane only orders work: a wrong guess changes nothing but the order. Admission off
// (COUPONS_ADMISSION_PER_CAMPAIGN=0) turns this off too.
import type { RequestHandler } from "express";
import type { Admission } from "./admission.ts";
import { HttpProblem } from "./problems.ts";
import { UNKNOWN_LANE } from "./prefix-index.ts";

export type IntakeOptions = {
  /** Work per turn of the event loop before it yields (ms). */
  sliceMs: number;
  /** Requests waiting per lane; beyond it a request is refused UNAVAILABLE at once. */
  maxQueue: number;
};

export class FairIntake {
  readonly #opts: IntakeOptions;
  /** lane -> waiting starts, in arrival order; the map's order is the round-robin order. */
  readonly #lanes = new Map<string, Array<() => void>>();
  #waiting = 0;
  #scheduled = false;

  constructor(opts: IntakeOptions) {
    this.#opts = opts;
  }

  /** Requests waiting in all lanes. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Queues `start` in `lane`; it runs in a later turn. A full lane throws UNAVAILABLE. */
  enqueue(lane: string, start: () => void): void {
    let queue = this.#lanes.get(lane);
    if (!queue) {
      queue = [];
      this.#lanes.set(lane, queue);
    }
    if (queue.length >= this.#opts.maxQueue) {
      throw new HttpProblem(
        503,
        "UNAVAILABLE",
        "The service cannot answer now",
        `${queue.length} requests wait already in this campaign's queue; nothing was executed`,
        {},
        { "Retry-After": "1" },
      );
    }
    queue.push(start);
    this.#waiting++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    const until = performance.now() + this.#opts.sliceMs;
    while (this.#waiting > 0) {
      // one round: every lane that waits gives one request
      for (const [lane, queue] of this.#lanes) {
        const start = queue.shift();
        if (queue.length === 0) this.#lanes.delete(lane);
        if (!start) continue;
        this.#waiting--;
        start();
      }
      if (performance.now() >= until) break;
    }
    if (this.#waiting > 0) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  };
}

const LOOKUP = /^\/v1\/coupons\/([^/]+)$/i;
const HOT_POSTS = new Set(["/v1/redemptions", "/v1/validations"]);

/**
 * The first middleware: redemptions and validations have their body read (by `json`, the app's own
 * body parser: it does nothing the second time) and, like lookups, wait in their code's lane; every
 * other request passes at once. A body the parser refuses is kept in `res.locals.bodyError` for the
 * app's body step to raise where it always has (after the request's log and headers are set up).
 */
export function fairIntake(admission: Admission, json: RequestHandler, opts: IntakeOptions): RequestHandler {
  const intake = new FairIntake(opts);
  return (req, res, next) => {
    if (!admission.enabled) {
      next();
      return;
    }
    const post = req.method === "POST" && HOT_POSTS.has(req.path.toLowerCase());
    const lookup = !post && (req.method === "GET" || req.method === "HEAD") ? LOOKUP.exec(req.path) : null;
    if (!post && !lookup) {
      next();
      return;
    }
    const queue = (code: unknown) => {
      const lane = typeof code === "string" && code.length <= 200 ? admission.index.laneOf(code) : UNKNOWN_LANE;
      try {
        intake.enqueue(lane, () => next());
      } catch (refused) {
        next(refused);
      }
    };
    if (lookup) {
      let code: string | null = null;
      try {
        code = decodeURIComponent(lookup[1] as string);
      } catch {}
      queue(code);
      return;
    }
    json(req, res, (err?: unknown) => {
      if (err) res.locals.bodyError = err;
      queue((req.body as { code?: unknown } | undefined)?.code);
    });
  };
}
