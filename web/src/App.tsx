import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorBox, Field } from "./components/ui";
import { ApiError, call } from "./lib/api";
import { jwtSubject, useAuth } from "./lib/auth";
import { Link, useRouter } from "./lib/router";
import { Awards } from "./pages/Awards";
import { Campaigns } from "./pages/Campaigns";
import { Coupons } from "./pages/Coupons";
import { Dashboard } from "./pages/Dashboard";
import { Odds } from "./pages/Odds";
import { Offers } from "./pages/Offers";
import { Wallet } from "./pages/Wallet";

const pages = [
  { path: "/", label: "Dashboard", page: Dashboard },
  { path: "/coupons", label: "Coupons", page: Coupons },
  { path: "/campaigns", label: "Rain", page: Campaigns },
  { path: "/offers", label: "Offers", page: Offers },
  { path: "/awards", label: "Awards", page: Awards },
  { path: "/odds", label: "Odds", page: Odds },
  { path: "/wallet", label: "Wallet", page: Wallet },
];

export function App() {
  const { session, signOut } = useAuth();
  const { path } = useRouter();
  const queries = useQueryClient();
  if (!session) return <SignIn />;
  const pathname = path.split("?")[0]!;
  const current = pages.find((p) => p.path === pathname);
  const Page = current?.page;
  return (
    <div className="shell">
      <header className="top">
        <span className="brand">rushgate</span>
        <nav aria-label="Pages">
          {pages.map((p) => (
            <Link key={p.path} href={p.path} aria-current={p.path === pathname ? "page" : undefined}>
              {p.label}
            </Link>
          ))}
        </nav>
        <div className="who">
          <span>{session.kind === "service" ? "operator" : `user ${session.userId}`}</span>
          <button
            type="button"
            className="link"
            onClick={() => {
              queries.clear();
              signOut();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main>
        {Page ? (
          <>
            <h1>{current.label === "Rain" ? "Rain campaigns" : current.label}</h1>
            <Page />
          </>
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              There is no page at <code>{pathname}</code>. <Link href="/">Go to the dashboard</Link>.
            </p>
          </>
        )}
      </main>
    </div>
  );
}

function SignIn() {
  const { signIn } = useAuth();
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError(new ApiError(0, "REQUIRED", "token: paste a token"));
    setBusy(true);
    setError(null);
    try {
      // A wallet read proves the credential: a user reads its own, the operator any.
      const sub = jwtSubject(t);
      await call(`/api/wallets/${encodeURIComponent(sub ?? "console")}`, { token: t });
      signIn(t);
    } catch (err) {
      setError(
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? new ApiError(err.status, err.code, `token: ${rejection(err)}`)
          : err,
      );
    } finally {
      setBusy(false);
    }
  }
  const rejection = (err: ApiError) => (err.status === 403 ? "this token is not the service token" : "the server did not accept this token");
  const fieldErr = error instanceof ApiError && error.field === "token" ? error.fieldMessage : null;

  return (
    <main className="signin">
      <h1>rushgate console</h1>
      <form onSubmit={submit} className="card">
        <p>
          Paste the service token (the Worker's <code>ADMIN_TOKEN</code>) to operate, or a user's JWT for that user's
          view. It is kept in this tab's session only.
        </p>
        <Field
          label="Token"
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          error={fieldErr}
        />
        {!fieldErr && <ErrorBox error={error} title="Could not sign in" />}
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
