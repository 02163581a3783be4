import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { Banner, Card, Empty, ErrorBox, Loading } from "../components/ui";
import { get } from "../lib/api";
import { time } from "../lib/format";
import { useFeed, useTick } from "../lib/live";

/** The odds service's message, as sent: odds are exact decimal strings or numbers, shown as they came. */
type OddsMessage = {
  event_id: string;
  home_team?: string;
  away_team?: string;
  market: string;
  odds: Record<string, string | number>;
  updated_at?: string;
  source?: string;
  version: number;
};
type EventSummary = { event_id: string; home_team?: string; away_team?: string };
type Line = OddsMessage & { changed: string[]; flash: number };

const asList = <T,>(v: unknown, key: string): T[] => (Array.isArray(v) ? v : Array.isArray((v as any)?.[key]) ? (v as any)[key] : []);

export function Odds() {
  const now = useTick();
  const events = useQuery({ queryKey: ["events"], queryFn: () => get<unknown>("/api/events") });
  const [subscribed, setSubscribed] = useState<string[]>([]);
  const subs = useRef(subscribed);
  subs.current = subscribed;
  const [lines, setLines] = useState<Record<string, Line>>({});
  const flashes = useRef(0);

  function apply(msgs: OddsMessage[]) {
    setLines((prev) => {
      const next = { ...prev };
      for (const m of msgs) {
        if (!m || typeof m.event_id !== "string" || !m.odds) continue;
        const key = `${m.event_id}/${m.market}`;
        const old = next[key];
        if (old && old.version >= m.version) continue; // never move backwards
        const changed = old ? Object.keys(m.odds).filter((k) => String(m.odds[k]) !== String(old.odds[k])) : [];
        next[key] = { ...m, changed, flash: ++flashes.current };
      }
      return next;
    });
  }

  const feed = useFeed(
    "/ws/odds",
    (m) => {
      if (m?.type === "error" || m?.type === "pong") return;
      // A subscribe ack carries the snapshot; an update carries {eventId, payload}.
      const snapshot = m?.snapshot ?? m?.odds ?? m?.markets;
      if (m?.payload) apply([m.payload]);
      else if (snapshot) apply(Array.isArray(snapshot) ? snapshot : Object.values(snapshot).some((v: any) => v?.odds) ? Object.values(snapshot) : [snapshot]);
    },
    (send) => {
      for (const id of subs.current) send({ type: "subscribe", eventId: id });
    },
  );

  function toggle(id: string) {
    const on = subscribed.includes(id);
    feed.send({ type: on ? "unsubscribe" : "subscribe", eventId: id });
    setSubscribed(on ? subscribed.filter((x) => x !== id) : [...subscribed, id]);
    if (on) setLines((prev) => Object.fromEntries(Object.entries(prev).filter(([, l]) => l.event_id !== id)));
  }

  const list = asList<EventSummary | string>(events.data, "events").map((e) => (typeof e === "string" ? { event_id: e } : e));
  const shown = Object.values(lines).sort((a, b) => a.event_id.localeCompare(b.event_id) || a.market.localeCompare(b.market));

  return (
    <div className="grid">
      <Banner state={feed.state} lastMessageAt={feed.lastMessageAt} now={now} />
      <Card title="Events" actions={<button type="button" className="secondary small" onClick={() => events.refetch()}>Refresh</button>}>
        {events.isPending ? (
          <Loading what="Loading events" />
        ) : events.isError ? (
          <ErrorBox error={events.error} title="Could not load events" />
        ) : list.length === 0 ? (
          <Empty>No events yet: odds arrive on the odds_updates topic or POST /api/odds.</Empty>
        ) : (
          <ul className="list events">
            {list.map((e) => (
              <li key={e.event_id}>
                <label>
                  <input type="checkbox" checked={subscribed.includes(e.event_id)} onChange={() => toggle(e.event_id)} disabled={feed.state !== "connected"} />{" "}
                  <strong>{e.event_id}</strong>
                  {e.home_team && (
                    <span className="muted">
                      {" "}
                      {e.home_team} v {e.away_team}
                    </span>
                  )}
                </label>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Live odds" wide>
        {subscribed.length === 0 ? (
          <Empty>Tick an event to follow its odds live.</Empty>
        ) : shown.length === 0 ? (
          <Loading what="Waiting for odds" />
        ) : (
          <div className="table-wrap" tabIndex={0}>
            <table data-testid="odds">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Market</th>
                  <th scope="col" className="num">Home</th>
                  <th scope="col" className="num">Draw</th>
                  <th scope="col" className="num">Away</th>
                  <th scope="col" className="num">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((l) => (
                  <tr key={`${l.event_id}/${l.market}`} data-event={l.event_id}>
                    <td>
                      {l.event_id}
                      {l.home_team && <div className="muted small">{l.home_team} v {l.away_team}</div>}
                    </td>
                    <td>{l.market}</td>
                    {["home", "draw", "away"].map((k) => (
                      // The key changes with each update, so the highlight animation runs again.
                      <td key={`${k}-${l.changed.includes(k) ? l.flash : 0}`} className={`num${l.changed.includes(k) ? " changed" : ""}`} data-odd={k}>
                        {l.odds[k] == null ? "—" : String(l.odds[k])}
                      </td>
                    ))}
                    <td className="num" data-testid="odds-version">{l.version}</td>
                    <td className="small">{time(l.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
