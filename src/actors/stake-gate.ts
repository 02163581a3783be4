import type { Migration } from "../lib/migrations";
import { rankOffers, type StoredOffer } from "../lib/offers";
import { arrival, closeAt, qualifies, windowStart, type Arrival, type GateConfig } from "../lib/stake-gate";
import type { WalletHost } from "./wallet-host";

/** A bet as it enters the gate: from POST /api/bets (key = bet id) or events.bet_placed (key = its event id). */
export type GateBet = { key: string; event_id: string; market: string; odds_e4: number | null; stake_cents: number; ts: number };

export type WindowView = {
  start: string;
  end: string;
  closes_at: string;
  sum_cents: number;
  threshold_cents: number;
  state: "open" | "qualified" | "not_qualified";
  bets: number;
  late_bets: { bet_key: string; event_id: string; stake_cents: number; ts: string; arrived_at: string }[];
};

/** One candidate offer for a qualified bet, as the snapshot had it at the close, best first. */
export type Candidate = { offer_id: string; version: number; bonus_cents: number; budget_cents: number | null; max_awards_per_user: number | null };

export const gateMigration: Migration = {
  id: "wallet-gate-1",
  sql: `
    CREATE TABLE gate_bets (
      seq INTEGER PRIMARY KEY,
      bet_key TEXT NOT NULL UNIQUE,
      event_id TEXT NOT NULL,
      market TEXT NOT NULL,
      odds_e4 INTEGER,
      stake INTEGER NOT NULL,
      ts INTEGER NOT NULL,
      window_start INTEGER NOT NULL,
      late INTEGER NOT NULL,
      arrived_at TEXT NOT NULL
    );
    CREATE INDEX gate_bets_window ON gate_bets (window_start, seq);
    CREATE TABLE windows (
      start INTEGER PRIMARY KEY,
      sum_cents INTEGER NOT NULL,
      bets INTEGER NOT NULL,
      threshold_cents INTEGER NOT NULL,
      close_at INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'qualified', 'not_qualified')),
      closed_at TEXT
    );
    -- A qualified bet's offers, best first, and how far the wallet has got through them.
    CREATE TABLE award_tasks (
      seq INTEGER PRIMARY KEY,
      bet_key TEXT NOT NULL UNIQUE,
      candidates TEXT NOT NULL,
      next INTEGER NOT NULL DEFAULT 0,
      done INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX award_tasks_open ON award_tasks (done, seq);
  `,
};

export const CLOSE = "window.close";

/**
 * The stake gate of one user's wallet: event-time tumbling windows. A bet
 * enters by its own timestamp inside the caller's mutation; each window gets
 * one scheduled close row (keyed by its start) at its end plus the allowed
 * lateness. Closing checks the window's state inside its transaction, so a
 * repeated alarm, a restart or a replay never closes, or re-windows, twice.
 */
export class StakeGate {
  constructor(
    private readonly host: WalletHost,
    private readonly config: GateConfig,
  ) {}

  /** Enters a bet; call inside a mutation. A bet key seen before is ignored (DUPLICATE). */
  enter(bet: GateBet, now: string): Arrival | "DUPLICATE" {
    const { sql } = this.host;
    const how = arrival(bet.ts, Date.parse(now), this.config);
    if (how === "TOO_FAR_AHEAD") return how;
    const start = windowStart(bet.ts, this.config);
    const late = how === "LATE";
    const inserted = sql.exec(
      `INSERT INTO gate_bets (bet_key, event_id, market, odds_e4, stake, ts, window_start, late, arrived_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bet_key) DO NOTHING`,
      bet.key,
      bet.event_id,
      bet.market,
      bet.odds_e4,
      bet.stake_cents,
      bet.ts,
      start,
      late ? 1 : 0,
      now,
    );
    if (inserted.rowsWritten === 0) return "DUPLICATE";
    const close = closeAt(start, this.config);
    if (late) {
      // Its window may never have had an on-time bet: it exists, closed, to show the late one.
      sql.exec(
        `INSERT INTO windows (start, sum_cents, bets, threshold_cents, close_at, state, closed_at)
         VALUES (?, 0, 0, ?, ?, 'not_qualified', ?) ON CONFLICT (start) DO NOTHING`,
        start,
        this.config.minWindowStakeCents,
        close,
        now,
      );
      this.host.emit("bet.late", {
        bet_key: bet.key,
        event_id: bet.event_id,
        user_id: this.host.user(),
        market: bet.market,
        stake_cents: bet.stake_cents,
        ts: bet.ts,
        window_start: new Date(start).toISOString(),
        arrived_at: now,
      });
      return how;
    }
    const fresh = sql.exec(
      `INSERT INTO windows (start, sum_cents, bets, threshold_cents, close_at, state) VALUES (?, ?, 1, ?, ?, 'open')
       ON CONFLICT (start) DO UPDATE SET sum_cents = sum_cents + excluded.sum_cents, bets = bets + 1
       RETURNING bets`,
      start,
      bet.stake_cents,
      this.config.minWindowStakeCents,
      close,
    ).one().bets === 1;
    if (fresh) this.host.schedule(close, CLOSE, { start }, `w:${start}`);
    return how;
  }

