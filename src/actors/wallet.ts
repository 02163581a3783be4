import { isUserId } from "../lib/ids";
import { Actor, type Handler } from "../lib/actor";
import { gateConfig } from "../lib/stake-gate";
import { oddsE4 } from "../lib/stake-gate";
import { AWARDS, Awards, awardsMigration, offerSnapshots } from "./wallet-awards";
import { CLOSE, gateMigration, StakeGate, type GateBet } from "./stake-gate";
import type { WalletHost } from "./wallet-host";
import { fail, ok, type Result } from "../lib/errors";
import type { EventData, LedgerEntry, LedgerKind } from "../lib/events";
import {
  IdempotencyStore,
  idempotencyMigration,
  type IdempotentRequest,
  type StoredResponse,
} from "../lib/idempotency";

/** The largest amount one request may move, in minor units (10,000,000,000.00). */
export const MAX_AMOUNT = 1_000_000_000_000;
/** No balance may pass this, so every amount stays an exact JS number. */
const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export type { LedgerEntry, LedgerKind };
export type LedgerPage = { entries: LedgerEntry[]; next_cursor?: string };

export type WalletView = {
  user_id: string;
  currency: string;
  cash: { posted: number; held: number; available: number };
  bonus: { posted: number };
  updated_at: string | null;
};

export type HoldStatus = "HELD" | "CAPTURED" | "RELEASED";
export type HoldView = {
  hold_id: string;
  status: HoldStatus;
  amount_cents: number;
  captured_cents: number;
  ref: string | null;
  created_at: string;
  resolved_at: string | null;
};

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

export type BonusCredit = LedgerEntry & { award_id: string };

