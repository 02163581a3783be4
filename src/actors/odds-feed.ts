import type { Connection } from "partyserver";
import type { StoredEvent } from "../lib/actor";
import { FrameError, Hub, type FeedItem, type SocketState } from "../lib/hub";
import { oddsEventId } from "../lib/odds";

/** How many events one socket may follow. */
export const MAX_SUBSCRIPTIONS = 50;

const eventIdOf = (raw: unknown): string => {
  const parsed = oddsEventId.safeParse(raw);
  if (!parsed.success) throw new FrameError("BAD_EVENT_ID", "eventId: 1–64 letters, digits, _ . : or -");
  return parsed.data;
};

/**
 * `/ws/odds`: sockets subscribe per sports event. The hub keeps each market's
 * latest applied update (from committed `odds.updated` events), so a subscribe
 * is answered with a snapshot consistent with the updates that follow it, and
 * an update at or below a market's version is never sent: per market, a socket
 * sees versions strictly increasing.
 */
export class OddsFeed extends Hub {
  static migrations = [
    {
      id: "odds-feed-1",
      sql: `CREATE TABLE latest (
              event_id TEXT NOT NULL,
              market TEXT NOT NULL,
              version INTEGER NOT NULL,
              payload TEXT NOT NULL,
              PRIMARY KEY (event_id, market)
            );`,
    },
  ];

  protected itemsFor(event: StoredEvent): FeedItem[] {
    if (event.type !== "odds.updated") return [];
    const data = event.data as { event_id: string; market: string; version: number };
    const stored = this.db
      .exec<{ version: number }>("SELECT version FROM latest WHERE event_id = ? AND market = ?", data.event_id, data.market)
      .toArray()[0]?.version;
    if (stored !== undefined && data.version <= stored) return [];
    this.db.exec(
      `INSERT INTO latest (event_id, market, version, payload) VALUES (?, ?, ?, ?)
       ON CONFLICT (event_id, market) DO UPDATE SET version = excluded.version, payload = excluded.payload`,
      data.event_id,
      data.market,
      data.version,
      JSON.stringify(event.data),
    );
    return [{ topic: data.event_id, body: { type: "update", eventId: data.event_id, payload: event.data } }];
  }

  /** `?events=A,B` subscribes at connect: how a reconnecting client resumes its subscriptions. */
  protected topicsFor(url: URL): string[] {
    const raw = url.searchParams.get("events");
    if (!raw) return [];
    const ids = [...new Set(raw.split(","))].map(eventIdOf);
    if (ids.length > MAX_SUBSCRIPTIONS) throw new FrameError("TOO_MANY_SUBSCRIPTIONS", `at most ${MAX_SUBSCRIPTIONS} events per socket`);
    return ids;
  }

  protected greet(conn: Connection<SocketState>): void {
    for (const id of this.following(conn)) this.snapshot(conn, id);
  }

  private snapshot(conn: Connection<SocketState>, eventId: string): void {
    const markets = this.db
      .exec<{ payload: string }>("SELECT payload FROM latest WHERE event_id = ? ORDER BY market", eventId)
      .toArray()
      .map((r) => JSON.parse(r.payload));
    this.reply(conn, { type: "snapshot", eventId, markets });
  }

  protected command(conn: Connection<SocketState>, frame: { type?: unknown; eventId?: unknown }): void {
    const topics = [...this.following(conn)];
    if (frame.type === "subscribe") {
      const id = eventIdOf(frame.eventId);
      if (!topics.includes(id)) {
        if (topics.length >= MAX_SUBSCRIPTIONS) {
          throw new FrameError("TOO_MANY_SUBSCRIPTIONS", `at most ${MAX_SUBSCRIPTIONS} events per socket`);
        }
        this.follow(conn, [...topics, id]);
      }
      return this.snapshot(conn, id);
    }
    if (frame.type === "unsubscribe") {
      const id = eventIdOf(frame.eventId);
      this.follow(conn, topics.filter((t) => t !== id));
      return this.reply(conn, { type: "unsubscribed", eventId: id });
    }
    super.command(conn, frame);
  }
}
