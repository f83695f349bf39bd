// Throttled attempts, counted in memory per (minute, subject) and written to the store in one
// batched call (recordThrottledAttempts) every few seconds and on shutdown: a storm of throttled
// requests costs no database write per request, and the fraud report still sees every one of them.
// A failed flush keeps its counts for the next one; at most MAX_PENDING keys wait (beyond that new
// keys are dropped and the drop is logged), so an outage of the database cannot grow memory unbounded.
import { type CouponStore, MAX_THROTTLED_ROWS, type ThrottleSubjectKind, type ThrottledAttempts } from "@coupons/db";

const MAX_PENDING = 100_000;

type Logger = { warn(obj: object, msg: string): void };

export class ThrottleLog {
  readonly #store: CouponStore | undefined;
  readonly #log: Logger;
  #pending = new Map<string, ThrottledAttempts>();
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(store: CouponStore | undefined, flushMs: number, log: Logger) {
    this.#store = store;
    this.#log = log;
    if (store) {
      this.#timer = setInterval(() => void this.flush(), flushMs);
      this.#timer.unref();
    }
  }

  /** One throttled attempt, for each of its subjects. */
  count(subjects: readonly { kind: ThrottleSubjectKind; key: string }[], at: Date = new Date()): void {
    if (!this.#store) return;
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    for (const s of subjects) this.#add({ minute, subjectKind: s.kind, subject: s.key, attempts: 1 });
  }

  #add(row: ThrottledAttempts): void {
    const key = `${row.minute.getTime()}|${row.subjectKind}|${row.subject}`;
    const had = this.#pending.get(key);
    if (had) had.attempts += row.attempts;
    else if (this.#pending.size < MAX_PENDING) this.#pending.set(key, { ...row });
    else this.#dropped += row.attempts;
  }

  /** Writes what was counted until now; flushes run one after the other. */
  flush(): Promise<void> {
    const next = this.#chain.then(() => this.#write());
    this.#chain = next.catch(() => {});
    return next;
  }

  async #write(): Promise<void> {
    const store = this.#store;
    if (!store || this.#pending.size === 0) return;
    const rows = [...this.#pending.values()];
    this.#pending = new Map();
    for (let i = 0; i < rows.length; i += MAX_THROTTLED_ROWS) {
      const chunk = rows.slice(i, i + MAX_THROTTLED_ROWS);
      try {
        await store.recordThrottledAttempts(chunk);
      } catch (err) {
        for (const r of rows.slice(i)) this.#add(r);
        this.#log.warn(
          { err: { message: (err as Error).message }, rows: rows.length - i },
          "throttled attempts not recorded; kept for the next flush",
        );
        break;
      }
    }
    if (this.#dropped > 0) {
      this.#log.warn({ dropped: this.#dropped }, "throttled attempts dropped: too many waiting to be recorded");
      this.#dropped = 0;
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