type Balances = { user_id: string; cash_posted: number; cash_held: number; bonus_posted: number; updated_at: string | null };
type HoldRow = {
  id: string;
  amount: number;
  captured: number;
  ref: string | null;
  bet_id: string | null;
  status: HoldStatus;
  created_at: string;
  resolved_at: string | null;
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
type WalletEventType =
  | "wallet.deposited"
  | "wallet.withdrawn"
  | "wallet.held"
  | "wallet.captured"
  | "wallet.released"
  | "wallet.winnings_credited"
  | "wallet.bonus_credited";
/** What a wallet event adds to the fields every wallet event has. */
type Movement<T extends WalletEventType> = Omit<
  EventData<T>,
  "user_id" | "currency" | "cash_posted_cents" | "cash_held_cents" | "bonus_posted_cents" | "updated_at"
>;

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

/**
 * One user's wallet: cash (posted and held) and bonus balances, an immutable
 * ledger, holds and the user's bets. The object serializes every movement of
 * the user's money; each mutation is one transaction with its outbox event and,
 * for HTTP requests, its idempotency record.
 */
export class Wallet extends Actor<"wallet"> {
  protected readonly kind = "wallet";
  static migrations = [
    idempotencyMigration,
    {
      id: "wallet-1",
      sql: `
        CREATE TABLE wallet (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          user_id TEXT NOT NULL,
          cash_posted INTEGER NOT NULL,
          cash_held INTEGER NOT NULL CHECK (cash_held >= 0 AND cash_held <= cash_posted),
          bonus_posted INTEGER NOT NULL CHECK (bonus_posted >= 0),
          updated_at TEXT NOT NULL
        );
        CREATE TABLE ledger (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          kind TEXT NOT NULL,
          balance TEXT NOT NULL,
          amount INTEGER NOT NULL,
          balance_after INTEGER NOT NULL,
          ref TEXT,
          created_at TEXT NOT NULL
        );
        CREATE TABLE holds (
          id TEXT PRIMARY KEY,
          amount INTEGER NOT NULL,
          captured INTEGER NOT NULL DEFAULT 0,
          ref TEXT,
          bet_id TEXT,
          status TEXT NOT NULL CHECK (status IN ('HELD', 'CAPTURED', 'RELEASED')),
          created_at TEXT NOT NULL,
          resolved_at TEXT
        );
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
        CREATE TABLE awards (award_id TEXT PRIMARY KEY, result TEXT NOT NULL);
      `,
    },
    gateMigration,
    awardsMigration,
  ];

  // The offers engine's parts of the wallet: the stake windows and the awards.
  private readonly host: WalletHost = {
    sql: this.sql,
    env: this.env,
    user: () => this.name,
    mutate: (fn) => this.mutate(fn),
    emit: (type, data) => this.emit(type, data),
    schedule: (at, kind, payload, key) => this.schedule(at, kind, payload, key),
    clock: () => this.clock(),
    creditBonus: (id, amount, ref) => this.creditBonus(id, amount, ref),
  };
  private readonly gate = new StakeGate(this.host, gateConfig(this.env));
  private readonly awarding = new Awards(this.host);
  private readonly engineOn = (this.env.OFFERS_ENGINE as string) !== "off";
  protected override readonly handlers: Record<string, Handler> = {
    [CLOSE]: (p) => this.closeWindow((p as { start: number }).start),
    [AWARDS]: () => this.awarding.process(),
  };

  private readonly idempotency = new IdempotencyStore(this.sql);

  private get currency(): string {
    return this.env.CURRENCY || "GBP";
  }

  // ---- reads ----

  view(): WalletView {
    const b = this.balances();
    return {
      user_id: b.user_id,
      currency: this.currency,
      cash: { posted: b.cash_posted, held: b.cash_held, available: b.cash_posted - b.cash_held },
      bonus: { posted: b.bonus_posted },
      updated_at: b.updated_at,
    };
  }

  /** Newest first; `cursor` is the ledger seq to continue below. */
  ledger(limit: number, cursor?: number): LedgerPage {
    const rows = this.sql
      .exec<{ seq: number; id: string; kind: LedgerKind; balance: "cash" | "bonus"; amount: number; balance_after: number; ref: string | null; created_at: string }>(
        "SELECT seq, id, kind, balance, amount, balance_after, ref, created_at FROM ledger WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        cursor ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const entries = rows.slice(0, limit).map((r) => ({
      id: r.id,
      seq: r.seq,
      kind: r.kind,
      balance: r.balance,
      amount_cents: r.amount,
      balance_after_cents: r.balance_after,
      ref: r.ref,
      created_at: r.created_at,
    }));
    const page: LedgerPage = { entries };
    if (rows.length > limit) page.next_cursor = String(entries[entries.length - 1]!.seq);
    return page;
  }

  getHold(holdId: string): Result<HoldView> {
    const hold = this.hold(holdId);
    return hold ? ok(holdView(hold)) : fail(404, "HOLD_NOT_FOUND", "hold not found");
  }

  getBet(betId: string): Result<BetView> {
    const bet = this.bet(betId);
    return bet ? ok(betView(this.name, bet)) : fail(404, "BET_NOT_FOUND", "bet not found");
  }

  // ---- idempotent HTTP mutations: each answers the response to send ----

  deposit(amount: number, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 201, (b, now) => {
      if (b.cash_posted + amount > MAX_BALANCE) return fail(409, "BALANCE_LIMIT", "the balance would exceed its limit");
      const entry = this.post(b, "cash", "DEPOSIT", amount, null, now);
      this.emitWallet(b, "wallet.deposited", { amount_cents: amount, ledger_seq: entry.seq, entry });
      return ok(entry);
    });
  }

  withdraw(amount: number, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 201, (b, now) => {
      if (b.cash_posted - b.cash_held < amount) return insufficient();
      const entry = this.post(b, "cash", "WITHDRAWAL", -amount, null, now);
      this.emitWallet(b, "wallet.withdrawn", { amount_cents: amount, ledger_seq: entry.seq, entry });
      return ok(entry);
    });
  }

  placeHold(amount: number, ref: string | null, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 201, (b, now) => {
      const hold = this.holdFunds(b, amount, ref, null, now);
      return hold ? ok({ hold_id: hold, status: "HELD", amount_cents: amount, ref }) : insufficient();
    });
  }

  /** Captures `amount` of the hold (all of it when omitted); the rest returns to available. */
  capture(holdId: string, amount: number | undefined, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 200, (b, now) => {
      const hold = this.openHold(holdId);
      if (!hold.ok) return hold;
      const captured = amount ?? hold.value.amount;
      if (captured > hold.value.amount) {
        return fail(409, "CAPTURE_EXCEEDS_HOLD", `the hold is for ${hold.value.amount}; cannot capture ${captured}`);
      }
      return ok(holdView(this.resolve(b, hold.value, captured, now)));
    });
  }

  release(holdId: string, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 200, (b, now) => {
      const hold = this.openHold(holdId);
      return hold.ok ? ok(holdView(this.resolve(b, hold.value, 0, now))) : hold;
    });
  }

  /** Places a bet: its stake is held until settlement. `bet.odd_value` is canonical (see canonicalOdds). */
  placeBet(bet: BetInput, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 201, (b, now) => {
      const betId = newBetId(this.name);
      const win = potentialWin(bet.stake_cents, bet.odd_value);
      const holdId = this.holdFunds(b, bet.stake_cents, betId, betId, now);
      if (!holdId) return insufficient();
      this.sql.exec(
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
      this.emit("bet.placed", {
        eventId: bet.event_id,
        ts: Date.parse(now),
        userId: b.user_id,
        market: bet.market,
        stake: bet.stake_cents,
        currency: this.currency,
        bet_id: betId,
        selection: bet.selection,
        odd_value: bet.odd_value,
        potential_win_cents: win,
      });
      if (this.engineOn) {
        const odds = oddsE4(bet.odd_value);
        this.gate.enter({ key: betId, event_id: bet.event_id, market: bet.market, odds_e4: odds, stake_cents: bet.stake_cents, ts: Date.parse(now) }, now);
      }
      return ok({ bet_id: betId, status: "ACCEPTED", potential_win_cents: win });
    });
  }

  /** WON captures the stake and credits stake × odds; LOST captures the stake; VOID releases it. */
  settleBet(betId: string, result: BetResult, req: IdempotentRequest): StoredResponse {
    return this.idempotent(req, 200, (b, now) => {
      const bet = this.bet(betId);
      if (!bet) return fail(404, "BET_NOT_FOUND", "bet not found");
      if (bet.status !== "ACCEPTED") return fail(409, "BET_ALREADY_SETTLED", `bet already settled ${bet.status}`);
      const payout = result === "WON" ? bet.potential_win : 0;
      if (b.cash_posted - bet.stake + payout > MAX_BALANCE) {
        return fail(409, "BALANCE_LIMIT", "the balance would exceed its limit");
      }
      this.resolve(b, this.hold(bet.hold_id)!, result === "VOID" ? 0 : bet.stake, now);
      if (payout > 0) {
        const entry = this.post(b, "cash", "WINNINGS", payout, betId, now);
        this.emitWallet(b, "wallet.winnings_credited", { amount_cents: payout, bet_id: betId, ledger_seq: entry.seq, entry });
      }
      this.sql.exec("UPDATE bets SET status = ?, payout = ?, settled_at = ? WHERE id = ?", result, payout, now, betId);
      this.emit("bet.settled", {
        bet_id: betId,
        user_id: b.user_id,
        event_id: bet.event_id,
        market: bet.market,
        selection: bet.selection,
        result,
        stake_cents: bet.stake,
        payout_cents: payout,
        currency: this.currency,
        settled_at: now,
      });
      return ok(betView(this.name, { ...bet, status: result, payout, settled_at: now }));
    });
  }

  // ---- RPC for the offers engine ----

  /**
   * A bet placed outside rushgate (events.bet_placed) enters the stake gate by
   * its own timestamp, once per key (its Kafka event id).
   */
  ingestBet(bet: GateBet): { status: "ON_TIME" | "LATE" | "DUPLICATE" | "TOO_FAR_AHEAD" } {
    if (!this.engineOn) return { status: "DUPLICATE" };
    return { status: this.mutate((now) => this.gate.enter(bet, now)) };
  }

  /** Recent stake windows, newest first. */
  windows(limit: number, cursor?: number) {
    return this.gate.windows(limit, cursor);
  }

  /** This wallet's offer awards, newest first. */
  offerAwards(limit: number, cursor?: number) {
    return this.awarding.list(limit, cursor);
  }

  /**
   * The close row of one window: reads the offer snapshot only when the window
   * qualifies, closes it (idempotent), then pays the awards it queued. If paying
   * fails, the `awards` row (queued with the close) retries it.
   */
  private async closeWindow(start: number): Promise<void> {
    const offers = this.gate.needsOffers(start) ? (await offerSnapshots(this.env).get()).offers : undefined;
    const queued = this.mutate(() => {
      const q = this.gate.close(start, () => offers);
      if (q) this.schedule(this.clock() + 1000, AWARDS, null, AWARDS);
      return q;
    });
    if (queued) await this.awarding.process();
  }

  /**
   * Credits a bonus award to the bonus balance, once per award id: a second call
   * with the same id changes nothing and returns the first result.
   */
  creditBonus(awardId: string, amount: number, ref: string | null = null): Result<BonusCredit> {
    if (typeof awardId !== "string" || awardId.length < 1 || awardId.length > 128) {
      return fail(400, "INVALID_REQUEST", "award_id: 1–128 characters");
    }
    if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
      return fail(400, "INVALID_REQUEST", `amount_cents: an integer from 1 to ${MAX_AMOUNT}`);
    }
    return this.mutate((now) => {
      const first = this.sql.exec<{ result: string }>("SELECT result FROM awards WHERE award_id = ?", awardId).toArray()[0];
      if (first) return JSON.parse(first.result) as Result<BonusCredit>;
      const b = this.balances();
      let result: Result<BonusCredit>;
      if (b.bonus_posted + amount > MAX_BALANCE) {
        result = fail(409, "BALANCE_LIMIT", "the balance would exceed its limit");
      } else {
        const entry = this.post(b, "bonus", "BONUS_CREDIT", amount, ref, now);
        this.emitWallet(b, "wallet.bonus_credited", { amount_cents: amount, award_id: awardId, ledger_seq: entry.seq, entry });
        this.save(b);
        result = ok({ ...entry, award_id: awardId });
      }
      this.sql.exec("INSERT INTO awards (award_id, result) VALUES (?, ?)", awardId, JSON.stringify(result));
      return result;
    });
  }

  // ---- internals ----

  /**
   * One idempotent mutation: a single transaction that checks the key, runs the
   * effect on the current balances, saves them if it succeeded, and stores the
   * response.
   */
  private idempotent<T>(req: IdempotentRequest, status: number, effect: (b: Balances, now: string) => Result<T>): StoredResponse {
    return this.mutate((now) =>
      this.idempotency.run(req, status, () => {
        const b = this.balances();
        const result = effect(b, now);
        if (result.ok) this.save(b);
        return result;
      }),
    );
  }

  private balances(): Balances {
    return (
      this.sql
        .exec<Balances>("SELECT user_id, cash_posted, cash_held, bonus_posted, updated_at FROM wallet")
        .toArray()[0] ?? { user_id: this.name, cash_posted: 0, cash_held: 0, bonus_posted: 0, updated_at: null }
    );
  }

  private save(b: Balances): void {
    this.sql.exec(
      `INSERT INTO wallet (id, user_id, cash_posted, cash_held, bonus_posted, updated_at) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET cash_posted = excluded.cash_posted, cash_held = excluded.cash_held,
         bonus_posted = excluded.bonus_posted, updated_at = excluded.updated_at`,
      b.user_id,
      b.cash_posted,
      b.cash_held,
      b.bonus_posted,
      b.updated_at,
    );
  }

  /** Appends an immutable ledger entry and applies it to the posted balance. */
  private post(b: Balances, balance: "cash" | "bonus", kind: LedgerKind, amount: number, ref: string | null, now: string): LedgerEntry {
    const after = balance === "cash" ? (b.cash_posted += amount) : (b.bonus_posted += amount);
    b.updated_at = now;
    const id = crypto.randomUUID();
    const { seq } = this.sql
      .exec<{ seq: number }>(
        "INSERT INTO ledger (id, kind, balance, amount, balance_after, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        id,
        kind,
        balance,
        amount,
        after,
        ref,
        now,
      )
      .one();
    return { id, seq, kind, balance, amount_cents: amount, balance_after_cents: after, ref, created_at: now };
  }

  /** A wallet event: the movement's fields plus the balances after it. */
  private emitWallet<T extends WalletEventType>(b: Balances, type: T, data: Movement<T>): void {
    this.emit(type, {
      user_id: b.user_id,
      currency: this.currency,
      ...data,
      cash_posted_cents: b.cash_posted,
      cash_held_cents: b.cash_held,
      bonus_posted_cents: b.bonus_posted,
      updated_at: b.updated_at!,
    } as EventData<T>);
  }

  /** Moves `amount` from available to held; the new hold's id, or null if available is short. */
  private holdFunds(b: Balances, amount: number, ref: string | null, betId: string | null, now: string): string | null {
    if (b.cash_posted - b.cash_held < amount) return null;
    const id = `h_${crypto.randomUUID().replaceAll("-", "")}`;
    this.sql.exec(
      "INSERT INTO holds (id, amount, ref, bet_id, status, created_at) VALUES (?, ?, ?, ?, 'HELD', ?)",
      id,
      amount,
      ref,
      betId,
      now,
    );
    b.cash_held += amount;
    b.updated_at = now;
    this.emitWallet(b, "wallet.held", { hold_id: id, amount_cents: amount, ref });
    return id;
  }

  /** A hold the holds API may resolve: it exists, is still HELD, and is not a bet's. */
  private openHold(holdId: string): Result<HoldRow> {
    const hold = this.hold(holdId);
    if (!hold) return fail(404, "HOLD_NOT_FOUND", "hold not found");
    if (hold.status !== "HELD") return fail(409, "HOLD_ALREADY_RESOLVED", `hold already ${hold.status}`);
    if (hold.bet_id) return fail(409, "HOLD_BELONGS_TO_BET", "a bet's hold is resolved by settling the bet");
    return ok(hold);
  }

  /**
   * Resolves a HELD hold, once: `captured` (0 to the whole hold) leaves the
   * posted balance, the rest returns to available.
   */
  private resolve(b: Balances, hold: HoldRow, captured: number, now: string): HoldRow {
    const status: HoldStatus = captured > 0 ? "CAPTURED" : "RELEASED";
    const update = this.sql.exec(
      "UPDATE holds SET status = ?, captured = ?, resolved_at = ? WHERE id = ? AND status = 'HELD'",
      status,
      captured,
      now,
      hold.id,
    );
    if (update.rowsWritten !== 1) throw new Error(`hold ${hold.id} is not HELD`);
    b.cash_held -= hold.amount;
    b.updated_at = now;
    if (captured > 0) {
      const entry = this.post(b, "cash", "CAPTURE", -captured, hold.ref, now);
      this.emitWallet(b, "wallet.captured", {
        hold_id: hold.id,
        amount_cents: captured,
        released_cents: hold.amount - captured,
        ref: hold.ref,
        ledger_seq: entry.seq,
        entry,
      });
    } else {
      this.emitWallet(b, "wallet.released", { hold_id: hold.id, amount_cents: hold.amount, ref: hold.ref });
    }
    return { ...hold, status, captured, resolved_at: now };
  }

  private hold(holdId: string): HoldRow | undefined {
    return this.sql
      .exec<HoldRow>("SELECT id, amount, captured, ref, bet_id, status, created_at, resolved_at FROM holds WHERE id = ?", holdId)
      .toArray()[0];
  }

  private bet(betId: string): BetRow | undefined {
    return this.sql
      .exec<BetRow>(
        "SELECT id, hold_id, event_id, market, selection, stake, odd_value, potential_win, status, payout, placed_at, settled_at FROM bets WHERE id = ?",
        betId,
      )
      .toArray()[0];
  }
}

const insufficient = () => fail(409, "INSUFFICIENT_FUNDS", "available balance is less than the amount");

const holdView = (h: HoldRow): HoldView => ({
  hold_id: h.id,
  status: h.status,
  amount_cents: h.amount,
  captured_cents: h.captured,
  ref: h.ref,
  created_at: h.created_at,
  resolved_at: h.resolved_at,
});

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
