import type { Migration } from "../lib/migrations";
import { SnapshotCache } from "../lib/offer-snapshot";
import { awardId } from "../lib/stake-gate";
import type { ReserveOutcome } from "./offer-budget";
import { CATALOGUE } from "./offers";
import type { Candidate } from "./stake-gate";
import type { WalletHost } from "./wallet-host";

export const awardsMigration: Migration = {
  id: "wallet-awards-1",
  sql: `
    CREATE TABLE offer_awards (
      seq INTEGER PRIMARY KEY,
      award_id TEXT NOT NULL UNIQUE,
      bet_key TEXT NOT NULL,
      event_id TEXT NOT NULL,
      offer_id TEXT NOT NULL,
      offer_version INTEGER NOT NULL,
      stake INTEGER NOT NULL,
      bonus INTEGER NOT NULL,
      ledger_seq INTEGER NOT NULL,
      awarded_at TEXT NOT NULL
    );
  `,
};

export const AWARDS = "awards";

export type AwardView = {
  award_id: string;
  user_id: string;
  bet_key: string;
  event_id: string;
  offer_id: string;
  offer_version: number;
  stake_cents: number;
  bonus_cents: number;
  ledger_seq: number;
  awarded_at: string;
};

// One snapshot cache per isolate, shared by every wallet the isolate runs (see src/lib/offer-snapshot.ts).
let snapshots: SnapshotCache | undefined;
export function offerSnapshots(env: Env): SnapshotCache {
  snapshots ??= new SnapshotCache((since) => env.OFFERS.getByName(CATALOGUE).snapshot(since), {
    maxAgeMs: Number(env.OFFER_SNAPSHOT_MAX_AGE_MS ?? 1000),
  });
  return snapshots;
}

type Task = { seq: number; bet_key: string; candidates: string; next: number };

/**
 * Pays the award tasks a window close queued. For each qualified bet, its
 * candidate offers are tried best first: reserve the bonus against the offer's
 * budget (OfferBudget, idempotent by award id), then, if reserved, record the
 * award, credit the bonus balance and emit `offer.awarded` in one transaction.
 * A refused reservation moves on to the next-best offer. Any failure leaves the
 * task where it was; the `awards` row retries it, and a replayed reservation
 * returns its first answer, so the pair completes exactly once.
 */
export class Awards {
  private running: Promise<void> | undefined;

  constructor(private readonly host: WalletHost) {}

  /** Works through every open task; concurrent calls share one run. */
  process(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    for (;;) {
      const task = this.host.sql
        .exec<Task>("SELECT seq, bet_key, candidates, next FROM award_tasks WHERE done = 0 ORDER BY seq LIMIT 1")
        .toArray()[0];
      if (!task) return;
      await this.settle(task);
    }
  }

  private async settle(task: Task): Promise<void> {
    const user = this.host.user();
    const candidates = JSON.parse(task.candidates) as Candidate[];
    for (let i = task.next; i < candidates.length; i++) {
      const c = candidates[i]!;
      const id = await awardId(user, task.bet_key, c.offer_id);
      const terms = { version: c.version, budget_cents: c.budget_cents, max_awards_per_user: c.max_awards_per_user };
      const [outcome] = (await this.host.env.OFFER_BUDGET.getByName(c.offer_id).reserve(terms, [
        { award_id: id, user_id: user, amount_cents: c.bonus_cents },
      ])) as ReserveOutcome[];
      if (outcome?.status === "RESERVED") return this.pay(task, i, c, id, outcome.amount_cents);
      this.host.mutate(() => this.host.sql.exec("UPDATE award_tasks SET next = ? WHERE seq = ?", i + 1, task.seq));
    }
    this.host.mutate(() => this.host.sql.exec("UPDATE award_tasks SET done = 1 WHERE seq = ?", task.seq));
  }

  /** The award, its credit and its event: one transaction, so there is never one without the others. */
  private pay(task: Task, index: number, c: Candidate, id: string, amount: number): void {
    const { sql } = this.host;
    this.host.mutate((now) => {
      const paid = sql.exec("SELECT 1 FROM offer_awards WHERE award_id = ?", id).toArray().length > 0;
      if (!paid) {
        const bet = sql
          .exec<{ event_id: string; stake: number }>("SELECT event_id, stake FROM gate_bets WHERE bet_key = ?", task.bet_key)
          .one();
        const credit = this.host.creditBonus(id, amount, c.offer_id);
        if (credit.ok) {
          sql.exec(
            `INSERT INTO offer_awards (award_id, bet_key, event_id, offer_id, offer_version, stake, bonus, ledger_seq, awarded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            id,
            task.bet_key,
            bet.event_id,
            c.offer_id,
            c.version,
            bet.stake,
            amount,
            credit.value.seq,
            now,
          );
          this.host.emit("offer.awarded", {
            award_id: id,
            bet_key: task.bet_key,
            event_id: bet.event_id,
            user_id: this.host.user(),
            offer_id: c.offer_id,
            offer_version: c.version,
            stake_cents: bet.stake,
            bonus_cents: amount,
            ledger_seq: credit.value.seq,
            awarded_at: now,
          });
        } else {
          // The balance is at its limit: no credit, so no award (the reservation stays spent).
          console.error(JSON.stringify({ msg: "bonus credit refused", award_id: id, error: credit.error }));
        }
      }
      sql.exec("UPDATE award_tasks SET next = ?, done = 1 WHERE seq = ?", index, task.seq);
    });
  }

  /** This wallet's awards, newest first; `cursor` is a seq to continue below. */
  list(limit: number, cursor?: number): { awards: AwardView[]; next_cursor?: string } {
    const rows = this.host.sql
      .exec<{ seq: number; award_id: string; bet_key: string; event_id: string; offer_id: string; offer_version: number; stake: number; bonus: number; ledger_seq: number; awarded_at: string }>(
        "SELECT seq, award_id, bet_key, event_id, offer_id, offer_version, stake, bonus, ledger_seq, awarded_at FROM offer_awards WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        cursor ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const awards = rows.slice(0, limit).map((r) => ({
      award_id: r.award_id,
      user_id: this.host.user(),
      bet_key: r.bet_key,
      event_id: r.event_id,
      offer_id: r.offer_id,
      offer_version: r.offer_version,
      stake_cents: r.stake,
      bonus_cents: r.bonus,
      ledger_seq: r.ledger_seq,
      awarded_at: r.awarded_at,
    }));
    return rows.length > limit ? { awards, next_cursor: String(rows[limit - 1]!.seq) } : { awards };
  }
}
