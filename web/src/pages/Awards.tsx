import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { Banner, Card, Empty, Loading } from "../components/ui";
import { call, get } from "../lib/api";
import { time, useMoney } from "../lib/format";
import { useFeed, useTick } from "../lib/live";

/** An `offer.awarded` event's data, as the awards feed carries it (docs/events.md). */
type AwardData = {
  award_id: string;
  bet_key: string;
  event_id: string;
  user_id: string;
  offer_id: string;
  offer_version: number;
  stake_cents: number;
  bonus_cents: number;
  awarded_at: string;
};
/** `/ws/awards` frames: `{type: "award", eventId, time, award}` (and hello, error, pong). */
type AwardFrame = { type?: string; eventId?: string; time?: string; award?: AwardData };

export type Award = { id: string; user: string; offer: string; bet: string; stake: number; bonus: number; at: string };

/** An award from a feed frame, or null for any other frame. */
export function toAward(m: AwardFrame): Award | null {
  const a = m.type === "award" ? m.award : undefined;
  if (!a || typeof a.award_id !== "string") return null;
  return { id: a.award_id, user: a.user_id, offer: a.offer_id, bet: a.event_id, stake: a.stake_cents, bonus: a.bonus_cents, at: a.awarded_at ?? m.time ?? "" };
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
  // Offers are public and few: their names make the feed readable.
  const offers = useQuery({ queryKey: ["offers"], queryFn: () => get<{ offers: { id: string; name: string }[] }>("/api/offers") });
  const offerName = (id: string) => offers.data?.offers.find((o) => o.id === id)?.name ?? id;

  // Browsers cannot send headers on a WebSocket: each (re)connect takes a
  // short-lived ticket from an authenticated call.
  const ticket = async () => ({ ticket: (await call<{ ticket: string }>("/api/feeds/awards/tickets", { method: "POST" })).body.ticket });
  const feed = useFeed<AwardFrame>("/ws/awards", (m) => {
    setItems((prev) => prev ?? []);
    const award = toAward(m);
    if (!award || seen.current.has(award.id)) return;
    seen.current.add(award.id);
    if (pausedRef.current) {
      held.current = [award, ...held.current];
      setHeldCount(held.current.length);
    } else setItems((prev) => [award, ...(prev ?? [])].slice(0, KEEP));
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
        wide
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
                <strong className="ok" data-testid="award-bonus">+{fmt(a.bonus)}</strong> to <span data-testid="award-user">{a.user}</span>
                <span className="muted">
                  {" "}
                  · {offerName(a.offer)} · bet on {a.bet}, stake {fmt(a.stake)} · {time(a.at)}
                </span>
              </li>
            ))}
          </ol>
        )}
      </Card>
    </div>
  );
}
