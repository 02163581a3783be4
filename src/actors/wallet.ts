import { Actor, type Handler } from "../lib/actor";
import { fail, ok, type Result } from "../lib/errors";
import { IDEMPOTENCY_PRUNE, IdempotencyStore, idempotencyMigration, type IdempotentRequest, type StoredResponse } from "../lib/idempotency";
import { gateConfig, oddsE4 } from "../lib/stake-gate";
import { AWARDS, Awards, awardsMigration, creditsMigrationSql, offerSnapshots, type BonusCredit } from "./wallet/awards";
import { betsMigrationSql, Bets, insufficient, type BetInput, type BetResult, type BetView } from "./wallet/bets";
import { CLOSE, GATE_PRUNE, gateMigration, gatePruneMigration, StakeGate, type GateBet } from "./wallet/gate";
import { holdView, Holds, holdsMigrationSql, type HoldView } from "./wallet/holds";
import type { WalletHost } from "./wallet/host";
import { type Balances, Ledger, ledgerMigrationSql, type LedgerPage, MAX_BALANCE, type WalletView } from "./wallet/ledger";

export { MAX_AMOUNT, type LedgerEntry, type LedgerKind, type LedgerPage, type WalletView } from "./wallet/ledger";
export type { HoldStatus, HoldView } from "./wallet/holds";
export { betOwner, canonicalOdds, newBetId, potentialWin, type BetInput, type BetResult, type BetView } from "./wallet/bets";
export type { BonusCredit } from "./wallet/awards";

/**
 * One user's wallet: cash (posted and held) and bonus balances, an immutable
 * ledger, holds, the user's bets, and the offers engine's stake windows and
 * awards. Each noun is a class over the actor's SQLite (src/actors/wallet/);
 * this actor composes them, runs every mutation as one transaction with its
 * outbox events and, for HTTP requests, its idempotency record.
 */
export class Wallet extends Actor<"wallet"> {
  protected readonly kind = "wallet";
  static migrations = [
    idempotencyMigration,
    { id: "wallet-1", sql: ledgerMigrationSql + holdsMigrationSql + betsMigrationSql + creditsMigrationSql },
    gateMigration,
    awardsMigration,
    gatePruneMigration,
  ];

  private readonly host: WalletHost = {
    sql: this.sql,
    env: this.env,
    user: () => this.name,
    currency: () => this.env.CURRENCY || "GBP",
    mutate: (fn) => this.mutate(fn),
    emit: (type, data) => this.emit(type, data),
    schedule: (at, kind, payload, key) => this.schedule(at, kind, payload, key),
    clock: () => this.clock(),
  };
  private readonly ledgerBook = new Ledger(this.host);
  private readonly holds = new Holds(this.host, this.ledgerBook);
  private readonly bets = new Bets(this.host, this.ledgerBook, this.holds);
  private readonly gate = new StakeGate(this.host, gateConfig(this.env));
  private readonly awarding = new Awards(this.host, this.ledgerBook, this.gate);
  private readonly idempotency = new IdempotencyStore(this.sql);
  private readonly engineOn = (this.env.OFFERS_ENGINE as string) !== "off";
  protected override readonly handlers: Record<string, Handler> = {
    [CLOSE]: (p) => this.closeWindow((p as { start: number }).start),
    [AWARDS]: () => this.awarding.process(),
    [IDEMPOTENCY_PRUNE]: () => this.mutate(() => this.idempotency.prune(this.clock())),
    [GATE_PRUNE]: () => this.mutate(() => this.gate.prune(this.clock())),
  };

  // ---- reads ----

  view(): WalletView {
    return this.ledgerBook.view();
  }

  /** Newest first; `cursor` is the ledger seq to continue below. */
  ledger(limit: number, cursor?: number): LedgerPage {
    return this.ledgerBook.page(limit, cursor);
  }

  getHold(holdId: string): Result<HoldView> {
    const hold = this.holds.get(holdId);
    return hold ? ok(holdView(hold)) : fail("HOLD_NOT_FOUND", "hold not found");
  }

