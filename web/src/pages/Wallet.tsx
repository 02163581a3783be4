import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyLine, useIdempotent } from "../components/Idempotent";
import { Card, Empty, ErrorBox, Field, fieldError, formError, Loading, Select } from "../components/ui";
import { ApiError, get } from "../lib/api";
import { useSession } from "../lib/auth";
import { time, toMinor, useMoney } from "../lib/format";

type WalletView = {
  user_id: string;
  currency: string;
  cash: { posted: number; held: number; available: number };
  bonus: { posted: number };
  updated_at: string | null;
};
type Entry = { id: string; seq: number; kind: string; balance: string; amount_cents: number; balance_after_cents: number; ref: string | null; created_at: string };
type Bet = {
  bet_id: string;
  event_id: string;
  market: string;
  selection: string;
  stake_cents: number;
  odd_value: number;
  potential_win_cents: number;
  status: string;
  payout_cents: number | null;
  placed_at: string;
};
type Hold = { hold_id: string; status: string; amount_cents: number; captured_cents: number; ref: string | null; created_at: string };

// No list endpoint exists for bets or holds: the console remembers the ids it
// made or looked up, per user, in this browser (ids only; reading them still
// needs the credential).
const remembered = (kind: string, user: string): string[] => JSON.parse(localStorage.getItem(`rushgate.${kind}.${user}`) ?? "[]");
const remember = (kind: string, user: string, id: string) =>
  localStorage.setItem(`rushgate.${kind}.${user}`, JSON.stringify([id, ...remembered(kind, user).filter((x) => x !== id)].slice(0, 50)));

export function Wallet() {
  const session = useSession();
  const [user, setUser] = useState(() => (session.kind === "user" ? session.userId : new URLSearchParams(location.search).get("user") ?? ""));
  const [text, setText] = useState(user);
  return (
    <div className="grid">
      {session.kind === "service" && (
        <Card title="Look a user up">
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              setUser(text.trim());
            }}
          >
            <Field label="User id" name="wallet-user" value={text} onChange={(e) => setText(e.target.value)} />
            <button type="submit">Look up</button>
          </form>
        </Card>
      )}
      {user ? <UserWallet user={user} key={user} /> : <Empty>Enter a user id to see their wallet.</Empty>}
    </div>
  );
}

function UserWallet({ user }: { user: string }) {
  const session = useSession();
  const { fmt } = useMoney();
  const base = `/api/wallets/${encodeURIComponent(user)}`;
  const wallet = useQuery({ queryKey: ["wallet", user], queryFn: () => get<WalletView>(base) });
  return (
    <>
      <Card title={`Wallet of ${user}`} actions={<button type="button" className="secondary small" onClick={() => wallet.refetch()}>Refresh</button>}>
        {wallet.isPending ? (
          <Loading what="Loading the wallet" />
        ) : wallet.isError ? (
          <ErrorBox error={wallet.error} title="Could not load the wallet" />
        ) : (
          <>
            <dl className="stats" data-testid="balances">
              <div>
                <dt>Cash</dt>
                <dd>{fmt(wallet.data.cash.posted)}</dd>
              </div>
              <div>
                <dt>Held</dt>
                <dd>{fmt(wallet.data.cash.held)}</dd>
              </div>
              <div>
                <dt>Available</dt>
                <dd>{fmt(wallet.data.cash.available)}</dd>
              </div>
              <div>
                <dt>Bonus</dt>
                <dd data-testid="bonus">{fmt(wallet.data.bonus.posted)}</dd>
              </div>
            </dl>
            <p className="muted">Updated {time(wallet.data.updated_at)}</p>
          </>
        )}
      </Card>
      {session.kind === "service" && <Deposit user={user} />}
      <PlaceBet user={user} />
      <Bets user={user} />
      <Windows user={user} />
      <Ledger user={user} />
      <Holds user={user} />
    </>
  );
}

function useRefreshWallet(user: string) {
  const queries = useQueryClient();
  return () => {
    void queries.invalidateQueries({ queryKey: ["wallet", user] });
    void queries.invalidateQueries({ queryKey: ["ledger", user] });
    void queries.invalidateQueries({ queryKey: ["bets", user] });
    void queries.invalidateQueries({ queryKey: ["windows", user] });
  };
}

