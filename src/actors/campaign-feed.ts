import type { Connection } from "partyserver";
import type { StoredEvent } from "../lib/actor";
import { ALL, Hub, type FeedEntry, type FeedItem, type SocketState } from "../lib/hub";

/** At most this many messages a second per campaign. */
export const RAIN_MESSAGES_PER_SECOND = 10;
const INTERVAL_MS = 1000 / RAIN_MESSAGES_PER_SECOND;
/** Amounts listed in one message; the rest are summed only. */
const MAX_AMOUNTS = 1000;

type Rain = { packets: number | null; opened: number; opened_cents: number; last_sent_ms: number };

/**
 * `/ws/campaigns/{id}`: a campaign's live remaining and the amounts being
 * opened, from committed `campaign.packet_opened` events, coalesced: an event
 * arriving within 100 ms of the last message waits for the next one.
 */
export class CampaignFeed extends Hub {
  static migrations = [
    {
      id: "campaign-feed-1",
      sql: `
        CREATE TABLE rain (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          packets INTEGER,
          opened INTEGER NOT NULL,
          opened_cents INTEGER NOT NULL,
          last_sent_ms INTEGER NOT NULL
        );
        INSERT INTO rain (id, packets, opened, opened_cents, last_sent_ms) VALUES (1, NULL, 0, 0, 0);
        CREATE TABLE pending (id INTEGER PRIMARY KEY AUTOINCREMENT, amount INTEGER NOT NULL);
      `,
    },
  ];
  protected bufferSize = 200;
  /** The hub's clock; tests replace it. */
  clock = () => Date.now();
  private flushing: Promise<void> | null = null;

  protected itemsFor(event: StoredEvent): FeedItem[] {
    const d = event.data as Record<string, unknown>;
    if (event.type === "campaign.created" && typeof d.packets === "number") {
      this.db.exec("UPDATE rain SET packets = ?", d.packets);
    } else if (event.type === "campaign.packet_opened" && typeof d.amount === "number") {
      this.db.exec("UPDATE rain SET opened = opened + 1, opened_cents = opened_cents + ?", d.amount);
      this.db.exec("INSERT INTO pending (amount) VALUES (?)", d.amount);
    }
    return []; // sent by flush, coalesced
  }

  deliver(source: string, entries: FeedEntry[]): number {
    const n = super.deliver(source, entries);
    if (n) void this.flushSoon();
    return n;
  }

  private rain(): Rain {
    return this.db.exec<Rain>("SELECT packets, opened, opened_cents, last_sent_ms FROM rain").one();
  }

  /** Flushes now if the last message is 100 ms old, else arms the alarm for when it will be. */
  private async flushSoon(): Promise<void> {
    const wait = this.rain().last_sent_ms + INTERVAL_MS - this.clock();
    if (wait <= 0) return this.flush();
    // Alarms run on the real clock; `clock` only decides what is due.
    const at = Date.now() + wait;
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
  }

  async onAlarm(): Promise<void> {
    await this.flushSoon();
  }

  private flush(): Promise<void> {
    this.flushing ??= this.send1().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async send1(): Promise<void> {
    if (this.rain().packets === null) await this.learnPackets();
    const amounts = this.db.exec<{ amount: number }>("SELECT amount FROM pending ORDER BY id").toArray().map((r) => r.amount);
    if (!amounts.length) return;
    // No await from here on: what is read, cleared and sent is one step.
    this.db.exec("DELETE FROM pending");
    this.db.exec("UPDATE rain SET last_sent_ms = ?", this.clock());
    this.publish([{ topic: ALL, body: { type: "rain", ...this.view(), opened_now: amounts.length, amounts: amounts.slice(0, MAX_AMOUNTS) } }]);
  }

  /** The campaign's size, if its `campaign.created` has not come through (yet). */
  private async learnPackets(): Promise<void> {
    const view = await this.env.CAMPAIGN.getByName(this.name).get();
    if (!view.ok) return;
    const packets = Object.values(view.value.inventory).reduce((s, l) => s + l.total, 0);
    this.db.exec("UPDATE rain SET packets = coalesce(packets, ?)", packets);
  }

  private view() {
    const r = this.rain();
    return {
      campaignId: this.name,
      packets: r.packets,
      remaining: r.packets === null ? null : r.packets - r.opened,
      opened: r.opened,
      opened_cents: r.opened_cents,
    };
  }

  protected topicsFor(): string[] {
    return [ALL];
  }

  protected greet(conn: Connection<SocketState>): void {
    this.reply(conn, { type: "rain", ...this.view(), opened_now: 0, amounts: [] });
  }
}
