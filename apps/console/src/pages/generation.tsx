// Generation: the queue and running requests with live progress (percent, codes per second from the
// last two polls, ETA), failed ones with their reason, the rest; create, cancel and retry. A refused
// create shows the API's own message (the feasibility message the CLI gives) as it is.
import { useEffect, useRef, useState } from "preact/hooks";
import { type GenerationRequest, type RequestList, api, enc } from "../api.ts";
import { Confirm, Empty, ErrorBox, Loading, When, describeError, useLoad } from "../components.tsx";
import { duration, num, num2 } from "../format.ts";
import { CreateRequest } from "./generation-form.tsx";

const POLL_MS = 1000;
type Sample = { at: number; generated: number; rate: number | null };

/** Codes per second between polls, per request; null until two polls saw it generating. */
function useRates(requests: GenerationRequest[] | undefined): Map<string, number | null> {
  const samples = useRef(new Map<string, Sample>());
  const now = Date.now();
  for (const r of requests ?? []) {
    const before = samples.current.get(r.requestId);
    if (!before) {
      samples.current.set(r.requestId, { at: now, generated: r.generatedAmount, rate: null });
    } else if (r.generatedAmount !== before.generated && now > before.at) {
      const rate = ((r.generatedAmount - before.generated) * 1000) / (now - before.at);
      samples.current.set(r.requestId, { at: now, generated: r.generatedAmount, rate });
    }
  }
  return new Map([...samples.current].map(([id, s]) => [id, s.rate]));
}

