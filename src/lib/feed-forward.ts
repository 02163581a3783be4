// Relay → feed hubs. A relay shard's log is the committed log, so feeds read
// from it: after each append the shard forwards the new entries that some hub
// shows, at least once, from a durable cursor. Hubs skip positions they have
// seen, so a repeat is harmless. The bridge's ack never trims past the cursor.
import type { StoredEvent } from "./actor";
import type { RelayEntry } from "./bridge-wire";
import type { FeedEntry } from "./hub";
import type { Migration } from "./migrations";

export const forwardMigration: Migration = {
  id: "relay-feeds-1",
  sql: `
    CREATE TABLE feed_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), pos INTEGER NOT NULL);
    INSERT INTO feed_cursor (id, pos) VALUES (1, 0);
  `,
};

type HubStub = { deliver(source: string, entries: FeedEntry[]): Promise<number> | number };

/** The hubs an event is shown on (none for most events). */
export function hubsFor(env: Env, e: StoredEvent): { key: string; stub: () => HubStub }[] {
  switch (e.type) {
    case "odds.updated":
      return [{ key: "odds", stub: () => env.ODDS_FEED.getByName("odds") as unknown as HubStub }];
    case "offer.awarded":
      return [{ key: "awards", stub: () => env.AWARDS_FEED.getByName("awards") as unknown as HubStub }];
    case "campaign.created":
    case "campaign.packet_opened": {
      const id = String(e.data.campaign_id);
      return [{ key: `campaign:${id}`, stub: () => env.CAMPAIGN_FEED.getByName(id) as unknown as HubStub }];
    }
    default:
      return [];
  }
}

const BATCH = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * One relay shard's forwarding: a single pass at a time; a failed pass is
 * retried with backoff, and any later append or pull starts a pass too (so an
 * evicted shard catches up on its next call).
 */
export class Forwarder {
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly source: string,
    private readonly read: (after: number, limit: number) => RelayEntry<StoredEvent>[],
  ) {}

  /** The last position every hub has acknowledged. */
  get cursor(): number {
    return this.sql.exec<{ pos: number }>("SELECT pos FROM feed_cursor").one().pos;
  }

  /**
   * Call inside an append's transaction, before its inserts: whether the
   * cursor may move past the appended entries in that same commit. So it may
   * when no pass is running or waiting to retry, every entry before them has
   * been forwarded, and none of them is shown on a hub; then no pass re-reads
   * them (most events, a hot coupon's claims for one, go to no hub).
   */
  canSkip(events: StoredEvent[]): boolean {
    if (this.running || this.retry !== undefined) return false;
    if (events.some((e) => hubsFor(this.env, e).length)) return false;
    return this.sql.exec("SELECT 1 FROM log WHERE pos > ? LIMIT 1", this.cursor).toArray().length === 0;
  }

  /** Moves the cursor to `pos` (after `canSkip` said so, in the same transaction). */
  skipTo(pos: number): void {
    this.sql.exec("UPDATE feed_cursor SET pos = ?", pos);
  }

  /** Starts a pass (or asks the running one to go round again). Resolves when the pass ends. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        const entries = this.read(this.cursor, BATCH);
        if (!entries.length) break;
        const byHub = new Map<string, { stub: () => HubStub; entries: FeedEntry[] }>();
        for (const entry of entries) {
          for (const hub of hubsFor(this.env, entry.event)) {
            const group = byHub.get(hub.key) ?? { stub: hub.stub, entries: [] };
            group.entries.push(entry);
            byHub.set(hub.key, group);
          }
        }
        try {
          await Promise.all([...byHub.values()].map((g) => g.stub().deliver(this.source, g.entries)));
        } catch (err) {
          this.failures++;
          const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures) * (0.5 + Math.random() / 2);
          console.error(JSON.stringify({ msg: "feed forwarding failed", error: String(err), retry_in_ms: Math.round(delay) }));
          this.retry = setTimeout(() => void this.kick(), delay);
          return;
        }
        this.failures = 0;
        this.sql.exec("UPDATE feed_cursor SET pos = ?", entries.at(-1)!.pos);
      }
    } while (this.again);
  }
}
