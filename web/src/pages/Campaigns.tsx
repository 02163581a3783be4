import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Banner, Card, Empty, ErrorBox, Field, fieldError, formError, Loading } from "../components/ui";
import { ApiError, call, get } from "../lib/api";
import { useSession } from "../lib/auth";
import { count, localInput, time, toMinor, useMoney } from "../lib/format";
import { useFeed, useTick } from "../lib/live";

type Campaign = {
  id: string;
  name: string;
  start_time: string;
  end_time: string;
  shards: number;
  inventory: Record<string, { total: number; opened: number }>;
  opened: number;
  remaining: number;
};
type Open = { status: "OK" | "ALREADY_OPENED"; amount: number } | { status: "SOLD_OUT" | "NOT_FOUND" | "NOT_STARTED" | "ENDED" };

// There is no list endpoint for campaigns; the console remembers the ones it has
// shown (ids only, not secret) in this browser.
const RECENT = "rushgate.campaigns";
const recent = (): { id: string; name: string }[] => JSON.parse(localStorage.getItem(RECENT) ?? "[]");
function remember(c: { id: string; name: string }) {
  const list = [c, ...recent().filter((r) => r.id !== c.id)].slice(0, 10);
  localStorage.setItem(RECENT, JSON.stringify(list));
}

export function Campaigns() {
  const session = useSession();
  const [id, setId] = useState<string | null>(() => new URLSearchParams(location.search).get("id"));
  const [, seen] = useState(0); // re-reads the remembered list once a campaign has loaded
  return (
    <div className="grid">
      {session.kind === "service" && <CreateCampaign onCreated={setId} />}
      <Recent current={id} onPick={setId} />
      {id && <Watch id={id} key={id} onSeen={() => seen((n) => n + 1)} />}
    </div>
  );
}

type Row = { amount: string; count: string };

function CreateCampaign({ onCreated }: { onCreated(id: string): void }) {
  const { currency } = useMoney();
  const now = new Date();
  const [form, setForm] = useState({
    name: "",
    start: localInput(now),
    end: localInput(new Date(now.getTime() + 3_600_000)),
  });
  const [rows, setRows] = useState<Row[]>([
    { amount: "1", count: "50" },
    { amount: "5", count: "10" },
  ]);
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: async () => {
      const inventory: Record<string, number> = {};
      for (const r of rows) {
        const minor = currency ? toMinor(r.amount, currency) : null;
        if (minor === null || minor < 1) throw new ApiError(0, "INVALID", `inventory: "${r.amount}" is not an amount in ${currency}`);
        inventory[String(minor)] = (inventory[String(minor)] ?? 0) + Number(r.count);
      }
      return call<{ id: string; shards: number }>("/api/campaigns", {
        body: {
          name: form.name,
          start_time: new Date(form.start).toISOString(),
          end_time: new Date(form.end).toISOString(),
          inventory,
        },
      });
    },
    onSuccess: ({ body }) => {
      // Creation answers the id; the view (inventory, remaining) is read next.
      remember({ id: body.id, name: form.name });
      void queries.invalidateQueries({ queryKey: ["campaign", body.id] });
      onCreated(body.id);
    },
  });
  const inventoryError = fieldError(create.error, "inventory") ?? (create.error instanceof ApiError && create.error.field?.startsWith("inventory.") ? create.error.fieldMessage : null);
  const fields = ["name", "start_time", "end_time", "inventory"];
  return (
    <Card title="Create a rain campaign">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Field label="Name" name="campaign-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(create.error, "name")} />
        <div className="row">
          <Field label="Starts" name="campaign-start" type="datetime-local" value={form.start} onChange={(e) => setForm({ ...form, start: e.target.value })} error={fieldError(create.error, "start_time")} />
          <Field label="Ends" name="campaign-end" type="datetime-local" value={form.end} onChange={(e) => setForm({ ...form, end: e.target.value })} error={fieldError(create.error, "end_time")} />
        </div>
        <fieldset>
          <legend>Inventory: packets by amount ({currency ?? "…"})</legend>
          {rows.map((r, i) => (
            <div className="row inv-row" key={i}>
              <Field label={`Amount ${i + 1}`} name={`inv-amount-${i}`} inputMode="decimal" value={r.amount} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, amount: e.target.value } : x)))} />
              <Field label={`Packets ${i + 1}`} name={`inv-count-${i}`} type="number" min={1} value={r.count} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, count: e.target.value } : x)))} />
              <button type="button" className="secondary" aria-label={`Remove amount ${i + 1}`} disabled={rows.length < 2} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                ✕
              </button>
            </div>
          ))}
          <button type="button" className="secondary" onClick={() => setRows([...rows, { amount: "", count: "1" }])}>
            Add an amount
          </button>
          {inventoryError && <small className="field-error">{inventoryError}</small>}
        </fieldset>
        <ErrorBox error={formError(create.error, fields) && !inventoryError ? create.error : null} title="Not created" />
        <button type="submit" disabled={create.isPending || !currency}>
          {create.isPending ? "Creating…" : "Create campaign"}
        </button>
      </form>
    </Card>
  );
}