  /**
   * Closes the window if it is still open (alarms are at least once). A
   * qualified window's bets each emit `bet.qualified` and get their award
   * candidates from `offers` (the snapshot as of this close), all in one
   * transaction. Returns whether award work was queued.
   */
  close(start: number, offers: () => StoredOffer[] | undefined): boolean {
    return this.host.mutate((now) => {
      const { sql } = this.host;
      const w = sql.exec<{ sum_cents: number; threshold_cents: number; state: string }>(
        "SELECT sum_cents, threshold_cents, state FROM windows WHERE start = ?",
        start,
      ).toArray()[0];
      if (!w || w.state !== "open") return false;
      const ok = qualifies(w.sum_cents, { ...this.config, minWindowStakeCents: w.threshold_cents });
      sql.exec("UPDATE windows SET state = ?, closed_at = ? WHERE start = ?", ok ? "qualified" : "not_qualified", now, start);
      if (!ok) return false;
      const active = offers();
      if (!active) throw new Error("no offer snapshot for a qualified window"); // rolls back; the close is retried
      const bets = sql.exec<{ bet_key: string; event_id: string; market: string; odds_e4: number | null; stake: number; ts: number }>(
        "SELECT bet_key, event_id, market, odds_e4, stake, ts FROM gate_bets WHERE window_start = ? AND late = 0 ORDER BY seq",
        start,
      ).toArray();
      let queued = false;
      for (const b of bets) {
        this.host.emit("bet.qualified", {
          bet_key: b.bet_key,
          event_id: b.event_id,
          user_id: this.host.user(),
          market: b.market,
          stake_cents: b.stake,
          ts: b.ts,
          window_start: new Date(start).toISOString(),
          window_sum_cents: w.sum_cents,
          threshold_cents: w.threshold_cents,
          qualified_at: now,
        });
        const candidates: Candidate[] = candidatesFor(active, b);
        if (!candidates.length) continue;
        sql.exec("INSERT INTO award_tasks (bet_key, candidates) VALUES (?, ?) ON CONFLICT (bet_key) DO NOTHING", b.bet_key, JSON.stringify(candidates));
        queued = true;
      }
      return queued;
    });
  }

  /** Whether a window is open and would need the offers to close (saves a snapshot read for the rest). */
  needsOffers(start: number): boolean {
    const w = this.host.sql
      .exec<{ sum_cents: number; threshold_cents: number; state: string }>("SELECT sum_cents, threshold_cents, state FROM windows WHERE start = ?", start)
      .toArray()[0];
    return !!w && w.state === "open" && w.sum_cents >= w.threshold_cents;
  }

  /** Recent windows, newest first; `cursor` is a window start (ms) to continue below. */
  windows(limit: number, cursor?: number): { windows: WindowView[]; next_cursor?: string } {
    const { sql } = this.host;
    const rows = sql
      .exec<{ start: number; sum_cents: number; bets: number; threshold_cents: number; close_at: number; state: WindowView["state"] }>(
        "SELECT start, sum_cents, bets, threshold_cents, close_at, state FROM windows WHERE start < ? ORDER BY start DESC LIMIT ?",
        cursor ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit).map((r) => ({
      start: new Date(r.start).toISOString(),
      end: new Date(r.start + this.config.windowMs).toISOString(),
      closes_at: new Date(r.close_at).toISOString(),
      sum_cents: r.sum_cents,
      threshold_cents: r.threshold_cents,
      state: r.state,
      bets: r.bets,
      late_bets: sql
        .exec<{ bet_key: string; event_id: string; stake: number; ts: number; arrived_at: string }>(
          "SELECT bet_key, event_id, stake, ts, arrived_at FROM gate_bets WHERE window_start = ? AND late = 1 ORDER BY seq LIMIT 100",
          r.start,
        )
        .toArray()
        .map((l) => ({ bet_key: l.bet_key, event_id: l.event_id, stake_cents: l.stake, ts: new Date(l.ts).toISOString(), arrived_at: l.arrived_at })),
    }));
    const out: { windows: WindowView[]; next_cursor?: string } = { windows: page };
    if (rows.length > limit) out.next_cursor = String(rows[limit - 1]!.start);
    return out;
  }
}

/** The offers that would pay the bet, best first (a bet with unknown odds never meets a minimum). */
export function candidatesFor(
  offers: StoredOffer[],
  b: { market: string; odds_e4: number | null; stake: number; ts: number },
): Candidate[] {
  return rankOffers(offers, { stake_cents: b.stake, market: b.market, odds_e4: b.odds_e4 ?? 0, at: b.ts })
    .filter(({ offer }) => offer.min_odds_e4 === null || b.odds_e4 !== null)
    .map(({ offer, bonus }) => ({
      offer_id: offer.id,
      version: offer.version,
      bonus_cents: bonus,
      budget_cents: offer.budget_cents,
      max_awards_per_user: offer.max_awards_per_user,
    }));
}
