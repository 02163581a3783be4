import type { Json } from "./envelope";
import type { Migration } from "./migrations";

/**
 * Scheduled work as rows (DESIGN.md, "The alarm"): each row is one piece of due
 * work of some kind; the actor's single alarm is armed for the earliest row.
 * A row with a key is unique per (kind, key): scheduling it again keeps one row,
 * due at the earlier time. `version` changes on every reschedule, so finishing
 * a run deletes the row only if nobody rescheduled it meanwhile.
 */
export const scheduleMigration: Migration = {
  id: "schedule-1",
  sql: `
    CREATE TABLE schedule (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      key TEXT,
      payload TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      version INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      UNIQUE (kind, key)
    );
    CREATE INDEX schedule_due ON schedule (due_at);
  `,
};

export type ScheduledRow = { id: number; kind: string; key: string | null; payload: Json; due_at: number; attempts: number; version: number };
type Row = Omit<ScheduledRow, "payload"> & { payload: string };

export class Schedule {
  constructor(private readonly sql: SqlStorage) {}

  /** Adds a row due at `at` (ms since the epoch). With a key, an existing row keeps the earlier time. */
  add(at: number, kind: string, payload: Json, key: string | null = null): void {
    const json = JSON.stringify(payload);
    if (key === null) {
      this.sql.exec("INSERT INTO schedule (kind, key, payload, due_at) VALUES (?, NULL, ?, ?)", kind, json, at);
      return;
    }
    this.sql.exec(
      `INSERT INTO schedule (kind, key, payload, due_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, key) DO UPDATE SET payload = excluded.payload,
         due_at = min(due_at, excluded.due_at), version = version + 1`,
      kind,
      key,
      json,
      at,
    );
  }

  /** Rows due at `now`, earliest first. */
  due(now: number, limit: number): ScheduledRow[] {
    return this.sql
      .exec<Row>(
        "SELECT id, kind, key, payload, due_at, attempts, version FROM schedule WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
  }

  /** The run of `row` finished: delete it, unless it was rescheduled meanwhile. */
  done(row: ScheduledRow): void {
    this.sql.exec("DELETE FROM schedule WHERE id = ? AND version = ?", row.id, row.version);
  }

  /** The run of `row` asked to run again at `at` (unless rescheduled meanwhile). */
  again(row: ScheduledRow, at: number): void {
    this.sql.exec("UPDATE schedule SET due_at = ?, attempts = 0 WHERE id = ? AND version = ?", at, row.id, row.version);
  }

  /** The run of `row` failed: try again at `at`, counting the attempt. */
  failed(row: ScheduledRow, at: number, error: string): void {
    this.sql.exec(
      "UPDATE schedule SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE id = ?",
      at,
      error.slice(0, 500),
      row.id,
    );
  }

  earliest(): number | undefined {
    return this.sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM schedule").one().at ?? undefined;
  }

  /** Every row, for tests and operators. */
  all(): ScheduledRow[] {
    return this.due(Number.MAX_SAFE_INTEGER, 10_000);
  }
}