function Recent({ current, onPick }: { current: string | null; onPick(id: string): void }) {
  const [text, setText] = useState("");
  const list = recent();
  return (
    <Card title="Campaigns">
      {list.length ? (
        <ul className="list">
          {list.map((c) => (
            <li key={c.id}>
              <button type="button" className="link" aria-current={c.id === current ? "true" : undefined} onClick={() => onPick(c.id)}>
                {c.name}
              </button>{" "}
              <code className="muted">{c.id.slice(0, 8)}</code>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No campaigns shown in this browser yet. Create one, or open one by id.</Empty>
      )}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) onPick(text.trim());
        }}
      >
        <Field label="Campaign id" name="campaign-id" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Open</button>
      </form>
    </Card>
  );
}

function Watch({ id, onSeen }: { id: string; onSeen(): void }) {
  const { fmt } = useMoney();
  const now = useTick();
  const campaign = useQuery({ queryKey: ["campaign", id], queryFn: () => get<Campaign>(`/api/campaigns/${encodeURIComponent(id)}`) });
  const [live, setLive] = useState<{ remaining: number; recent: number[] } | null>(null);
  const feed = useFeed(campaign.isSuccess ? `/ws/campaigns/${encodeURIComponent(id)}` : null, (m) => {
    const remaining = typeof m?.remaining === "number" ? m.remaining : null;
    const amounts: number[] = Array.isArray(m?.amounts) ? m.amounts.filter((a: unknown) => typeof a === "number") : [];
    setLive((prev) => ({ remaining: remaining ?? prev?.remaining ?? 0, recent: [...amounts.reverse(), ...(prev?.recent ?? [])].slice(0, 20) }));
  });
  const loaded = campaign.data;
  useEffect(() => {
    if (!loaded) return;
    remember(loaded);
    onSeen();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded?.id]);
  if (campaign.isPending) return <Loading what="Loading the campaign" />;
  if (campaign.isError)
    return <ErrorBox error={campaign.error} title={campaign.error instanceof ApiError && campaign.error.status === 404 ? "No such campaign" : "Could not load it"} />;
  const c = campaign.data;
  const remaining = live?.remaining ?? c.remaining;
  const total = c.opened + c.remaining;
  return (
    <>
      <Card title={c.name} actions={<Banner state={feed.state} lastMessageAt={feed.lastMessageAt} now={now} />}>
        <dl className="stats">
          <div>
            <dt>Remaining</dt>
            <dd data-testid="rain-remaining">{count(remaining)}</dd>
          </div>
          <div>
            <dt>Opened</dt>
            <dd>{count(total - remaining)}</dd>
          </div>
          <div>
            <dt>Window</dt>
            <dd className="small">
              {time(c.start_time)} – {time(c.end_time)}
            </dd>
          </div>
        </dl>
        <meter min={0} max={total} value={remaining} aria-label="Packets remaining" />
        {live?.recent.length ? (
          <p className="muted">Just opened: {live.recent.map(fmt).join(", ")}</p>
        ) : null}
        <button type="button" className="secondary" onClick={() => campaign.refetch()}>
          Refresh inventory
        </button>
      </Card>
      <Card title="Inventory by amount">
        <div className="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Amount</th>
                <th scope="col">Packets</th>
                <th scope="col">Opened</th>
                <th scope="col">Left</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(c.inventory)
                .sort(([a], [b]) => Number(a) - Number(b))
                .map(([amount, inv]) => (
                  <tr key={amount}>
                    <td>{fmt(Number(amount))}</td>
                    <td>{count(inv.total)}</td>
                    <td>{count(inv.opened)}</td>
                    <td>{count(inv.total - inv.opened)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </Card>
      <OpenPacket id={id} onOpened={() => campaign.refetch()} />
    </>
  );
}

function OpenPacket({ id, onOpened }: { id: string; onOpened(): void }) {
  const session = useSession();
  const { fmt } = useMoney();
  const [user, setUser] = useState(session.kind === "user" ? session.userId : "");
  const open = useMutation({
    mutationFn: () => call<Open>(`/api/campaigns/${encodeURIComponent(id)}/open`, { body: { user_id: user.trim() } }, [400, 404, 409, 410]),
    onSettled: onOpened,
  });
  const o = open.data?.body;
  return (
    <Card title="Open a packet">
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          open.mutate();
        }}
      >
        <Field label="As user" name="open-user" value={user} readOnly={session.kind === "user"} onChange={(e) => setUser(e.target.value)} error={fieldError(open.error, "user_id")} />
        <button type="submit" disabled={!user.trim() || open.isPending}>
          Open
        </button>
      </form>
      <ErrorBox error={formError(open.error, ["user_id"])} title="Not opened" />
      {o && (
        <p role="status" className={o.status === "OK" ? "ok" : "warn"}>
          {"amount" in o ? `${o.status === "OK" ? "Opened" : "Already opened"}: ${fmt(o.amount)}` : o.status.replace("_", " ").toLowerCase()}
        </p>
      )}
    </Card>
  );
}
