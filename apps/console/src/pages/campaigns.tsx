// Campaigns: every campaign with its state, dates, discount, redemptions against the total limit and
// redemption rate; a filter by state; pause and resume after a confirmation.
import { useState } from "preact/hooks";
import { type CampaignState, type ListedCampaign, api, enc } from "../api.ts";
import { Confirm, Empty, ErrorBox, LimitBar, Loading, When, useLoad } from "../components.tsx";
import { discount, num, pct } from "../format.ts";

const STATES: CampaignState[] = ["active", "upcoming", "paused", "ended"];
type Page = { campaigns: ListedCampaign[]; nextCursor: string | null };

export function CampaignsPage() {
  const [state, setState] = useState<CampaignState | "">("");
  const [more, setMore] = useState<ListedCampaign[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [asking, setAsking] = useState<ListedCampaign | null>(null);
  const list = useLoad(async () => {
    const page = await api<Page>("GET", `/v1/campaigns?limit=100${state ? `&state=${state}` : ""}`);
    setMore([]);
    setCursor(page.nextCursor);
    return page.campaigns;
  }, state);
  const loadMore = async () => {
    if (!cursor) return;
    const page = await api<Page>("GET", `/v1/campaigns?limit=100&cursor=${enc(cursor)}${state ? `&state=${state}` : ""}`);
    setMore((m) => [...m, ...page.campaigns]);
    setCursor(page.nextCursor);
  };
  const campaigns = [...(list.data ?? []), ...more];

  return (
    <section aria-labelledby="campaigns-title" data-ready={list.state !== "loading" ? "true" : undefined}>
      <div class="title-row">
        <h1 id="campaigns-title">Campaigns</h1>
        <div class="filters">
          <label for="campaigns-state">State</label>
          <select
            id="campaigns-state"
            value={state}
            onChange={(e) => setState((e.target as HTMLSelectElement).value as CampaignState | "")}
          >
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      {list.state === "loading" && !list.data && <Loading what="campaigns" />}
      {list.state === "error" && <ErrorBox error={list.error} retry={list.reload} />}
      {list.state === "ok" && campaigns.length === 0 && (
        <Empty>
          {state ? `No campaign is ${state}.` : "No campaign yet: create one with POST /v1/campaigns or coupons campaign create."}
        </Empty>
      )}
      {campaigns.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">State</th>
                <th scope="col">Runs</th>
                <th scope="col">Discount</th>
                <th scope="col">Redemptions</th>
                <th scope="col" class="num">
                  Rate
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {campaigns.map((c) => (
                <tr key={c.campaignId} data-campaign={c.campaignId}>
                  <td>
                    <a href={`#/campaigns/${enc(c.campaignId)}`}>{c.name}</a>
                    <div class="muted small">{c.campaignId}</div>
                  </td>
                  <td>
                    <span class={`badge ${c.state}`}>{c.state}</span>
                  </td>
                  <td class="small">
                    <When iso={c.startDate} /> → <When iso={c.endDate} />
                  </td>
                  <td>{discount(c)}</td>
                  <td>
                    <LimitBar
                      used={c.currentRedemptions}
                      limit={c.maxTotalRedemptions}
                      label={`${c.name}: redemptions of the total limit`}
                    />
                  </td>
                  <td class="num">{c.redemptionPercentage === null ? "—" : pct(c.redemptionPercentage)}</td>
                  <td>
                    {c.state !== "ended" && (
                      <button type="button" onClick={() => setAsking(c)}>
                        {c.isActive ? "Pause" : "Resume"}
                        <span class="visually-hidden"> {c.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" onClick={loadMore}>
          Load more campaigns
        </button>
      )}
      {asking && (
        <Confirm
          title={`${asking.isActive ? "Pause" : "Resume"} ${asking.name}?`}
          confirm={asking.isActive ? "Pause campaign" : "Resume campaign"}
          onConfirm={async () => {
            await api("PATCH", `/v1/campaigns/${enc(asking.campaignId)}`, { isActive: !asking.isActive });
            await list.reload();
          }}
          onClose={() => setAsking(null)}
        >
          {asking.isActive ? (
            <p>
              Every redemption attempt after the pause is refused (CAMPAIGN_INACTIVE) until you resume it. {num(asking.currentRedemptions)}{" "}
              redemptions so far stay.
            </p>
          ) : (
            <p>Its coupons can be redeemed again from the next attempt.</p>
          )}
        </Confirm>
      )}
    </section>
  );
}
