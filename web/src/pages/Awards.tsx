import { useRef, useState } from "react";
import { Banner, Card, Empty, Loading } from "../components/ui";
import { call } from "../lib/api";
import { time, useMoney } from "../lib/format";
import { useFeed, useTick } from "../lib/live";

export type Award = { id: string; user: string; offer: string; bet: string; stake: number | null; bonus: number | null; at: string | null };

const pick = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};

/** An award from a feed message, in either the API's snake_case or the original topic's camelCase. */
export function toAward(m: any): Award | null {
  const a = (m?.award ?? m?.data ?? m?.payload ?? m) as Record<string, unknown>;
  if (!a || typeof a !== "object") return null;
  const id = pick(a, "award_id", "awardId", "id");
  if (typeof id !== "string") return null;
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  const ts = pick(a, "awarded_at", "time", "ts", "created_at") ?? m?.time;
  return {
    id,
    user: String(pick(a, "user_id", "userId") ?? "?"),
    offer: String(pick(a, "offer_name", "offer_id", "offerId") ?? "?"),
    bet: String(pick(a, "bet_id", "eventId", "event_id") ?? ""),
    stake: num(pick(a, "stake_cents", "stake")),
    bonus: num(pick(a, "bonus_cents", "bonusAmount", "bonus_amount_cents")),
    at: typeof ts === "number" ? new Date(ts).toISOString() : typeof ts === "string" ? ts : null,
  };
}

const KEEP = 200;

export function Awards() {
  const { fmt } = useMoney();
  const now = useTick();
  const [items, setItems] = useState<Award[] | null>(null);
  const [paused, setPaused] = useState(false);
  const held = useRef<Award[]>([]);
  const [heldCount, setHeldCount] = useState(0);
  const seen = useRef(new Set<string>());

  // Browsers cannot send headers on a WebSocket: each (re)connect takes a
  // short-lived ticket from an authenticated call.
  const ticket = async () => ({ ticket: (await call<{ ticket: string }>("/api/feeds/awards/tickets", { method: "POST" })).body.ticket });
  const feed = useFeed("/ws/awards", (m) => {
    if (m?.type && m.type !== "award" && m.type !== "awards") return;
    const list: unknown[] = Array.isArray(m?.awards) ? m.awards : Array.isArray(m?.items) ? m.items : [m];
    const fresh = list.map(toAward).filter((a): a is Award => a !== null && !seen.current.has(a.id));
    setItems((prev) => prev ?? []);
    if (!fresh.length) return;
    for (const a of fresh) seen.current.add(a.id);
    if (pausedRef.current) {
      held.current = [...fresh.reverse(), ...held.current];
      setHeldCount(held.current.length);
    } else setItems((prev) => [...fresh.reverse(), ...(prev ?? [])].slice(0, KEEP));
  }, undefined, ticket);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  function toggle() {
    if (paused) {
      setItems((prev) => [...held.current, ...(prev ?? [])].slice(0, KEEP));
      held.current = [];
      setHeldCount(0);
    }
    setPaused(!paused);
  }

  return (
    <div className="grid">
      <Banner state={feed.state} lastMessageAt={feed.lastMessageAt} now={now} />
      <Card
        title="Awards as they happen"
        actions={
          <button type="button" onClick={toggle} aria-pressed={paused}>
            {paused ? `Resume${heldCount ? ` (${heldCount} new)` : ""}` : "Pause"}
          </button>
        }
      >
        {items === null ? (
          feed.state === "connected" ? (
            <Empty>No awards yet. They appear here the moment a stake window qualifies.</Empty>
          ) : (
            <Loading what="Connecting to the awards feed" />
          )
        ) : items.length === 0 ? (
          <Empty>No awards yet. They appear here the moment a stake window qualifies.</Empty>
        ) : (
          <ol className="feed" data-testid="awards" aria-live={paused ? "off" : "polite"}>
            {items.map((a) => (
              <li key={a.id} data-award={a.id}>
                <strong className="ok">{a.bonus === null ? "award" : `+${fmt(a.bonus)}`}</strong> to <span data-testid="award-user">{a.user}</span>
                <span className="muted">
                  {" "}
                  · offer {a.offer}
                  {a.stake !== null && <> · stake {fmt(a.stake)}</>} · {time(a.at)}
                </span>
              </li>
            ))}
          </ol>
        )}
      </Card>
    </div>
  );
}
