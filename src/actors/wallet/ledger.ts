import type { EventData, LedgerEntry, LedgerKind } from "../../lib/events";
import type { WalletHost } from "./host";

/** The largest amount one request may move, in minor units (10,000,000,000.00). */
export const MAX_AMOUNT = 1_000_000_000_000;
/** No balance may pass this, so every amount stays an exact JS number. */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export type { LedgerEntry, LedgerKind };
export type LedgerPage = { entries: LedgerEntry[]; next_cursor?: string };
export type WalletView = {
  user_id: string;
  currency: string;
  cash: { posted: number; held: number; available: number };
  bonus: { posted: number };
  updated_at: string | null;
};

/** The balances row as a mutation works on it: changed in memory, then saved once. */
export type Balances = { user_id: string; cash_posted: number; cash_held: number; bonus_posted: number; updated_at: string | null };

type WalletEventType =
  | "wallet.deposited"
  | "wallet.withdrawn"
  | "wallet.held"
  | "wallet.captured"
  | "wallet.released"
  | "wallet.winnings_credited"
  | "wallet.bonus_credited";
/** What a wallet event adds to the fields every wallet event has. */
export type Movement<T extends WalletEventType> = Omit<
  EventData<T>,
  "user_id" | "currency" | "cash_posted_cents" | "cash_held_cents" | "bonus_posted_cents" | "updated_at"
>;

export const ledgerMigrationSql = `
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
`;

/**
 * The balances and the immutable ledger: every posted movement is one ledger
 * entry, and every wallet event carries the balances after it.
 */
export class Ledger {
  constructor(private readonly host: WalletHost) {}

  balances(): Balances {
    return (
      this.host.sql
        .exec<Balances>("SELECT user_id, cash_posted, cash_held, bonus_posted, updated_at FROM wallet")
        .toArray()[0] ?? { user_id: this.host.user(), cash_posted: 0, cash_held: 0, bonus_posted: 0, updated_at: null }
    );
  }

  save(b: Balances): void {
    this.host.sql.exec(
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

  view(): WalletView {
    const b = this.balances();
    return {
      user_id: b.user_id,
      currency: this.host.currency(),
      cash: { posted: b.cash_posted, held: b.cash_held, available: b.cash_posted - b.cash_held },
      bonus: { posted: b.bonus_posted },
      updated_at: b.updated_at,
    };
  }

  /** Appends an immutable ledger entry and applies it to the posted balance. */
  post(b: Balances, balance: "cash" | "bonus", kind: LedgerKind, amount: number, ref: string | null, now: string): LedgerEntry {
    const after = balance === "cash" ? (b.cash_posted += amount) : (b.bonus_posted += amount);
    b.updated_at = now;
    const id = crypto.randomUUID();
    const { seq } = this.host.sql
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
  emit<T extends WalletEventType>(b: Balances, type: T, data: Movement<T>): void {
    this.host.emit(type, {
      user_id: b.user_id,
      currency: this.host.currency(),
      ...data,
      cash_posted_cents: b.cash_posted,
      cash_held_cents: b.cash_held,
      bonus_posted_cents: b.bonus_posted,
      updated_at: b.updated_at!,
    } as EventData<T>);
  }

  /** Newest first; `cursor` is the ledger seq to continue below. */
  page(limit: number, cursor?: number): LedgerPage {
    const rows = this.host.sql
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
}
