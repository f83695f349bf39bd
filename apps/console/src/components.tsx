// Small shared pieces: a loader hook, times with their UTC time on hover, the limit bar, the
// loading / error / empty states that say what happened, and a confirmation dialog.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { num, relative, utc } from "./format.ts";

export type Loaded<T> =
  | { state: "loading"; data?: T; error?: undefined }
  | { state: "ok"; data: T; error?: undefined }
  | { state: "error"; data?: T; error: unknown };

/** Runs `load` when `key` changes; `reload()` runs it again keeping the data shown meanwhile. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> & { reload(): Promise<void> } {
  const [value, setValue] = useState<Loaded<T>>({ state: "loading" });
  const current = useRef(key);
  const loadRef = useRef(load);
  loadRef.current = load;
  const run = useCallback(async () => {
    const asked = current.current;
    try {
      const data = await loadRef.current();
      if (current.current === asked) setValue({ state: "ok", data });
    } catch (error) {
      if (current.current === asked) setValue((v) => ({ state: "error", data: v.data, error }));
    }
  }, []);
  useEffect(() => {
    current.current = key;
    setValue({ state: "loading" });
    void run();
  }, [key, run]);
  return { ...value, reload: run };
}

export function When({ iso }: { iso: string | null }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={utc(iso)}>
      {relative(iso)}
    </time>
  );
}

/** used of limit as a bar; without a limit, only the count. */
export function LimitBar({ used, limit, label }: { used: number; limit: number | null; label: string }) {
  if (limit === null || limit <= 0) return <span>{num(used)} (no limit)</span>;
  return (
    <div class="limit">
      <meter min={0} max={limit} value={Math.min(used, limit)} aria-label={label} />
      <span>
        {num(used)} / {num(limit)}
      </span>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="state loading" role="status">
      Loading {what}…
    </p>
  );
}

/** What went wrong, in words: the database down (503), the API unreachable, or the API's own message. */
export function describeError(error: unknown): { title: string; detail: string } {
  if (error instanceof ApiError) {
    const said = error.problem?.detail ?? error.problem?.title ?? error.message;
    if (error.status === 0) return { title: "The API cannot be reached", detail: error.message };
    if (error.status === 503) return { title: "The database is unavailable", detail: `The API answered 503: ${said}. Retry in a moment.` };
    if (error.status === 404) return { title: "Not found", detail: said };
    return { title: `The API refused (${error.status} ${error.problem?.code ?? ""})`.replace(" )", ")"), detail: said };
  }
  return { title: "Something failed in the console", detail: String(error) };
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const { title, detail } = describeError(error);
  return (
    <div class="state error" role="alert">
      <strong>{title}</strong>
      <p>{detail}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** A modal question with Cancel and a confirming button; Escape cancels, focus starts on Cancel. */
export function Confirm(props: {
  title: string;
  children: ComponentChildren;
  confirm: string;
  /** The closing button's label (default Cancel). */
  dismiss?: string;
  onConfirm(): Promise<void> | void;
  onClose(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      {error !== null && <ErrorBox error={error} />}
      <div class="actions">
        <button type="button" onClick={() => ref.current?.close()}>
          {props.dismiss ?? "Cancel"}
        </button>
        <button type="button" class="primary" disabled={busy} onClick={go}>
          {busy ? "Working…" : props.confirm}
        </button>
      </div>
    </dialog>
  );
}