export function GenerationPage() {
  const [tick, setTick] = useState(0);
  const [asking, setAsking] = useState<{ what: "cancel"; r: GenerationRequest } | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const list = useLoad(() => api<RequestList>("GET", "/v1/generation-requests?limit=200"), "all");
  const requests = list.data?.requests;
  const rates = useRates(requests);
  const live = (requests ?? []).filter((r) => r.status === "Requested" || r.status === "Generating");
  const failed = (requests ?? []).filter((r) => r.status === "Failed");
  const done = (requests ?? []).filter((r) => r.status === "Generated" || r.status === "Cancelled");

  // poll while something waits or runs; each poll starts after the last one answered
  const busy = live.length > 0;
  useEffect(() => {
    if (!busy || list.state === "loading") return;
    const t = setTimeout(() => {
      void list.reload().then(() => setTick((n) => n + 1));
    }, POLL_MS);
    return () => clearTimeout(t);
  }, [busy, list.state, tick, list.data]);

  const retry = async (r: GenerationRequest) => {
    setNotice(null);
    try {
      const expiry = r.expirationDate && Date.parse(r.expirationDate) > Date.now() ? r.expirationDate : null;
      await api("POST", "/v1/generation-requests", {
        requestId: r.requestId,
        campaignId: r.campaignId,
        requestedAmount: r.requestedAmount,
        prefix: r.prefix,
        codeLength: r.codeLength,
        expirationDate: expiry,
      });
      setNotice({ ok: true, text: `Request ${r.requestId} submitted again; a worker will pick it up.` });
    } catch (e) {
      setNotice({ ok: false, text: describeError(e).detail });
    }
    await list.reload();
  };

  return (
    <section aria-labelledby="generation-title" data-ready={list.state !== "loading" ? "true" : undefined}>
      <h1 id="generation-title">Generation</h1>
      <CreateRequest
        onCreated={async (r) => {
          setNotice({ ok: true, text: `Request ${r.requestId} recorded for ${r.campaignId}: ${num(r.requestedAmount)} codes.` });
          await list.reload();
        }}
      />
      {notice && (
        <p class={notice.ok ? "state ok" : "state error"} role={notice.ok ? "status" : "alert"}>
          {notice.text}
        </p>
      )}
      {list.state === "error" && <ErrorBox error={list.error} retry={list.reload} />}
      {list.state === "loading" && !list.data && <Loading what="the generation queue" />}

      <h2>Waiting and running</h2>
      {list.data && list.data.waiting > 0 && (
        <p class="muted">
          {num(list.data.waiting)} waiting for a worker; the oldest for {duration(list.data.oldestWaitingSeconds ?? 0)}.
        </p>
      )}
      {list.data && live.length === 0 && <Empty>Nothing waits or runs.</Empty>}
      {live.length > 0 && (
        <ul class="cards" aria-live="polite">
          {live.map((r) => {
            const rate = rates.get(r.requestId) ?? null;
            const eta = rate && rate > 0 ? (r.requestedAmount - r.generatedAmount) / rate : null;
            return (
              <li key={r.requestId} class="card" data-request={r.requestId} data-status={r.status}>
                <div class="title-row">
                  <strong>
                    <a href={`#/campaigns/${enc(r.campaignId)}`}>{r.campaignId}</a>
                  </strong>
                  <span class={`badge ${r.status.toLowerCase()}`}>{r.status}</span>
                </div>
                <progress max={100} value={r.progressPercent} aria-label={`Request ${r.requestId} progress`} />
                <p>
                  {num2(r.progressPercent)} % · {num(r.generatedAmount)} of {num(r.requestedAmount)} codes
                  {r.status === "Generating" && (
                    <>
                      {" "}
                      · {rate === null ? "measuring speed…" : `${num(rate)} codes/s`} · ETA {eta === null ? "unknown" : duration(eta)}
                    </>
                  )}
                </p>
                <p class="muted small">
                  <span class="mono">{r.requestId}</span> · prefix {r.prefix || "(none)"} · created <When iso={r.createdAt} />
                  {r.workerId && ` · worker ${r.workerId}`}
                </p>
                <button type="button" onClick={() => setAsking({ what: "cancel", r })}>
                  Cancel<span class="visually-hidden"> request {r.requestId}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}

      <h2>Failed</h2>
      {list.data && failed.length === 0 && <Empty>No request failed.</Empty>}
      {failed.length > 0 && (
        <ul class="cards">
          {failed.map((r) => (
            <li key={r.requestId} class="card" data-request={r.requestId} data-status={r.status}>
              <strong>{r.campaignId}</strong> · {num(r.generatedAmount)} of {num(r.requestedAmount)} codes ·{" "}
              <When iso={r.completedAt ?? r.createdAt} />
              <p class="state error">{r.failureReason ?? "no reason recorded"}</p>
              <button type="button" onClick={() => retry(r)}>
                Retry<span class="visually-hidden"> request {r.requestId}</span>
              </button>
            </li>
          ))}
        </ul>
      )}

      <h2>Finished and cancelled</h2>
      {list.data && done.length === 0 && <Empty>None yet.</Empty>}
      {done.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Codes
                </th>
                <th scope="col">Ended</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {done.map((r) => (
                <tr key={r.requestId} data-request={r.requestId} data-status={r.status}>
                  <td>
                    <a href={`#/campaigns/${enc(r.campaignId)}`}>{r.campaignId}</a>
                    <div class="mono small muted">{r.requestId}</div>
                  </td>
                  <td>
                    <span class={`badge ${r.status.toLowerCase()}`}>{r.status}</span>
                  </td>
                  <td class="num">
                    {num(r.generatedAmount)} / {num(r.requestedAmount)}
                  </td>
                  <td>
                    <When iso={r.completedAt} />
                  </td>
                  <td>
                    {r.status === "Cancelled" && (
                      <button type="button" onClick={() => retry(r)}>
                        Retry<span class="visually-hidden"> request {r.requestId}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {asking && (
        <Confirm
          title="Cancel this generation request?"
          confirm="Cancel request"
          dismiss="Keep it"
          onConfirm={async () => {
            await api("DELETE", `/v1/generation-requests/${enc(asking.r.requestId)}`);
            await list.reload();
          }}
          onClose={() => setAsking(null)}
        >
          <p>
            A waiting request will not start; a running one stops at its next batch and keeps the {num(asking.r.generatedAmount)} codes made
            so far. It can be retried later.
          </p>
        </Confirm>
      )}
    </section>
  );
}
