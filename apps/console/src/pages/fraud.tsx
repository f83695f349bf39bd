// Fraud: the API's fraud report by IP, user or campaign for a window: who is guessing codes, with
// their refusals by reason and, where the API records it, attempts refused by the throttle.
import { useState } from "preact/hooks";
import { type FraudReport, api, enc } from "../api.ts";
import { Empty, ErrorBox, Loading, When, useLoad } from "../components.tsx";
import { num } from "../format.ts";

const WINDOWS = [
  ["1", "last hour"],
  ["24", "last 24 hours"],
  ["168", "last 7 days"],
  ["720", "last 30 days"],
] as const;

export function FraudPage() {
  const [by, setBy] = useState<FraudReport["by"]>("ip");
  const [hours, setHours] = useState("24");
  const report = useLoad(() => {
    const until = new Date();
    const since = new Date(until.getTime() - Number(hours) * 3_600_000);
    return api<FraudReport>("GET", `/v1/fraud-report?by=${by}&since=${enc(since.toISOString())}&until=${enc(until.toISOString())}&top=100`);
  }, `${by}|${hours}`);
  const rows = report.data?.rows ?? [];
  const throttled = rows.some((r) => r.throttled !== undefined);
  const subject = by === "ip" ? "IP address" : by === "user" ? "User" : "Campaign";

  return (
    <section aria-labelledby="fraud-title" data-ready={report.state !== "loading" ? "true" : undefined}>
      <div class="title-row">
        <h1 id="fraud-title">Fraud report</h1>
        <div class="filters">
          <label for="fraud-by">By</label>
          <select id="fraud-by" value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value as FraudReport["by"])}>
            <option value="ip">IP address</option>
            <option value="user">user</option>
            <option value="campaign">campaign</option>
          </select>
          <label for="fraud-window">Window</label>
          <select id="fraud-window" value={hours} onChange={(e) => setHours((e.target as HTMLSelectElement).value)}>
            {WINDOWS.map(([h, label]) => (
              <option key={h} value={h}>
                {label}
              </option>
            ))}
          </select>
          <button type="button" onClick={report.reload}>
            Refresh
          </button>
        </div>
      </div>
      {report.data && (
        <p class="muted">
          Refused redemption attempts from <When iso={report.data.since} /> to <When iso={report.data.until} />, most refusals first.
        </p>
      )}
      {report.state === "loading" && !report.data && <Loading what="the fraud report" />}
      {report.state === "error" && <ErrorBox error={report.error} retry={report.reload} />}
      {report.state === "ok" && rows.length === 0 && <Empty>No refused attempt in this window.</Empty>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{subject}</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col" class="num">
                  Refused
                </th>
                {throttled && (
                  <th scope="col" class="num">
                    Throttled
                  </th>
                )}
                <th scope="col" class="num">
                  Distinct codes
                </th>
                <th scope="col">Reasons</th>
                <th scope="col">First seen</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.subject} data-subject={r.subject}>
                  <td class="mono">{by === "campaign" ? <a href={`#/campaigns/${enc(r.subject)}`}>{r.subject}</a> : r.subject}</td>
                  <td class="num">{num(r.attempts)}</td>
                  <td class="num">{num(r.refusals)}</td>
                  {throttled && <td class="num">{r.throttled === undefined ? "—" : num(r.throttled)}</td>}
                  <td class="num">{num(r.distinctCodes)}</td>
                  <td class="small">{r.reasons.map((x) => `${x.reason} ${num(x.count)}`).join(", ")}</td>
                  <td>
                    <When iso={r.firstSeen} />
                  </td>
                  <td>
                    <When iso={r.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