function Deposit({ user }: { user: string }) {
  const { currency } = useMoney();
  const [amount, setAmount] = useState("100");
  const [err, setErr] = useState<string | null>(null);
  const refresh = useRefreshWallet(user);
  const idem = useIdempotent<unknown>(() => `/api/wallets/${encodeURIComponent(user)}/deposits`);
  const error = idem.last?.error;
  return (
    <Card title="Deposit">
      <form
        className="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          const cents = currency ? toMinor(amount, currency) : null;
          setErr(cents === null || cents < 1 ? `an amount in ${currency}, e.g. 10.50` : null);
          if (cents === null || cents < 1) return;
          await idem.send({ amount_cents: cents });
          refresh();
        }}
      >
        <Field label={`Amount (${currency ?? "…"})`} name="deposit-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} error={err ?? fieldError(error, "amount_cents")} />
        <button type="submit" disabled={idem.pending}>
          Deposit
        </button>
      </form>
      <ErrorBox error={formError(error, ["amount_cents"])} title="Deposit failed" />
      <KeyLine idem={idem} />
    </Card>
  );
}

function PlaceBet({ user }: { user: string }) {
  const { currency, fmt } = useMoney();
  const [form, setForm] = useState({ event_id: "MATCH_001", market: "1X2", selection: "HOME", stake: "10", odds: "2.5" });
  const [err, setErr] = useState<string | null>(null);
  const refresh = useRefreshWallet(user);
  const idem = useIdempotent<Bet>(() => "/api/bets");
  const error = idem.last?.error;
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const placed = idem.last?.reply?.body;
  return (
    <Card title="Place a bet">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const stake = currency ? toMinor(form.stake, currency) : null;
          setErr(stake === null || stake < 1 ? `an amount in ${currency}, e.g. 10.50` : null);
          if (stake === null || stake < 1) return;
          const reply = await idem.send({
            user_id: user,
            event_id: form.event_id,
            market: form.market,
            selection: form.selection,
            stake_cents: stake,
            odd_value: form.odds,
          });
          if (reply) remember("bets", user, reply.body.bet_id);
          refresh();
        }}
      >
        <div className="row">
          <Field label="Event" name="bet-event" value={form.event_id} onChange={set("event_id")} error={fieldError(error, "event_id")} />
          <Field label="Market" name="bet-market" value={form.market} onChange={set("market")} error={fieldError(error, "market")} />
          <Field label="Selection" name="bet-selection" value={form.selection} onChange={set("selection")} error={fieldError(error, "selection")} />
        </div>
        <div className="row">
          <Field label={`Stake (${currency ?? "…"})`} name="bet-stake" inputMode="decimal" value={form.stake} onChange={set("stake")} error={err ?? fieldError(error, "stake_cents")} />
          <Field label="Decimal odds" name="bet-odds" inputMode="decimal" value={form.odds} onChange={set("odds")} error={fieldError(error, "odd_value")} />
        </div>
        <ErrorBox error={formError(error, ["event_id", "market", "selection", "stake_cents", "odd_value"])} title="Bet not placed" />
        <button type="submit" disabled={idem.pending}>
          {idem.pending ? "Placing…" : "Place bet"}
        </button>
      </form>
      {placed && (
        <p className="ok" role="status" data-testid="bet-placed">
          Bet <code>{placed.bet_id.slice(-8)}</code> accepted: stake {fmt(placed.stake_cents)}, could win {fmt(placed.potential_win_cents)}.
        </p>
      )}
      <KeyLine idem={idem} />
    </Card>
  );
}

function Bets({ user }: { user: string }) {
  const ids = remembered("bets", user);
  const bets = useQuery({
    queryKey: ["bets", user, ids.join()],
    queryFn: () => Promise.all(ids.map((id) => get<Bet>(`/api/bets/${encodeURIComponent(id)}`))),
  });
  return (
    <Card title="Bets">
      <p className="muted small">Bets placed from this console in this browser.</p>
      {bets.isPending ? (
        <Loading what="Loading bets" />
      ) : bets.isError ? (
        <ErrorBox error={bets.error} title="Could not load bets" />
      ) : bets.data.length === 0 ? (
        <Empty>No bets yet.</Empty>
      ) : (
        <ul className="list bets">
          {bets.data.map((b) => (
            <BetRow bet={b} user={user} key={b.bet_id} />
          ))}
        </ul>
      )}
    </Card>
  );
}

