import { Actor } from "../lib/actor";
import type { EventOdds, EventSummary, MarketOdds, OddsMessage, OddsOutcome } from "../lib/odds";

type MarketRow = {
  market: string;
  home: string;
  draw: string | null;
  away: string;
  version: number;
  updated_at: string;
  source: string;
};

/** The registry of events `GET /api/events` lists (one object; events are few). */
export const oddsIndex = (env: Env) => env.ODDS_INDEX.getByName("all");

/**
 * One sports event's odds (named by its event_id), one row per market.
 *
 * `version` only grows per market: an update at or below the stored version is
 * counted and dropped, so a redelivery or an out-of-order message never moves
 * odds backwards. Odds are kept as the exact decimal text that was sent. An
 * applied update emits `odds.updated`, which the relay forwards to the odds feed.
 */
export class Odds extends Actor<"odds"> {
  protected readonly kind = "odds";
  static migrations = [
    {
      id: "odds-1",
      sql: `
        CREATE TABLE event (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          home_team TEXT NOT NULL,
          away_team TEXT NOT NULL,
          first_seen_at TEXT NOT NULL,
          stale_ignored INTEGER NOT NULL DEFAULT 0,
          listed INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE markets (
          market TEXT PRIMARY KEY,
          home TEXT NOT NULL,
          draw TEXT,
          away TEXT NOT NULL,
          version INTEGER NOT NULL,
          updated_at TEXT NOT NULL,
          source TEXT NOT NULL
        );
      `,
    },
  ];

  /** RPC: applies an update if its version is above the market's; otherwise counts it. */
  async update(msg: OddsMessage): Promise<OddsOutcome> {
    const outcome = this.mutate((now) => {
      const current = this.sql
        .exec<{ version: number }>("SELECT version FROM markets WHERE market = ?", msg.market)
        .toArray()[0]?.version;
      const event = { event_id: msg.event_id, market: msg.market, version: msg.version };
      if (current !== undefined && msg.version <= current) {
        this.sql.exec("UPDATE event SET stale_ignored = stale_ignored + 1");
        return { status: "STALE", ...event, current_version: current } as const;
      }
      // Team names follow the latest applied update (a correction upstream wins).
      this.sql.exec(
        `INSERT INTO event (id, home_team, away_team, first_seen_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET home_team = excluded.home_team, away_team = excluded.away_team`,
        msg.home_team,
        msg.away_team,
        now,
      );
      this.sql.exec(
        `INSERT INTO markets (market, home, draw, away, version, updated_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (market) DO UPDATE SET home = excluded.home, draw = excluded.draw, away = excluded.away,
           version = excluded.version, updated_at = excluded.updated_at, source = excluded.source`,
        msg.market,
        msg.odds.home,
        msg.odds.draw,
        msg.odds.away,
        msg.version,
        msg.updated_at,
        msg.source,
      );
      this.emit("odds.updated", {
        event_id: msg.event_id,
        home_team: msg.home_team,
        away_team: msg.away_team,
        market: msg.market,
        odds: { home: msg.odds.home, draw: msg.odds.draw, away: msg.odds.away },
        updated_at: msg.updated_at,
        source: msg.source,
        version: msg.version,
      });
      return { status: "APPLIED", ...event } as const;
    });
    await this.list();
    return outcome;
  }

  /**
   * Puts the event in the index until the index has acknowledged it once. A
   * failure here is retried by the next update, and the index's add is idempotent.
   */
  private async list(): Promise<void> {
    const row = this.sql
      .exec<{ home_team: string; away_team: string; first_seen_at: string; listed: number }>(
        "SELECT home_team, away_team, first_seen_at, listed FROM event",
      )
      .toArray()[0];
    if (!row || row.listed) return;
    const summary: EventSummary = {
      event_id: this.name,
      home_team: row.home_team,
      away_team: row.away_team,
      first_seen_at: row.first_seen_at,
    };
    try {
      await oddsIndex(this.env).add(summary);
      this.sql.exec("UPDATE event SET listed = 1");
    } catch (err) {
      console.error(JSON.stringify({ msg: "odds index add failed", event_id: this.name, error: String(err) }));
    }
  }

  /** RPC: the event's current odds, or null if no update was ever applied. */
  get(): EventOdds | null {
    const event = this.sql
      .exec<{ home_team: string; away_team: string; stale_ignored: number }>("SELECT home_team, away_team, stale_ignored FROM event")
      .toArray()[0];
    if (!event) return null;
    return {
      event_id: this.name,
      home_team: event.home_team,
      away_team: event.away_team,
      markets: this.markets(),
      stale_ignored: event.stale_ignored,
    };
  }

  private markets(): MarketOdds[] {
    return this.sql
      .exec<MarketRow>("SELECT market, home, draw, away, version, updated_at, source FROM markets ORDER BY market")
      .toArray()
      .map((r) => ({
        market: r.market,
        odds: { home: r.home, draw: r.draw, away: r.away },
        version: r.version,
        updated_at: r.updated_at,
        source: r.source,
      }));
  }
}
