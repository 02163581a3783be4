import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Card, Empty, ErrorBox, Field, fieldError, formError, Loading } from "../components/ui";
import { ApiError, call, get } from "../lib/api";
import { useSession } from "../lib/auth";
import { localInput, time, toMajorText, toMinor, useMoney } from "../lib/format";

export type Offer = {
  id: string;
  version: number;
  name: string;
  min_stake_cents: number;
  bonus_pct: number;
  active: boolean;
  max_bonus_cents?: number | null;
  markets?: string[] | null;
  min_odds?: number | string | null;
  starts_at?: string | null;
  ends_at?: string | null;
  budget_cents?: number | null;
  max_awards_per_user?: number | null;
};
type Version = Partial<Offer> & { version: number; made_by?: string; made_at?: string; changed_by?: string; changed_at?: string; created_at?: string; changes?: unknown; offer?: Partial<Offer> };

/** The fields a version carries: either inline or under `offer`/`rule`. */
const fieldsOf = (v: Version): Partial<Offer> => (v.offer ?? (v as any).rule ?? (v as any).fields ?? v) as Partial<Offer>;

const RULE_FIELDS = ["name", "min_stake_cents", "bonus_pct", "active", "max_bonus_cents", "markets", "min_odds", "starts_at", "ends_at", "budget_cents", "max_awards_per_user"] as const;

type Form = {
  name: string;
  min_stake: string;
  bonus_pct: string;
  active: boolean;
  max_bonus: string;
  markets: string;
  min_odds: string;
  starts_at: string;
  ends_at: string;
  budget: string;
  max_awards_per_user: string;
};
const blank: Form = { name: "", min_stake: "", bonus_pct: "", active: true, max_bonus: "", markets: "", min_odds: "", starts_at: "", ends_at: "", budget: "", max_awards_per_user: "" };

function toForm(o: Offer, currency: string): Form {
  const money = (v: number | null | undefined) => (v === null || v === undefined ? "" : toMajorText(v, currency));
  return {
    name: o.name,
    min_stake: money(o.min_stake_cents),
    bonus_pct: String(Math.round(o.bonus_pct * 1_000_000) / 10_000),
    active: o.active,
    max_bonus: money(o.max_bonus_cents),
    markets: (o.markets ?? []).join(", "),
    min_odds: o.min_odds === null || o.min_odds === undefined ? "" : String(o.min_odds),
    starts_at: o.starts_at ? localInput(new Date(o.starts_at)) : "",
    ends_at: o.ends_at ? localInput(new Date(o.ends_at)) : "",
    budget: money(o.budget_cents),
    max_awards_per_user: o.max_awards_per_user === null || o.max_awards_per_user === undefined ? "" : String(o.max_awards_per_user),
  };
}