function BetRow({ bet, user }: { bet: Bet; user: string }) {
  const session = useSession();
  const { fmt } = useMoney();
  const [result, setResult] = useState("WON");
  const refresh = useRefreshWallet(user);
  const idem = useIdempotent<Bet>(() => `/api/bets/${encodeURIComponent(bet.bet_id)}/settle`);
  return (
    <li data-testid="bet">
      <div>
        <strong>{bet.event_id}</strong> {bet.market} · {bet.selection} @ {bet.odd_value} — stake {fmt(bet.stake_cents)}{" "}
        <span className={`pill pill-${bet.status.toLowerCase()}`}>{bet.status}</span>
        {bet.payout_cents !== null && <> paid {fmt(bet.payout_cents)}</>}
        <div className="muted small">Placed {time(bet.placed_at)}</div>
      </div>
      {session.kind === "service" && bet.status === "ACCEPTED" && (
        <form
          className="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            await idem.send({ result });
            refresh();
          }}
        >
          <Select label="Result" name={`settle-${bet.bet_id}`} value={result} onChange={(e) => setResult(e.target.value)}>
            <option>WON</option>
            <option>LOST</option>
            <option>VOID</option>
          </Select>
          <button type="submit" disabled={idem.pending}>
            Settle
          </button>
        </form>
      )}
      {idem.last && <ErrorBox error={idem.last.error} title="Not settled" />}
      {(idem.last || bet.status === "ACCEPTED") && session.kind === "service" && <KeyLine idem={idem} />}
    </li>
  );
}

type Window = Record<string, unknown>;

