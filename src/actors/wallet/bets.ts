import { fail, ok, type Result } from "../../lib/errors";
import { isUserId } from "../../lib/ids";
import type { WalletHost } from "./host";
import type { Holds } from "./holds";
import { type Balances, type Ledger, MAX_BALANCE } from "./ledger";

export type BetResult = "WON" | "LOST" | "VOID";
export type BetInput = { event_id: string; market: string; selection: string; stake_cents: number; odd_value: string };
export type BetView = {
  bet_id: string;
  user_id: string;
  event_id: string;
  market: string;
  selection: string;
  stake_cents: number;
  odd_value: number;
  potential_win_cents: number;
  status: "ACCEPTED" | BetResult;
  /** What settlement paid into cash: the potential win if WON, else 0; null until settled. */
  payout_cents: number | null;
  placed_at: string;
  settled_at: string | null;
};
type BetRow = {
  id: string;
  hold_id: string;
  event_id: string;
  market: string;
  selection: string;
  stake: number;
  odd_value: string;
  potential_win: number;
  status: BetView["status"];
  payout: number | null;
  placed_at: string;
  settled_at: string | null;
};

export const betsMigrationSql = `
  CREATE TABLE bets (
    id TEXT PRIMARY KEY,
    hold_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    market TEXT NOT NULL,
    selection TEXT NOT NULL,
    stake INTEGER NOT NULL,
    odd_value TEXT NOT NULL,
    potential_win INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACCEPTED', 'WON', 'LOST', 'VOID')),
    payout INTEGER,
    placed_at TEXT NOT NULL,
    settled_at TEXT
  );
`;

// Bet ids carry their owner: base64url(user_id) "." 32 hex digits. base64url has
// no ".", so the split is unambiguous whatever characters the user id holds.
const betIdPattern = /^([A-Za-z0-9_-]+)\.([0-9a-f]{32})$/;

export function newBetId(userId: string): string {
  const bytes = new TextEncoder().encode(userId);
  const b64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64}.${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The user a bet id belongs to, or null if it is not a bet id this API makes. */
export function betOwner(betId: string): string | null {
  const m = betIdPattern.exec(betId);
  if (!m) return null;
  try {
    const binary = atob(m[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    const userId = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    return isUserId(userId) && newBetId(userId).split(".")[0] === m[1] ? userId : null;
  } catch {
    return null;
  }
}

/** Decimal odds: up to 4 integer and 4 fractional digits. */
const oddsPattern = /^(\d{1,4})(?:\.(\d{1,4}))?$/;

/**
 * Canonical decimal text of odds given as a number or a string ("2.50" → "2.5"),
 * or null if they are not 1.0001–1000 with at most 4 decimals.
 */
export function canonicalOdds(value: number | string): string | null {
  const m = oddsPattern.exec(typeof value === "number" ? String(value) : value);
  if (!m) return null;
  const ticks = Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"));
  if (ticks <= 10_000 || ticks > 1000 * 10_000) return null;
  const whole = Math.floor(ticks / 10_000);
  const frac = String(ticks % 10_000).padStart(4, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}

/** stake × odds, rounded down to the minor unit, in exact integer arithmetic. */
export function potentialWin(stake: number, odds: string): number {
  const [whole, frac = ""] = odds.split(".");
  const ticks = BigInt(whole!) * 10_000n + BigInt(frac.padEnd(4, "0"));
  return Number((BigInt(stake) * ticks) / 10_000n);
}

/** The user's bets: each holds its stake until it is settled, once. */
export class Bets {
  constructor(
    private readonly host: WalletHost,
    private readonly ledger: Ledger,
    private readonly holds: Holds,
  ) {}

  get(betId: string): BetView | undefined {
    const bet = this.row(betId);
    return bet && betView(this.host.user(), bet);
  }

  /** Places a bet, holding its stake; call inside a mutation. `bet.odd_value` is canonical (see canonicalOdds). */
  place(b: Balances, bet: BetInput, now: string): Result<{ bet_id: string; status: "ACCEPTED"; potential_win_cents: number }> {
    const betId = newBetId(this.host.user());
    const win = potentialWin(bet.stake_cents, bet.odd_value);
    const holdId = this.holds.place(b, bet.stake_cents, betId, betId, now);
    if (!holdId) return insufficient();
    this.host.sql.exec(
      `INSERT INTO bets (id, hold_id, event_id, market, selection, stake, odd_value, potential_win, status, placed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ACCEPTED', ?)`,
      betId,
      holdId,
      bet.event_id,
      bet.market,
      bet.selection,
      bet.stake_cents,
      bet.odd_value,
      win,
      now,
    );
    // The original events.bet_placed fields first (stake in minor units), then ours.
    this.host.emit("bet.placed", {
      eventId: bet.event_id,
      ts: Date.parse(now),
      userId: b.user_id,
      market: bet.market,
      stake: bet.stake_cents,
      currency: this.host.currency(),
      bet_id: betId,
      selection: bet.selection,
      odd_value: bet.odd_value,
      potential_win_cents: win,
    });
    return ok({ bet_id: betId, status: "ACCEPTED", potential_win_cents: win });
  }

  /** WON captures the stake and credits stake × odds; LOST captures the stake; VOID releases it. */
  settle(b: Balances, betId: string, result: BetResult, now: string): Result<BetView> {
    const bet = this.row(betId);
    if (!bet) return fail("BET_NOT_FOUND", "bet not found");
    if (bet.status !== "ACCEPTED") return fail("BET_ALREADY_SETTLED", `bet already settled ${bet.status}`);
    const payout = result === "WON" ? bet.potential_win : 0;
    if (b.cash_posted - bet.stake + payout > MAX_BALANCE) {
      return fail("BALANCE_LIMIT", "the balance would exceed its limit");
    }
    this.holds.resolve(b, this.holds.get(bet.hold_id)!, result === "VOID" ? 0 : bet.stake, now);
    if (payout > 0) {
      const entry = this.ledger.post(b, "cash", "WINNINGS", payout, betId, now);
      this.ledger.emit(b, "wallet.winnings_credited", { amount_cents: payout, bet_id: betId, ledger_seq: entry.seq, entry });
    }
    this.host.sql.exec("UPDATE bets SET status = ?, payout = ?, settled_at = ? WHERE id = ?", result, payout, now, betId);
    this.host.emit("bet.settled", {
      bet_id: betId,
      user_id: b.user_id,
      event_id: bet.event_id,
      market: bet.market,
      selection: bet.selection,
      result,
      stake_cents: bet.stake,
      payout_cents: payout,
      currency: this.host.currency(),
      settled_at: now,
    });
    return ok(betView(this.host.user(), { ...bet, status: result, payout, settled_at: now }));
  }

  private row(betId: string): BetRow | undefined {
    return this.host.sql
      .exec<BetRow>(
        "SELECT id, hold_id, event_id, market, selection, stake, odd_value, potential_win, status, payout, placed_at, settled_at FROM bets WHERE id = ?",
        betId,
      )
      .toArray()[0];
  }
}

export const insufficient = () => fail("INSUFFICIENT_FUNDS", "available balance is less than the amount");

const betView = (userId: string, r: BetRow): BetView => ({
  bet_id: r.id,
  user_id: userId,
  event_id: r.event_id,
  market: r.market,
  selection: r.selection,
  stake_cents: r.stake,
  odd_value: Number(r.odd_value),
  potential_win_cents: r.potential_win,
  status: r.status,
  payout_cents: r.payout,
  placed_at: r.placed_at,
  settled_at: r.settled_at,
});