  getBet(betId: string): Result<BetView> {
    const bet = this.bets.get(betId);
    return bet ? ok(bet) : fail("BET_NOT_FOUND", "bet not found");
  }

  // ---- idempotent HTTP mutations: each answers the response to send, by the route's status table ----

  deposit(amount: number, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      if (b.cash_posted + amount > MAX_BALANCE) return fail("BALANCE_LIMIT", "the balance would exceed its limit");
      const entry = this.ledgerBook.post(b, "cash", "DEPOSIT", amount, null, now);
      this.ledgerBook.emit(b, "wallet.deposited", { amount_cents: amount, ledger_seq: entry.seq, entry });
      return ok(entry);
    });
  }

  withdraw(amount: number, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      if (b.cash_posted - b.cash_held < amount) return insufficient();
      const entry = this.ledgerBook.post(b, "cash", "WITHDRAWAL", -amount, null, now);
      this.ledgerBook.emit(b, "wallet.withdrawn", { amount_cents: amount, ledger_seq: entry.seq, entry });
      return ok(entry);
    });
  }

  placeHold(amount: number, ref: string | null, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      const hold = this.holds.place(b, amount, ref, null, now);
      return hold ? ok({ hold_id: hold, status: "HELD", amount_cents: amount, ref }) : insufficient();
    });
  }

  /** Captures `amount` of the hold (all of it when omitted); the rest returns to available. */
  capture(holdId: string, amount: number | undefined, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      const hold = this.holds.open(holdId);
      if (!hold.ok) return hold;
      const captured = amount ?? hold.value.amount;
      if (captured > hold.value.amount) {
        return fail("CAPTURE_EXCEEDS_HOLD", `the hold is for ${hold.value.amount}; cannot capture ${captured}`);
      }
      return ok(holdView(this.holds.resolve(b, hold.value, captured, now)));
    });
  }

  release(holdId: string, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      const hold = this.holds.open(holdId);
      return hold.ok ? ok(holdView(this.holds.resolve(b, hold.value, 0, now))) : hold;
    });
  }

  /** Places a bet: its stake is held until settlement, and it enters the stake gate. */
  placeBet(bet: BetInput, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => {
      const placed = this.bets.place(b, bet, now);
      if (placed.ok && this.engineOn) {
        const gateBet = { key: placed.value.bet_id, event_id: bet.event_id, market: bet.market, odds_e4: oddsE4(bet.odd_value) };
        this.gate.enter({ ...gateBet, stake_cents: bet.stake_cents, ts: Date.parse(now) }, now);
      }
      return placed;
    });
  }

  settleBet(betId: string, result: BetResult, req: IdempotentRequest): Promise<StoredResponse> {
    return this.idempotent(req, (b, now) => this.bets.settle(b, betId, result, now));
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

  /** Credits a bonus award to the bonus balance, once per award id (see Awards.credit). */
  creditBonus(awardId: string, amount: number, ref: string | null = null): Result<BonusCredit> {
    return this.awarding.credit(awardId, amount, ref);
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
   * One idempotent mutation: a transaction (a savepoint in its group commit's
   * batch) that checks the key, runs the effect on the current balances, saves
   * them if it succeeded, and stores the response. A stored key is deleted by
   * the scheduled prune once its lifetime is over (one keyed row).
   */
  private idempotent<T>(req: IdempotentRequest, effect: (b: Balances, now: string) => Result<T>): Promise<StoredResponse> {
    // Group commit: concurrent money moves on one wallet share a storage commit (Actor.batched).
    return this.batched((now) => {
      const at = Date.parse(now);
      const response = this.idempotency.run(
        req,
        () => {
          const b = this.ledgerBook.balances();
          const result = effect(b, now);
          if (result.ok) this.ledgerBook.save(b);
          return result;
        },
        at,
      );
      if (!response.replayed) this.schedule(this.idempotency.nextExpiry() ?? at, IDEMPOTENCY_PRUNE, null, IDEMPOTENCY_PRUNE);
      return response;
    });
  }
}