function Windows({ user }: { user: string }) {
  const { fmt } = useMoney();
  const windows = useQuery({
    queryKey: ["windows", user],
    queryFn: () => get<{ windows: Window[] } | Window[]>(`/api/wallets/${encodeURIComponent(user)}/windows`),
  });
  const list = windows.data ? (Array.isArray(windows.data) ? windows.data : windows.data.windows) : [];
  const num = (w: Window, ...keys: string[]) => {
    for (const k of keys) if (typeof w[k] === "number") return w[k] as number;
    return null;
  };
  return (
    <Card title="Stake windows" actions={<button type="button" className="secondary small" onClick={() => windows.refetch()}>Refresh</button>}>
      {windows.isPending ? (
        <Loading what="Loading windows" />
      ) : windows.isError ? (
        <ErrorBox error={windows.error} title={windows.error instanceof ApiError && windows.error.status === 404 ? "This server has no stake windows" : "Could not load windows"} />
      ) : list.length === 0 ? (
        <Empty>No stake windows yet: they open with the first bet.</Empty>
      ) : (
        <div className="table-wrap" tabIndex={0}>
          <table data-testid="windows">
            <thead>
              <tr>
                <th scope="col">Window</th>
                <th scope="col">Stake</th>
                <th scope="col">Threshold</th>
                <th scope="col">State</th>
                <th scope="col">Late bets</th>
              </tr>
            </thead>
            <tbody>
              {list.map((w, i) => {
                const sum = num(w, "stake_cents", "sum_cents", "stake_sum_cents");
                const threshold = num(w, "threshold_cents", "min_stake_cents");
                const late = w.late_bets;
                return (
                  <tr key={String(w.start ?? w.window_start ?? i)}>
                    <td>{time(String(w.start ?? w.window_start ?? ""))}</td>
                    <td>{sum === null ? "—" : fmt(sum)}</td>
                    <td>{threshold === null ? "—" : fmt(threshold)}</td>
                    <td>
                      <span className={`pill pill-${String(w.state ?? "").toLowerCase().replace(/\s+/g, "-")}`}>{String(w.state ?? "—")}</span>
                    </td>
                    <td>{Array.isArray(late) ? late.length : typeof late === "number" ? late : 0}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Ledger({ user }: { user: string }) {
  const { fmt } = useMoney();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const ledger = useQuery({
    queryKey: ["ledger", user, cursor],
    queryFn: () => get<{ entries: Entry[]; next_cursor?: string }>(`/api/wallets/${encodeURIComponent(user)}/ledger?limit=20${cursor ? `&cursor=${cursor}` : ""}`),
  });
  return (
    <Card title="Ledger" wide>
      {ledger.isPending ? (
        <Loading what="Loading the ledger" />
      ) : ledger.isError ? (
        <ErrorBox error={ledger.error} title="Could not load the ledger" />
      ) : ledger.data.entries.length === 0 ? (
        <Empty>No money has moved yet.</Empty>
      ) : (
        <>
          <div className="table-wrap" tabIndex={0}>
            <table data-testid="ledger">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Balance</th>
                  <th scope="col" className="num">Amount</th>
                  <th scope="col" className="num">After</th>
                </tr>
              </thead>
              <tbody>
                {ledger.data.entries.map((e) => (
                  <tr key={e.id}>
                    <td>{time(e.created_at)}</td>
                    <td>{e.kind.replace("_", " ").toLowerCase()}</td>
                    <td>{e.balance}</td>
                    <td className={`num ${e.amount_cents < 0 ? "bad" : "ok"}`}>{fmt(e.amount_cents)}</td>
                    <td className="num">{fmt(e.balance_after_cents)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </button>
            <span>Page {cursors.length}</span>
            <button type="button" disabled={!ledger.data.next_cursor} onClick={() => setCursors([...cursors, ledger.data.next_cursor!])}>
              Older
            </button>
          </div>
        </>
      )}
    </Card>
  );
}

function Holds({ user }: { user: string }) {
  const session = useSession();
  const { currency, fmt } = useMoney();
  const [id, setId] = useState("");
  const [ids, setIds] = useState(() => remembered("holds", user));
  const base = `/api/wallets/${encodeURIComponent(user)}/holds`;
  const holds = useQuery({
    queryKey: ["holds", user, ids.join()],
    queryFn: () => Promise.all(ids.map((h) => get<Hold>(`${base}/${encodeURIComponent(h)}`))),
  });
  const refresh = useRefreshWallet(user);
  const idem = useIdempotent<Hold>(() => base);
  const [amount, setAmount] = useState("5");
  const add = (h: string) => {
    remember("holds", user, h);
    setIds(remembered("holds", user));
  };
  return (
    <Card title="Holds">
      {session.kind === "service" && (
        <form
          className="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const cents = currency ? toMinor(amount, currency) : null;
            if (cents === null || cents < 1) return;
            const reply = await idem.send({ amount_cents: cents });
            if (reply) add(reply.body.hold_id);
            refresh();
          }}
        >
          <Field label={`Hold amount (${currency ?? "…"})`} name="hold-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} error={fieldError(idem.last?.error, "amount_cents")} />
          <button type="submit" disabled={idem.pending}>
            Place hold
          </button>
        </form>
      )}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (id.trim()) add(id.trim());
        }}
      >
        <Field label="Hold id" name="hold-id" value={id} onChange={(e) => setId(e.target.value)} />
        <button type="submit" className="secondary">
          Look up
        </button>
      </form>
      {holds.isPending ? (
        <Loading what="Loading holds" />
      ) : holds.isError ? (
        <ErrorBox error={holds.error} title="Could not load a hold" />
      ) : holds.data.length === 0 ? (
        <Empty>No holds looked up. Bets hold their stake until settled (see “Held” above).</Empty>
      ) : (
        <ul className="list">
          {holds.data.map((h) => (
            <li key={h.hold_id}>
              <code>{h.hold_id.slice(0, 12)}</code> {fmt(h.amount_cents)} <span className={`pill pill-${h.status.toLowerCase()}`}>{h.status}</span>
              {h.captured_cents > 0 && <> captured {fmt(h.captured_cents)}</>} <span className="muted small">{time(h.created_at)}</span>
            </li>
          ))}
        </ul>
      )}
      {session.kind === "service" && idem.last && <KeyLine idem={idem} />}
    </Card>
  );
}
