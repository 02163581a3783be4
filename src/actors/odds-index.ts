import { DurableObject } from "cloudflare:workers";
import { migrate } from "../lib/migrations";
import type { EventSummary } from "../lib/odds";

/**
 * The list of sports events that have odds (`GET /api/events`). Each Odds actor
 * adds its event once, at least once; `add` is idempotent. One object suffices:
 * it is written once per event, not once per update.
 */
export class OddsIndex extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () =>
      migrate(ctx.storage, [
        {
          id: "odds-index-1",
          sql: `CREATE TABLE events (
                  pos INTEGER PRIMARY KEY AUTOINCREMENT,
                  event_id TEXT NOT NULL UNIQUE,
                  home_team TEXT NOT NULL,
                  away_team TEXT NOT NULL,
                  first_seen_at TEXT NOT NULL
                );`,
        },
      ]),
    );
  }

  /** RPC: lists the event (once). */
  add(e: EventSummary): void {
    this.sql.exec(
      "INSERT INTO events (event_id, home_team, away_team, first_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
      e.event_id,
      e.home_team,
      e.away_team,
      e.first_seen_at,
    );
  }

  /** RPC: events in the order they were first seen, `limit` after the cursor. */
  list(limit: number, cursor = 0): { events: EventSummary[]; next_cursor?: string } {
    const rows = this.sql
      .exec<EventSummary & { pos: number }>(
        "SELECT pos, event_id, home_team, away_team, first_seen_at FROM events WHERE pos > ? ORDER BY pos LIMIT ?",
        cursor,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const events = page.map(({ pos: _pos, ...e }) => e);
    return rows.length > limit ? { events, next_cursor: String(page.at(-1)!.pos) } : { events };
  }
}
