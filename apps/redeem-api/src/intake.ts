// Fair intake: the API's one event loop takes requests in by campaign, round-robin, and at the pace
// the database answers them. Without it, a flash sale's 500 requests arriving at once were each
// logged, authenticated, validated and throttled (a few hundred microseconds of JavaScript apiece)
// before anything else ran, and then waited in admission: another campaign's request, or the
// database's answer to one, waited behind all of that work. With it, a hot request (a redemption, a
// validation, a lookup) costs only its parse on arrival (headers and JSON body); the rest of its work
// waits in its code's lane (the lanes of admission.ts). A lane has at most one more request in
// progress (started, not yet answered) than admission lets call the database at once, so a burst is
// worked through as its calls return, not all at once; each turn of the drain starts one request of
// every lane with room before any lane's second, and yields to the event loop once its slice is spent.
// A request whose client went away while it waited is dropped unstarted; one that waited longer than
// the admission wait is answered 503. The lane only orders work: a wrong guess changes nothing but
// the order. Admission off (COUPONS_ADMISSION_PER_CAMPAIGN=0) turns this off too.
import { EventEmitter } from "node:events";
import type { RequestHandler } from "express";
import { type Authenticator, presentedCredential } from "./auth.ts";
import { HttpProblem } from "./problems.ts";
import { UNKNOWN_LANE } from "./prefix-index.ts";

export type IntakeOptions = {
  /** Work per turn of the event loop before it yields (ms). */
  sliceMs: number;
  /** Requests waiting per lane; beyond it a request is refused UNAVAILABLE at once. */
  maxQueue: number;
  /** Longest wait in a lane; a request that waited longer is answered UNAVAILABLE, not started. */
  maxWaitMs: number;
  /** Requests of a lane in progress at once (started, not yet answered). */
  boundOf: (lane: string) => number;
  now?: () => number;
};

/** A request waiting in a lane. */
export type IntakeTask = {
  /** Runs the request's work; `done` is called once it has been answered (or its connection closed). */
  start(done: () => void): void;
  /** Whether the client went away while the request waited: then it is dropped, never started. */
  gone?(): boolean;
  /** Answers a request that waited longer than maxWaitMs (instead of starting it). */
  expired(waitedMs: number): void;
};

type Lane = { queue: { task: IntakeTask; at: number }[]; inProgress: number; bound: number };

/** A full lane drains in well under a second at the default bounds: come back soon. */
export const RETRY_AFTER_SECONDS = "1";

/** The 503 of a request the intake does not start (the words of admission's KeyedLimit; the unknown
 *  lane's does not name a campaign, so a guessed code learns nothing of which one it fell in). */
export function intakeRefusal(lane: string, why: string): HttpProblem {
  const queue = lane === UNKNOWN_LANE ? "the shared queue of codes of no known campaign" : "this campaign's queue";
  return new HttpProblem(
    503,
    "UNAVAILABLE",
    "The service cannot answer now",
    `${queue} is busy (${why}); nothing was executed, retry it`,
    {},
    { "Retry-After": RETRY_AFTER_SECONDS },
  );
}

/**
 * Events (each with the lane): "waiting" when a request is queued, "started" when it starts,
 * "refused" when it is turned away (a full lane, or a wait past maxWaitMs).
 */
export class FairIntake extends EventEmitter {
  readonly #opts: IntakeOptions;
  readonly #now: () => number;
  /** lane -> its waiting requests and how many are in progress; the map's order is the round-robin order. */
  readonly #lanes = new Map<string, Lane>();
  #waiting = 0;
  #scheduled = false;

  constructor(opts: IntakeOptions) {
    super();
    this.#opts = opts;
    this.#now = opts.now ?? performance.now.bind(performance);
  }

  /** Requests waiting in all lanes. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Requests of `lane` waiting and in progress. */
  load(lane: string): { waiting: number; inProgress: number } {
    const l = this.#lanes.get(lane);
    return { waiting: l?.queue.length ?? 0, inProgress: l?.inProgress ?? 0 };
  }

