import { Actor } from "../lib/actor";

/** The limits of one offer version, as the caller's snapshot (or the catalogue) knows them. */
export type BudgetTerms = { version: number; budget_cents: number | null; max_awards_per_user: number | null };

export type ReserveRequest = { award_id: string; user_id: string; amount_cents: number };
export type ReserveOutcome =
  | { status: "RESERVED"; award_id: string; amount_cents: number }
  | { status: "BUDGET_EXHAUSTED"; award_id: string }
  | { status: "USER_LIMIT"; award_id: string };

export type BudgetUsage = { version: number; budget_cents: number | null; reserved_cents: number; awards: number };

/**
 * One offer's budget and award counts (one object per offer id, so offers do
 * not contend with each other or with the catalogue).
 *
 * Every reservation is recorded by award id with its answer: a replay returns
 * the first answer, whatever has changed since, so a wallet may retry the
 * reservation until its credit is done. Calls are serialized by the object and
 * each decision is one synchronous transaction, so the budget and the per-user
 * limit hold under any concurrency.
 *
 * The limits come from the newest offer version any caller has shown it (the
 * catalogue pushes each change; a wallet's snapshot carries its version), so a
 * stale snapshot can never restore a budget that a newer version lowered.
 */
export class OfferBudget extends Actor<"offers"> {
  /** Never emits: reservations are read back by the wallets that made them. */
  protected readonly kind = "offers";
  static migrations = [
    {
      id: "offer-budget-1",
      sql: `
        CREATE TABLE terms (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          version INTEGER NOT NULL,
          budget_cents INTEGER,
          max_awards_per_user INTEGER
        );
        CREATE TABLE reservations (
          award_id TEXT PRIMARY KEY,
          user_id TEXT NOT NULL,
          amount_cents INTEGER NOT NULL,
          outcome TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX reservations_user ON reservations (user_id) WHERE outcome = 'RESERVED';
      `,
    },
  ];

  private totals: { reserved: number; awards: number } | undefined;

  private sums() {
    this.totals ??= this.sql
      .exec<{ reserved: number; awards: number }>(
        "SELECT coalesce(sum(amount_cents), 0) AS reserved, count(*) AS awards FROM reservations WHERE outcome = 'RESERVED'",
      )
      .one();
    return this.totals;
  }

  private terms(): BudgetTerms | undefined {
    return this.sql.exec<BudgetTerms>("SELECT version, budget_cents, max_awards_per_user FROM terms").toArray()[0];
  }

  /** Adopts `t` if it is newer than the terms held. */
  private adopt(t: BudgetTerms): void {
    const held = this.terms();
    if (held && held.version >= t.version) return;
    this.sql.exec(
      "INSERT INTO terms (id, version, budget_cents, max_awards_per_user) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, budget_cents = excluded.budget_cents, max_awards_per_user = excluded.max_awards_per_user",
      t.version,
      t.budget_cents,
      t.max_awards_per_user,
    );
  }

  /** RPC from the catalogue after each change of the offer. */
  configure(t: BudgetTerms): void {
    this.ctx.storage.transactionSync(() => this.adopt(t));
  }

  /**
   * Decides a batch of reservations in order, each once by award id. A
   * reservation is all or nothing: an award the budget cannot cover in full is
   * BUDGET_EXHAUSTED, and the wallet moves on to its next-best offer.
   */
  reserve(t: BudgetTerms, requests: ReserveRequest[]): ReserveOutcome[] {
    const before = this.totals && { ...this.totals };
    try {
      return this.ctx.storage.transactionSync(() => {
        this.adopt(t);
        const terms = this.terms()!;
        return requests.map((r) => this.decide(terms, r));
      });
    } catch (err) {
      this.totals = before;
      throw err;
    }
  }

  private decide(terms: BudgetTerms, r: ReserveRequest): ReserveOutcome {
    const prior = this.sql
      .exec<{ outcome: string; amount_cents: number }>("SELECT outcome, amount_cents FROM reservations WHERE award_id = ?", r.award_id)
      .toArray()[0];
    if (prior) return outcome(r.award_id, prior.outcome, prior.amount_cents);
    const sums = this.sums();
    let status: ReserveOutcome["status"] = "RESERVED";
    if (terms.budget_cents !== null && sums.reserved + r.amount_cents > terms.budget_cents) status = "BUDGET_EXHAUSTED";
    else if (terms.max_awards_per_user !== null) {
      const { n } = this.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM reservations WHERE user_id = ? AND outcome = 'RESERVED'", r.user_id)
        .one();
      if (n >= terms.max_awards_per_user) status = "USER_LIMIT";
    }
    this.sql.exec(
      "INSERT INTO reservations (award_id, user_id, amount_cents, outcome, created_at) VALUES (?, ?, ?, ?, ?)",
      r.award_id,
      r.user_id,
      r.amount_cents,
      status,
      new Date().toISOString(),
    );
    if (status === "RESERVED") {
      sums.reserved += r.amount_cents;
      sums.awards++;
    }
    return outcome(r.award_id, status, r.amount_cents);
  }

  usage(): BudgetUsage {
    const t = this.terms();
    const { reserved, awards } = this.sums();
    return { version: t?.version ?? 0, budget_cents: t?.budget_cents ?? null, reserved_cents: reserved, awards };
  }
}

const outcome = (award_id: string, status: string, amount_cents: number): ReserveOutcome =>
  status === "RESERVED"
    ? { status: "RESERVED", award_id, amount_cents }
    : { status: status as "BUDGET_EXHAUSTED" | "USER_LIMIT", award_id };
