import type { Connection, ConnectionContext } from "partyserver";
import { ALL, Hub, type FeedItem, type SocketState } from "../lib/hub";
import { mergedStats } from "../lib/stats";

/**
 * `/ws/stats`: once a second, totals and per-second counts merged from every
 * relay shard. The timer is the alarm, and it re-arms only while a socket is
 * open, so an unwatched hub stops and hibernates.
 */
export class StatsFeed extends Hub {
  protected bufferSize = 60;
  /** The hub's clock; tests replace it. */
  clock = () => Date.now();

  protected itemsFor(): FeedItem[] {
    return [];
  }

  protected topicsFor(): string[] {
    return [ALL];
  }

  protected async greet(conn: Connection<SocketState>): Promise<void> {
    this.reply(conn, { type: "stats", ...(await mergedStats(this.env, this.clock())) });
  }

  async onConnect(conn: Connection<SocketState>, ctx: ConnectionContext): Promise<void> {
    await super.onConnect(conn, ctx);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.nextTick());
  }

  async onAlarm(): Promise<void> {
    if (!this.ctx.getWebSockets().length) return; // nobody watches: no re-arm
    const stats = await mergedStats(this.env, this.clock());
    this.publish([{ topic: ALL, body: { type: "stats", ...stats } }]);
    await this.ctx.storage.setAlarm(this.nextTick());
  }

  /** Just after the next second starts, so the last complete second is counted. */
  private nextTick(): number {
    return (Math.floor(this.clock() / 1000) + 1) * 1000 + 50;
  }
}