  /** Queues a request in `lane`; it starts in a later turn. A full lane throws UNAVAILABLE. */
  enqueue(lane: string, task: IntakeTask): void {
    let l = this.#lanes.get(lane);
    if (!l) {
      l = { queue: [], inProgress: 0, bound: Math.max(1, this.#opts.boundOf(lane)) };
      this.#lanes.set(lane, l);
    }
    // requests that will start at the next turn do not count as waiting
    const startable = Math.max(0, l.bound - l.inProgress);
    if (l.queue.length >= this.#opts.maxQueue + startable) {
      this.emit("refused", lane);
      throw intakeRefusal(lane, `${l.queue.length - startable} calls wait already`);
    }
    l.queue.push({ task, at: this.#now() });
    this.#waiting++;
    this.emit("waiting", lane);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#drain);
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    const until = performance.now() + this.#opts.sliceMs;
    for (;;) {
      // one round: every lane with a waiting request and room for one more in progress starts one
      let started = false;
      for (const [name, lane] of this.#lanes) {
        if (lane.inProgress >= lane.bound) continue;
        const next = lane.queue.shift();
        if (!next) {
          if (lane.inProgress === 0) this.#lanes.delete(name);
          continue;
        }
        this.#waiting--;
        started = true;
        if (next.task.gone?.()) continue;
        const waited = this.#now() - next.at;
        if (waited > this.#opts.maxWaitMs) {
          this.emit("refused", name);
          next.task.expired(waited);
          continue;
        }
        lane.inProgress++;
        this.emit("started", name);
        let finished = false;
        next.task.start(() => {
          if (finished) return;
          finished = true;
          lane.inProgress--;
          if (lane.queue.length > 0) this.#schedule();
          else if (lane.inProgress === 0 && this.#lanes.get(name) === lane) this.#lanes.delete(name);
        });
      }
      if (!started) return; // the rest wait for a request in progress to finish (its done schedules a drain)
      if (performance.now() >= until) {
        if (this.#waiting > 0) this.#schedule();
        return;
      }
    }
  };
}

const LOOKUP = /^\/v1\/coupons\/([^/]+)$/i;
const HOT_POSTS = new Set(["/v1/redemptions", "/v1/validations"]);

/**
 * The first middleware: redemptions and validations have their body read (by `json`, the app's own
 * body parser: it does nothing the second time) and, like lookups, wait in their code's lane; every
 * other request passes at once, as does one whose credentials are refused without waiting (missing,
 * malformed, an unknown API key): it is answered 401 at once and never takes a place in a lane, so
 * callers without a key cannot fill a campaign's queue. The credential checked here is kept in
 * `res.locals.credential` for authentication not to check it twice. What the intake refuses (a full lane, a wait past
 * maxWaitMs) and a body the parser refuses are kept in `res.locals.earlyProblem` for the app to
 * raise after the request's log and headers are set up, as every other answer.
 */
export function fairIntake(
  admission: { readonly enabled: boolean; readonly intake: FairIntake; readonly index: { laneOf(code: string): string } },
  json: RequestHandler,
  auth: Authenticator,
): RequestHandler {
  const { intake } = admission;
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
      try {
        res.locals.credential = presentedCredential(auth, req);
      } catch {
        next(); // authentication answers it 401
        return;
      }
      const lane = typeof code === "string" && code.length <= 200 ? admission.index.laneOf(code) : UNKNOWN_LANE;
      try {
        intake.enqueue(lane, {
          start(done) {
            res.once("close", done);
            next();
          },
          gone: () => req.socket.destroyed,
          expired(waitedMs) {
            res.locals.earlyProblem = intakeRefusal(lane, `the request waited ${Math.round(waitedMs)} ms`);
            next();
          },
        });
      } catch (refused) {
        res.locals.earlyProblem = refused;
        next();
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
      if (err) res.locals.earlyProblem = err;
      queue((req.body as { code?: unknown } | undefined)?.code);
    });
  };
}
