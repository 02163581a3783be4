import type { Envelope, Json } from "./envelope";
import type { Migration } from "./migrations";

/**
 * The transactional outbox. Actors append events in the same synchronous
 * transaction as the state change they describe; a relay drains them later.
 *
 * Each actor is one aggregate, so the outbox's AUTOINCREMENT key is the
 * aggregate's seq: gapless, and never reused after delivered rows are deleted
 * (sqlite_sequence remembers the highest).
 */
export const outboxMigration: Migration = {
  id: "outbox-1",
  sql: `
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      time TEXT NOT NULL,
      data TEXT NOT NULL
    );
  `,
};

type OutboxRow = { seq: number; type: string; aggregate: string; time: string; data: string };

/** An envelope from a stored row (the outbox's, or a relay log's): the id is always `${aggregate}:${seq}`. */
export const toEnvelope = (r: OutboxRow): Envelope => ({
  id: `${r.aggregate}:${r.seq}`,
  type: r.type,
  aggregate: r.aggregate,
  seq: r.seq,
  time: r.time,
  data: JSON.parse(r.data),
});

export class Outbox {
  // The last seq used; read once, then kept in memory so an append is one INSERT.
  private last: number | undefined;
  /** Events appended by this instance: lets a caller see whether a mutation emitted. */
  appended = 0;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Appends one event. Call it inside the mutation's transactionSync: if that
   * transaction throws, call `forget()` so the counter is re-read.
   */
  append<T extends Json>(aggregate: string, type: string, data: T, time = new Date().toISOString()): Envelope<T> {
    this.last ??=
      this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").toArray()[0]?.seq ?? 0;
    const seq = this.last + 1;
    this.sql.exec(
      "INSERT INTO outbox (seq, type, aggregate, time, data) VALUES (?, ?, ?, ?, ?)",
      seq,
      type,
      aggregate,
      time,
      JSON.stringify(data),
    );
    this.last = seq;
    this.appended++;
    return { id: `${aggregate}:${seq}`, type, aggregate, seq, time, data };
  }

  forget(): void {
    this.last = undefined;
  }

  /** Whether no event after seq `after` is stored. */
  isEmpty(after = 0): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE seq > ? LIMIT 1", after).toArray().length === 0;
  }

  /** Deletes the events the relay has acknowledged. */
  trim(upTo: number): void {
    this.sql.exec("DELETE FROM outbox WHERE seq <= ?", upTo);
  }

  /** Stored events after seq `after`, in commit order, oldest first. */
  read(limit: number, after = 0): Envelope[] {
    return this.sql
      .exec<OutboxRow>("SELECT seq, type, aggregate, time, data FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
      .toArray()
      .map(toEnvelope);
  }
}
