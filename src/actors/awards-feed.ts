import type { Connection } from "partyserver";
import type { StoredEvent } from "../lib/actor";
import { ALL, FrameError, Hub, type FeedItem, type SocketState } from "../lib/hub";

/** How many recent awards a newly connected socket is sent first. */
export const LATEST_AWARDS = 50;

/** The user an award belongs to, whichever spelling the event uses. */
const userOf = (data: Record<string, unknown>) => String(data.user_id ?? data.userId ?? "");

/**
 * `/ws/awards`: every committed `offer.awarded`, once. The operator (a service
 * ticket) sees every award; a user's ticket sees that user's own.
 */
export class AwardsFeed extends Hub {
  protected itemsFor(event: StoredEvent): FeedItem[] {
    if (event.type !== "offer.awarded") return [];
    return [{ topic: userOf(event.data), body: { type: "award", eventId: event.id, time: event.time, award: event.data } }];
  }

  /** The Worker checked the ticket and names the viewer: `service` or `user:<id>`. */
  protected topicsFor(_url: URL, request: Request): string[] {
    const viewer = request.headers.get("x-feed-viewer") ?? "";
    if (viewer === "service") return [ALL];
    if (viewer.startsWith("user:") && viewer.length > 5) return [viewer.slice(5)];
    throw new FrameError("UNAUTHORIZED", "the awards feed needs a ticket from POST /api/feeds/awards/tickets");
  }

  protected greet(conn: Connection<SocketState>): void {
    const topics = this.following(conn);
    const all = topics.includes(ALL);
    const rows = this.db
      .exec<{ text: string }>(
        all
          ? "SELECT text FROM hub_items ORDER BY seq DESC LIMIT ?"
          : "SELECT text FROM hub_items WHERE topic = ? ORDER BY seq DESC LIMIT ?",
        ...(all ? [LATEST_AWARDS] : [topics[0]!, LATEST_AWARDS]),
      )
      .toArray();
    for (const r of rows.reverse()) this.send(conn, r.text);
  }
}
