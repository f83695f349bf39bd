// The operator console: sign in with an admin API key, then Campaigns, one Campaign, Generation and
// Fraud pages, routed by the URL's hash (#/campaigns, #/campaigns/<id>, #/generation, #/fraud).
// A key the API refuses (401) goes back to sign-in; a key without the admin scope (403) gets a page
// that says so.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, clearKey, getKey, listenAuthFailures, setKey } from "./api.ts";
import { describeError } from "./components.tsx";
import { CampaignPage } from "./pages/campaign.tsx";
import { CampaignsPage } from "./pages/campaigns.tsx";
import { FraudPage } from "./pages/fraud.tsx";
import { GenerationPage } from "./pages/generation.tsx";
import "./style.css";

type Auth = { state: "signed-out"; message?: string } | { state: "signed-in" } | { state: "forbidden"; detail: string };

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function SignIn({ message, onSignedIn }: { message?: string; onSignedIn(a: Auth): void }) {
  const [key, setValue] = useState("");
  const [error, setError] = useState<string | undefined>(message);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!key.trim()) {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    setKey(key.trim());
    try {
      // an admin-only read: tells a valid admin key from one without the scope
      await api("GET", "/v1/generation-requests?limit=1");
      onSignedIn({ state: "signed-in" });
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        onSignedIn({ state: "forbidden", detail: err.message });
        return;
      }
      clearKey();
      setError(err instanceof ApiError && err.status === 401 ? "The API does not accept this key." : describeError(err).detail);
      setBusy(false);
    }
  };
  return (
    <main class="signin" data-page="signin">
      <h1>Coupon operator console</h1>
      <form onSubmit={submit}>
        <label for="api-key">Admin API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          aria-describedby="key-help"
        />
        <p id="key-help" class="muted">
          Kept in this tab only (session storage) and sent to this API as X-API-Key. The console needs the admin scope.
        </p>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function Refused({ detail, onSignOut }: { detail: string; onSignOut(): void }) {
  return (
    <main class="signin" data-page="refused">
      <h1>This key cannot use the console</h1>
      <p role="alert">
        The API refused it with 403 Forbidden: <em>{detail}</em>.
      </p>
      <p>
        The console has no rights of its own: every page calls the API with your key, and campaigns, generation and the fraud report need a
        key with the <strong>admin</strong> scope. Ask for an admin key, or sign in with another one.
      </p>
      <button type="button" class="primary" onClick={onSignOut}>
        Sign in with another key
      </button>
    </main>
  );
}

const NAV = [
  ["#/campaigns", "Campaigns"],
  ["#/generation", "Generation"],
  ["#/fraud", "Fraud"],
] as const;

function App() {
  const [auth, setAuth] = useState<Auth>(getKey() ? { state: "signed-in" } : { state: "signed-out" });
  const hash = useHash();
  useEffect(() => {
    listenAuthFailures((e) => {
      if (e.status === 403) setAuth({ state: "forbidden", detail: e.message });
      else {
        clearKey();
        setAuth({ state: "signed-out", message: "The API no longer accepts this key; sign in again." });
      }
    });
  }, []);
  const signOut = () => {
    clearKey();
    setAuth({ state: "signed-out" });
  };
  if (auth.state === "signed-out") return <SignIn message={auth.message} onSignedIn={setAuth} />;
  if (auth.state === "forbidden") return <Refused detail={auth.detail} onSignOut={signOut} />;

  const path = hash.replace(/^#/, "") || "/campaigns";
  const campaign = /^\/campaigns\/(.+)$/.exec(path);
  let page = <CampaignsPage />;
  if (campaign?.[1]) page = <CampaignPage campaignId={decodeURIComponent(campaign[1])} />;
  else if (path === "/generation") page = <GenerationPage />;
  else if (path === "/fraud") page = <FraudPage />;
  const section = `#${path.split("/").slice(0, 2).join("/")}`;
  return (
    <>
      <header>
        <span class="brand">Coupons console</span>
        <nav aria-label="Pages">
          {NAV.map(([href, label]) => (
            <a key={href} href={href} aria-current={section === href ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
