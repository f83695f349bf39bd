// One campaign: its coupon counts (total, redeemed, available, expired), redemptions, refusals by
// reason and reversals over time (hour or day), its generation requests, and expiring the unredeemed
// codes of one request. The page's <section> gets data-ready once every read has answered
// (scripts/bench-console.ts times that).
import { useState } from "preact/hooks";
import { type Campaign, type RequestList, type SeriesPoint, type Stats, api, enc } from "../api.ts";
import { SeriesChart, refusalCodes } from "../chart.tsx";
import { Confirm, Empty, ErrorBox, LimitBar, Loading, When, useLoad } from "../components.tsx";
import { discount, num, utc } from "../format.ts";

const HOUR = 3_600_000;
const WINDOW = { hour: 48 * HOUR, day: 30 * 24 * HOUR } as const;

function statsPath(campaignId: string, interval: "hour" | "day"): string {
  const unit = interval === "hour" ? HOUR : 24 * HOUR;
  const since = new Date(Math.floor((Date.now() - WINDOW[interval]) / unit) * unit).toISOString();
  return `/v1/campaigns/${enc(campaignId)}/stats?interval=${interval}&since=${enc(since)}`;
}

export function CampaignPage({ campaignId }: { campaignId: string }) {
  const [interval, setBucket] = useState<"hour" | "day">("hour");
  const [expiring, setExpiring] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const campaign = useLoad(() => api<Campaign>("GET", `/v1/campaigns/${enc(campaignId)}`), campaignId);
  const stats = useLoad(() => api<Stats>("GET", statsPath(campaignId, interval)), `${campaignId}|${interval}`);
  const requests = useLoad(() => api<RequestList>("GET", `/v1/generation-requests?campaignId=${enc(campaignId)}&limit=100`), campaignId);
  const ready = [campaign, stats, requests].every((l) => l.state !== "loading");
  const c = campaign.data;
  const s = stats.data;

  return (
    <section aria-labelledby="campaign-title" data-ready={ready ? "true" : undefined}>
      <p class="small">
        <a href="#/campaigns">← Campaigns</a>
      </p>
      <h1 id="campaign-title">{c ? c.name : campaignId}</h1>
      {campaign.state === "loading" && <Loading what="the campaign" />}
      {campaign.state === "error" && <ErrorBox error={campaign.error} retry={campaign.reload} />}
      {c && (
        <p class="muted">
          {c.campaignId} · {discount(c)} · {c.isActive ? "active flag on" : "paused"} · runs <When iso={c.startDate} /> to{" "}
          <When iso={c.endDate} />
          {c.maxRedemptionsPerUser !== null && ` · at most ${num(c.maxRedemptionsPerUser)} per user`}
        </p>
      )}
      {c && <LimitBar used={c.currentRedemptions} limit={c.maxTotalRedemptions} label="Redemptions of the total limit" />}

      <h2>Coupons</h2>
      {stats.state === "error" && <ErrorBox error={stats.error} retry={stats.reload} />}
      {!s && stats.state === "loading" && <Loading what="the counts" />}
      {s && (
        <dl class="counts">
          <div>
            <dt>Total</dt>
            <dd data-count="total">{num(s.totalCoupons)}</dd>
          </div>
          <div>
            <dt>Redeemed</dt>
            <dd data-count="redeemed">{num(s.redeemedCoupons)}</dd>
          </div>
          <div>
            <dt>Available</dt>
            <dd data-count="available">{num(s.availableCoupons)}</dd>
          </div>
          <div>
            <dt>Expired</dt>
            <dd data-count="expired">{num(s.expiredCoupons)}</dd>
          </div>
        </dl>
      )}

      <div class="title-row">
        <h2>Over time</h2>
        <fieldset class="segmented">
          <legend class="visually-hidden">Bucket size</legend>
          {(["hour", "day"] as const).map((i) => (
            <label key={i}>
              <input type="radio" name="interval" value={i} checked={interval === i} onChange={() => setBucket(i)} />
              {i === "hour" ? "By hour (48 h)" : "By day (30 days)"}
            </label>
          ))}
        </fieldset>
      </div>
      {s && !s.series && (
        <Empty>
          This API does not answer a time series for the statistics (no <code>series</code> in its answer); only the counts above are shown.
        </Empty>
      )}
      {s?.series && s.series.points.length === 0 && <Empty>No bucket in this window.</Empty>}
      {s?.series && s.series.points.length > 0 && (
        <>
          <SeriesChart points={s.series.points} interval={s.series.interval} />
          <SeriesTable points={s.series.points} />
        </>
      )}

      <h2>Generation requests</h2>
      <p role="status" class="notice">
        {notice}
      </p>
      {requests.state === "error" && <ErrorBox error={requests.error} retry={requests.reload} />}
      {requests.state === "loading" && !requests.data && <Loading what="its generation requests" />}
      {requests.data && requests.data.requests.length === 0 && (
        <Empty>
          No generation request for this campaign: create one on the <a href="#/generation">Generation</a> page.
        </Empty>
      )}
      {requests.data && requests.data.requests.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Codes
                </th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {requests.data.requests.map((r) => (
                <tr key={r.requestId}>
                  <td class="mono small">{r.requestId}</td>
                  <td>
                    <span class={`badge ${r.status.toLowerCase()}`}>{r.status}</span>
                  </td>
                  <td class="num">
                    {num(r.generatedAmount)} / {num(r.requestedAmount)}
                  </td>
                  <td>
                    <When iso={r.createdAt} />
                  </td>
                  <td>
                    {r.generatedAmount > 0 && (
                      <button type="button" onClick={() => setExpiring(r.requestId)}>
                        Expire its codes<span class="visually-hidden"> of request {r.requestId}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {expiring && (
        <Confirm
          title="Expire this request's unredeemed codes?"
          confirm="Expire codes"
          onConfirm={async () => {
            const r = await api<{ expired: number }>("POST", `/v1/generation-requests/${enc(expiring)}/expire`);
            setNotice(`${num(r.expired)} coupon(s) of request ${expiring} expired now.`);
            await stats.reload();
          }}
          onClose={() => setExpiring(null)}
        >
          <p>
            Every unredeemed code of request <span class="mono">{expiring}</span> expires now: later redemptions are refused COUPON_EXPIRED.
            Redeemed codes stay as they are. This cannot be undone.
          </p>
        </Confirm>
      )}
    </section>
  );
}

function SeriesTable({ points }: { points: SeriesPoint[] }) {
  const codes = refusalCodes(points);
  const shown = points.filter((p) => p.redemptions > 0 || p.reversals > 0 || Object.values(p.refusals).some((n) => n > 0));
  return (
    <details>
      <summary>The numbers ({num(shown.length)} non-empty buckets)</summary>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Bucket start (UTC)</th>
              <th scope="col" class="num">
                Redemptions
              </th>
              <th scope="col" class="num">
                Reversals
              </th>
              {codes.map((code) => (
                <th key={code} scope="col" class="num">
                  {code}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.start}>
                <td>
                  <time dateTime={p.start}>{utc(p.start)}</time>
                </td>
                <td class="num">{num(p.redemptions)}</td>
                <td class="num">{num(p.reversals)}</td>
                {codes.map((code) => (
                  <td key={code} class="num">
                    {num(p.refusals[code] ?? 0)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