/** The request body; a field the user typed wrongly becomes a local error at that field. */
function toBody(f: Form, currency: string, editing: boolean): Record<string, unknown> {
  const money = (text: string, field: string) => {
    const v = toMinor(text, currency);
    if (v === null) throw new ApiError(0, "INVALID", `${field}: an amount in ${currency}, e.g. 10 or 10.50`);
    return v;
  };
  const body: Record<string, unknown> = { name: f.name.trim(), min_stake_cents: f.min_stake.trim() === "" ? undefined : money(f.min_stake, "min_stake_cents") };
  const pct = Number(f.bonus_pct);
  body.bonus_pct = f.bonus_pct.trim() === "" ? undefined : Number.isFinite(pct) ? Math.round(pct * 10_000) / 1_000_000 : f.bonus_pct;
  body.active = f.active;
  // On edit, an emptied optional field is sent as null (cleared); on create it is left out.
  const opt = (text: string, make: () => unknown) => (text.trim() === "" ? (editing ? null : undefined) : make());
  body.max_bonus_cents = opt(f.max_bonus, () => money(f.max_bonus, "max_bonus_cents"));
  body.markets = opt(f.markets, () => f.markets.split(",").map((m) => m.trim()).filter(Boolean));
  body.min_odds = opt(f.min_odds, () => (Number.isFinite(Number(f.min_odds)) ? Number(f.min_odds) : f.min_odds));
  body.starts_at = opt(f.starts_at, () => new Date(f.starts_at).toISOString());
  body.ends_at = opt(f.ends_at, () => new Date(f.ends_at).toISOString());
  body.budget_cents = opt(f.budget, () => money(f.budget, "budget_cents"));
  body.max_awards_per_user = opt(f.max_awards_per_user, () => Number(f.max_awards_per_user));
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

export function Offers() {
  const session = useSession();
  const offers = useQuery({ queryKey: ["offers"], queryFn: () => get<{ offers: Offer[] } | Offer[]>("/api/offers") });
  const [editing, setEditing] = useState<Offer | "new" | null>(null);
  const [history, setHistory] = useState<string | null>(null);
  const list = offers.data ? (Array.isArray(offers.data) ? offers.data : offers.data.offers) : [];
  const service = session.kind === "service";
  return (
    <div className="grid">
      <Card title="Offers" wide actions={service && <button type="button" onClick={() => setEditing("new")}>New offer</button>}>
        {offers.isPending ? (
          <Loading what="Loading offers" />
        ) : offers.isError ? (
          <ErrorBox error={offers.error} title={offers.error instanceof ApiError && offers.error.status === 404 ? "This server has no offers engine" : "Could not load offers"} />
        ) : list.length === 0 ? (
          <Empty>No offers yet. Create one, or start from the seed offer.</Empty>
        ) : (
          <OfferTable offers={list} onEdit={setEditing} onHistory={setHistory} />
        )}
      </Card>
      {editing && service && (
        <OfferForm key={editing === "new" ? "new" : `${editing.id}@${editing.version}`} offer={editing === "new" ? null : editing} onDone={() => setEditing(null)} />
      )}
      {history && <History id={history} current={list.find((o) => o.id === history) ?? null} key={history} />}
    </div>
  );
}

function OfferTable({ offers, onEdit, onHistory }: { offers: Offer[]; onEdit(o: Offer): void; onHistory(id: string): void }) {
  const { fmt } = useMoney();
  const session = useSession();
  const queries = useQueryClient();
  const deactivate = useMutation({
    mutationFn: (id: string) => call(`/api/offers/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSettled: () => queries.invalidateQueries({ queryKey: ["offers"] }),
  });
  return (
    <>
      <div className="table-wrap" tabIndex={0}>
        <table data-testid="offers">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Bonus</th>
              <th scope="col">Min stake</th>
              <th scope="col">State</th>
              <th scope="col">Version</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {offers.map((o) => (
              <tr key={o.id} data-offer={o.name}>
                <td>{o.name}</td>
                <td>
                  {(o.bonus_pct * 100).toLocaleString(undefined, { maximumFractionDigits: 2 })}%
                  {o.max_bonus_cents ? <span className="muted small"> (max {fmt(o.max_bonus_cents)})</span> : null}
                </td>
                <td>{fmt(o.min_stake_cents)}</td>
                <td>
                  <span className={`pill ${o.active ? "pill-active" : "pill-inactive"}`}>{o.active ? "active" : "inactive"}</span>
                </td>
                <td>v{o.version}</td>
                <td>
                  <div className="actions">
                  {session.kind === "service" && (
                    <button type="button" className="secondary small" onClick={() => onEdit(o)}>
                      Edit<span className="sr-only"> {o.name}</span>
                    </button>
                  )}
                  <button type="button" className="secondary small" onClick={() => onHistory(o.id)}>
                    History<span className="sr-only"> of {o.name}</span>
                  </button>
                  {session.kind === "service" && o.active && (
                    <button type="button" className="danger small" disabled={deactivate.isPending} onClick={() => deactivate.mutate(o.id)}>
                      Deactivate<span className="sr-only"> {o.name}</span>
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={deactivate.error} title="Not deactivated" />
    </>
  );
}

function OfferForm({ offer, onDone }: { offer: Offer | null; onDone(): void }) {
  const { currency, fmt } = useMoney();
  const [form, setForm] = useState<Form>(() => (offer && currency ? toForm(offer, currency) : blank));
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => {
      const body = toBody(form, currency!, offer !== null);
      return offer
        ? call<Offer>(`/api/offers/${encodeURIComponent(offer.id)}`, { method: "PUT", body })
        : call<Offer>("/api/offers", { body });
    },
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["offers"] });
      void queries.invalidateQueries({ queryKey: ["offer-versions"] });
      onDone();
    },
  });
  const e = save.error;
  const set = (k: keyof Form) => (ev: { target: { value: string } }) => setForm({ ...form, [k]: ev.target.value });
  const err = (f: string) => fieldError(e, f);
  const seed = () => currency && setForm({ ...blank, name: `10% bonus ≥ ${fmt(1000).replace(/\.00$/, "")}`, min_stake: toMajorText(1000, currency), bonus_pct: "10" });
  return (
    <Card title={offer ? `Edit ${offer.name} (v${offer.version})` : "New offer"}>
      <form
        noValidate
        onSubmit={(ev) => {
          ev.preventDefault();
          save.mutate();
        }}
      >
        {!offer && (
          <p>
            <button type="button" className="secondary" onClick={seed}>
              Start from the seed offer: 10% bonus ≥ {currency ? fmt(1000) : "…"}
            </button>
          </p>
        )}
        <Field label="Name" name="offer-name" value={form.name} onChange={set("name")} error={err("name")} />
        <div className="row">
          <Field label={`Minimum stake (${currency ?? "…"})`} name="offer-min-stake" inputMode="decimal" value={form.min_stake} onChange={set("min_stake")} error={err("min_stake_cents")} />
          <Field label="Bonus (% of stake)" name="offer-bonus-pct" inputMode="decimal" value={form.bonus_pct} onChange={set("bonus_pct")} error={err("bonus_pct") && `${err("bonus_pct")} (here as a percentage: above 0, at most 100, at most 2 decimals)`} hint="more than 0, at most 100" />
        </div>
        <div className="row">
          <Field label={`Bonus cap per award (${currency ?? "…"})`} name="offer-max-bonus" inputMode="decimal" value={form.max_bonus} onChange={set("max_bonus")} error={err("max_bonus_cents")} hint="optional" />
          <Field label={`Total budget (${currency ?? "…"})`} name="offer-budget" inputMode="decimal" value={form.budget} onChange={set("budget")} error={err("budget_cents")} hint="optional" />
        </div>
        <div className="row">
          <Field label="Markets" name="offer-markets" value={form.markets} onChange={set("markets")} error={err("markets") ?? (e instanceof ApiError && e.field?.startsWith("markets.") ? e.fieldMessage : null)} hint="optional, comma-separated" />
          <Field label="Minimum odds" name="offer-min-odds" inputMode="decimal" value={form.min_odds} onChange={set("min_odds")} error={err("min_odds")} hint="optional" />
          <Field label="Awards per user" name="offer-max-awards" type="number" min={1} value={form.max_awards_per_user} onChange={set("max_awards_per_user")} error={err("max_awards_per_user")} hint="optional" />
        </div>
        <div className="row">
          <Field label="Starts" name="offer-starts" type="datetime-local" value={form.starts_at} onChange={set("starts_at")} error={err("starts_at")} hint="optional" />
          <Field label="Ends" name="offer-ends" type="datetime-local" value={form.ends_at} onChange={set("ends_at")} error={err("ends_at")} hint="optional" />
        </div>
        <div className="field checkbox">
          <label>
            <input type="checkbox" checked={form.active} onChange={(ev) => setForm({ ...form, active: ev.target.checked })} /> Active
          </label>
        </div>
        <ErrorBox error={formError(e, [...RULE_FIELDS])} title="Not saved" />
        <div className="buttons">
          <button type="submit" disabled={save.isPending || !currency}>
            {save.isPending ? "Saving…" : offer ? "Save new version" : "Create offer"}
          </button>
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </Card>
  );
}

function show(field: string, v: unknown, fmt: (c: number) => string): string {
  if (v === null || v === undefined) return "—";
  if (field.endsWith("_cents") && typeof v === "number") return fmt(v);
  if (field === "bonus_pct" && typeof v === "number") return `${(v * 100).toLocaleString(undefined, { maximumFractionDigits: 2 })}%`;
  if (field.endsWith("_at") && typeof v === "string") return time(v);
  if (Array.isArray(v)) return v.join(", ") || "—";
  return String(v);
}

function History({ id, current }: { id: string; current: Offer | null }) {
  const { fmt } = useMoney();
  const session = useSession();
  const queries = useQueryClient();
  const versions = useQuery({
    queryKey: ["offer-versions", id],
    queryFn: () => get<{ versions: Version[] } | Version[]>(`/api/offers/${encodeURIComponent(id)}/versions`),
  });
  const rollback = useMutation({
    mutationFn: (v: Version) => {
      const f = fieldsOf(v);
      const body = Object.fromEntries(RULE_FIELDS.filter((k) => k in f).map((k) => [k, f[k] ?? null]));
      return call<Offer>(`/api/offers/${encodeURIComponent(id)}`, { method: "PUT", body });
    },
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["offers"] });
      void queries.invalidateQueries({ queryKey: ["offer-versions", id] });
    },
  });
  const list = versions.data ? (Array.isArray(versions.data) ? versions.data : versions.data.versions) : [];
  return (
    <Card title={`History of ${current?.name ?? id}`}>
      {versions.isPending ? (
        <Loading what="Loading versions" />
      ) : versions.isError ? (
        <ErrorBox error={versions.error} title="Could not load versions" />
      ) : list.length === 0 ? (
        <Empty>No versions.</Empty>
      ) : (
        <ol className="versions" data-testid="versions">
          {[...list].sort((a, b) => b.version - a.version).map((v) => {
            const f = fieldsOf(v);
            const diff = current ? RULE_FIELDS.filter((k) => k in f && JSON.stringify(f[k] ?? null) !== JSON.stringify(current[k] ?? null)) : [];
            const isActive = current?.version === v.version;
            return (
              <li key={v.version}>
                <div>
                  <strong>v{v.version}</strong> {isActive && <span className="pill pill-active">current</span>}{" "}
                  <span className="muted small">
                    {time(v.made_at ?? v.changed_at ?? v.created_at ?? null)} by {v.made_by ?? v.changed_by ?? "—"}
                  </span>
                </div>
                {isActive ? null : diff.length === 0 ? (
                  <p className="muted small">Same rule as the current version.</p>
                ) : (
                  <table className="diff">
                    <caption className="sr-only">v{v.version} against the current version</caption>
                    <thead>
                      <tr>
                        <th scope="col">Field</th>
                        <th scope="col">v{v.version}</th>
                        <th scope="col">Current</th>
                      </tr>
                    </thead>
                    <tbody>
                      {diff.map((k) => (
                        <tr key={k}>
                          <th scope="row">{k}</th>
                          <td className="del">{show(k, f[k], fmt)}</td>
                          <td className="ins">{show(k, current![k], fmt)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
                {!isActive && session.kind === "service" && diff.length > 0 && (
                  <button type="button" className="secondary small" disabled={rollback.isPending} onClick={() => rollback.mutate(v)}>
                    Roll back to v{v.version}
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <ErrorBox error={rollback.error} title="Not rolled back" />
    </Card>
  );
}
