import { fail, ok, type Result } from "../../lib/errors";
import type { WalletHost } from "./host";
import type { Balances, Ledger } from "./ledger";

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
export type HoldRow = {
  id: string;
  amount: number;
  captured: number;
  ref: string | null;
  bet_id: string | null;
  status: HoldStatus;
  created_at: string;
  resolved_at: string | null;
};

export const holdsMigrationSql = `
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
`;

/** Holds on cash: money moved from available to held, later captured (in part) or released, once. */
export class Holds {
  constructor(
    private readonly host: WalletHost,
    private readonly ledger: Ledger,
  ) {}

  get(holdId: string): HoldRow | undefined {
    return this.host.sql
      .exec<HoldRow>("SELECT id, amount, captured, ref, bet_id, status, created_at, resolved_at FROM holds WHERE id = ?", holdId)
      .toArray()[0];
  }

  /** Moves `amount` from available to held; the new hold's id, or null if available is short. */
  place(b: Balances, amount: number, ref: string | null, betId: string | null, now: string): string | null {
    if (b.cash_posted - b.cash_held < amount) return null;
    const id = `h_${crypto.randomUUID().replaceAll("-", "")}`;
    this.host.sql.exec(
      "INSERT INTO holds (id, amount, ref, bet_id, status, created_at) VALUES (?, ?, ?, ?, 'HELD', ?)",
      id,
      amount,
      ref,
      betId,
      now,
    );
    b.cash_held += amount;
    b.updated_at = now;
    this.ledger.emit(b, "wallet.held", { hold_id: id, amount_cents: amount, ref });
    return id;
  }

  /** A hold the holds API may resolve: it exists, is still HELD, and is not a bet's. */
  open(holdId: string): Result<HoldRow> {
    const hold = this.get(holdId);
    if (!hold) return fail("HOLD_NOT_FOUND", "hold not found");
    if (hold.status !== "HELD") return fail("HOLD_ALREADY_RESOLVED", `hold already ${hold.status}`);
    if (hold.bet_id) return fail("HOLD_BELONGS_TO_BET", "a bet's hold is resolved by settling the bet");
    return ok(hold);
  }

  /**
   * Resolves a HELD hold, once: `captured` (0 to the whole hold) leaves the
   * posted balance, the rest returns to available.
   */
  resolve(b: Balances, hold: HoldRow, captured: number, now: string): HoldRow {
    const status: HoldStatus = captured > 0 ? "CAPTURED" : "RELEASED";
    const update = this.host.sql.exec(
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
      const entry = this.ledger.post(b, "cash", "CAPTURE", -captured, hold.ref, now);
      this.ledger.emit(b, "wallet.captured", {
        hold_id: hold.id,
        amount_cents: captured,
        released_cents: hold.amount - captured,
        ref: hold.ref,
        ledger_seq: entry.seq,
        entry,
      });
    } else {
      this.ledger.emit(b, "wallet.released", { hold_id: hold.id, amount_cents: hold.amount, ref: hold.ref });
    }
    return { ...hold, status, captured, resolved_at: now };
  }
}

export const holdView = (h: HoldRow): HoldView => ({
  hold_id: h.id,
  status: h.status,
  amount_cents: h.amount,
  captured_cents: h.captured,
  ref: h.ref,
  created_at: h.created_at,
  resolved_at: h.resolved_at,
});
