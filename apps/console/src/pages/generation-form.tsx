// The form that asks for codes: campaign, amount, prefix, code length, expiry. The API checks it
// (the same rules and feasibility message as `coupons generate`); its refusal is shown as it is.
import { useState } from "preact/hooks";
import { type GenerationRequest, type ListedCampaign, api } from "../api.ts";
import { describeError, useLoad } from "../components.tsx";

export function CreateRequest({ onCreated }: { onCreated(r: GenerationRequest): Promise<void> | void }) {
  const [form, setForm] = useState({ campaignId: "", requestedAmount: "", prefix: "", codeLength: "", expirationDate: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const campaigns = useLoad(
    () =>
      api<{ campaigns: ListedCampaign[] }>("GET", "/v1/campaigns?limit=1000").then((p) => p.campaigns.filter((c) => c.state !== "ended")),
    "campaigns",
  );
  const field = (name: keyof typeof form) => ({
    id: `gen-${name}`,
    name,
    value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }),
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { campaignId: form.campaignId.trim(), requestedAmount: Number(form.requestedAmount) };
      if (form.prefix) body.prefix = form.prefix;
      if (form.codeLength) body.codeLength = Number(form.codeLength);
      if (form.expirationDate) body.expirationDate = form.expirationDate;
      const created = await api<GenerationRequest>("POST", "/v1/generation-requests", body);
      setForm({ ...form, requestedAmount: "" });
      await onCreated(created);
    } catch (err) {
      setError(describeError(err).detail);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="create" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New generation request</h2>
      <div class="fields">
        <label for="gen-campaignId">Campaign</label>
        <input {...field("campaignId")} list="gen-campaigns" required autoComplete="off" />
        <datalist id="gen-campaigns">
          {(campaigns.data ?? []).map((c) => (
            <option key={c.campaignId} value={c.campaignId}>
              {c.name}
            </option>
          ))}
        </datalist>
        <label for="gen-requestedAmount">Number of codes</label>
        <input {...field("requestedAmount")} type="number" min={1} step={1} required inputMode="numeric" />
        <label for="gen-prefix">Prefix (optional)</label>
        <input {...field("prefix")} autoComplete="off" maxLength={20} />
        <label for="gen-codeLength">Random characters (default 12)</label>
        <input {...field("codeLength")} type="number" min={1} step={1} inputMode="numeric" />
        <label for="gen-expirationDate">Codes expire (optional, end of day UTC)</label>
        <input {...field("expirationDate")} type="date" />
      </div>
      {error && (
        <p class="state error" role="alert" data-problem="">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Submitting…" : "Request codes"}
      </button>
    </form>
  );
}
