import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Card, Empty, ErrorBox, Field, fieldError, formError, Loading } from "../components/ui";
import { ApiError, call, get } from "../lib/api";
import { useSession } from "../lib/auth";
import { count } from "../lib/format";

type Coupon = { name: string; amount: number; remaining_amount: number; claimed_by?: string[]; next_cursor?: string };
type Claim = { status: "CLAIMED"; remaining_amount: number } | { status: "ALREADY_CLAIMED" | "SOLD_OUT" | "NOT_FOUND" };

const PAGE = 10;

export function Coupons() {
  const session = useSession();
  const [name, setName] = useState(() => new URLSearchParams(location.search).get("name") ?? "");
  return (
    <div className="grid">
      {session.kind === "service" && <CreateCoupon onCreated={setName} />}
      <LookUp name={name} onName={setName} />
      {name && <Stock name={name} />}
    </div>
  );
}

function CreateCoupon({ onCreated }: { onCreated(name: string): void }) {
  const [form, setForm] = useState({ name: "", amount: "100" });
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: () => call<Coupon>("/api/coupons", { body: { name: form.name.trim(), amount: Number(form.amount) } }),
    onSuccess: ({ body }) => {
      queries.setQueryData(["coupon", body.name, null], body);
      onCreated(body.name);
    },
  });
  return (
    <Card title="Create a coupon">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Field
          label="Name"
          name="coupon-name"
          value={form.name}
          placeholder="PROMO_SUPER"
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          error={fieldError(create.error, "name")}
          hint="letters, digits, _ and -"
        />
        <Field
          label="Stock (claims)"
          name="coupon-amount"
          type="number"
          min={1}
          value={form.amount}
          onChange={(e) => setForm({ ...form, amount: e.target.value })}
          error={fieldError(create.error, "amount")}
        />
        <ErrorBox error={formError(create.error, ["name", "amount"])} title="Not created" />
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create coupon"}
        </button>
        {create.isSuccess && <p className="ok">Created {create.data.body.name}.</p>}
      </form>
    </Card>
  );
}

function LookUp({ name, onName }: { name: string; onName(n: string): void }) {
  const [text, setText] = useState(name);
  return (
    <Card title="Find a coupon">
      <form
        className="inline"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          onName(text.trim());
        }}
      >
        <Field label="Coupon name" name="coupon-lookup" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Show</button>
      </form>
    </Card>
  );
}

function Stock({ name }: { name: string }) {
  const session = useSession();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const stock = useQuery({
    queryKey: ["coupon", name, cursor],
    queryFn: () =>
      get<Coupon>(`/api/coupons/${encodeURIComponent(name)}?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ""}`),
  });

  return (
    <>
      <Card title={`Coupon ${name}`}>
        {stock.isPending ? (
          <Loading what="Loading the stock" />
        ) : stock.isError ? (
          <ErrorBox
            error={stock.error}
            title={stock.error instanceof ApiError && stock.error.status === 404 ? "No such coupon" : "Could not load it"}
          />
        ) : (
          <dl className="stats">
            <div>
              <dt>Stock</dt>
              <dd>{count(stock.data.amount)}</dd>
            </div>
            <div>
              <dt>Remaining</dt>
              <dd data-testid="coupon-remaining">{count(stock.data.remaining_amount)}</dd>
            </div>
            <div>
              <dt>Claimed</dt>
              <dd>{count(stock.data.amount - stock.data.remaining_amount)}</dd>
            </div>
          </dl>
        )}
      </Card>
      {stock.isSuccess && <ClaimForm name={name} />}
      {session.kind === "service" && stock.isSuccess && (
        <Card title="Claimants">
          {stock.data.claimed_by?.length ? (
            <ol className="claimants" start={(cursors.length - 1) * PAGE + 1}>
              {stock.data.claimed_by.map((u) => (
                <li key={u}>{u}</li>
              ))}
            </ol>
          ) : (
            <Empty>No one has claimed it yet.</Empty>
          )}
          <div className="pager">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <span>Page {cursors.length}</span>
            <button
              type="button"
              disabled={!stock.data.next_cursor}
              onClick={() => setCursors([...cursors, stock.data.next_cursor!])}
            >
              Next
            </button>
          </div>
        </Card>
      )}
    </>
  );
}

function ClaimForm({ name }: { name: string }) {
  const session = useSession();
  const [user, setUser] = useState(session.kind === "user" ? session.userId : "");
  const queries = useQueryClient();
  const claim = useMutation({
    mutationFn: () =>
      call<Claim>("/api/coupons/claim", { body: { coupon_name: name, user_id: user.trim() } }, [404, 409]),
    onSettled: () => queries.invalidateQueries({ queryKey: ["coupon", name] }),
  });
  const outcome = claim.data?.body;
  return (
    <Card title="Claim">
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          claim.mutate();
        }}
      >
        <Field
          label="As user"
          name="claim-user"
          value={user}
          readOnly={session.kind === "user"}
          onChange={(e) => setUser(e.target.value)}
          error={fieldError(claim.error, "user_id")}
        />
        <button type="submit" disabled={claim.isPending || !user.trim()}>
          Claim
        </button>
      </form>
      <ErrorBox error={formError(claim.error, ["user_id"])} title="Claim failed" />
      {outcome && (
        <p className={outcome.status === "CLAIMED" ? "ok" : "warn"} role="status" data-testid="claim-outcome">
          {outcome.status === "CLAIMED"
            ? `Claimed: ${count(outcome.remaining_amount)} left.`
            : { ALREADY_CLAIMED: "Already claimed by this user.", SOLD_OUT: "Sold out.", NOT_FOUND: "No such coupon." }[
                outcome.status
              ]}
        </p>
      )}
    </Card>
  );
}
