/**
 * A lease with a fencing token, kept in an actor's SQLite (one row). The relay
 * shards use it so that one bridge at a time drains a shard.
 *
 * - `acquire` grants the lease to a holder when it is free, expired, or already
 *   that holder's (a renewal). A new holder gets a new, larger token.
 * - A token stays valid until someone else acquires the lease: an owner that
 *   missed its renewal but was not replaced carries on undisturbed.
 * - Callers pass `now` (ms since the epoch), so tests drive the clock.
 */
import type { LeaseOutcome, LeaseState } from "./bridge-wire";
import type { Migration } from "./migrations";

export type { LeaseOutcome, LeaseState };

export const leaseMigration: Migration = {
  id: "lease-1",
  sql: `CREATE TABLE lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ttl_ms INTEGER NOT NULL
  )`,
};


type Row = { holder: string; token: number; expires_at: number; ttl_ms: number };

const view = (r: Row): LeaseState => ({
  holder: r.holder,
  token: r.token,
  expires_at: new Date(r.expires_at).toISOString(),
  ttl_ms: r.ttl_ms,
});

export class Lease {
  constructor(private readonly sql: SqlStorage) {}

  private row(): Row | undefined {
    return this.sql.exec<Row>("SELECT holder, token, expires_at, ttl_ms FROM lease WHERE id = 1").toArray()[0];
  }

  acquire(holder: string, ttlMs: number, now: number): LeaseOutcome {
    const current = this.row();
    if (current && current.holder !== holder && current.expires_at > now) return { status: "HELD", ...view(current) };
    const next: Row = {
      holder,
      token: current?.holder === holder ? current.token : (current?.token ?? 0) + 1,
      expires_at: now + ttlMs,
      ttl_ms: ttlMs,
    };
    this.sql.exec(
      `INSERT INTO lease (id, holder, token, expires_at, ttl_ms) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at, ttl_ms = excluded.ttl_ms`,
      next.holder,
      next.token,
      next.expires_at,
      next.ttl_ms,
    );
    return { status: "GRANTED", ...view(next) };
  }

  /**
   * Whether `token` may act now. With no token (a caller that does not use
   * leases) only while nobody holds a live lease. A valid token's lease is
   * extended by its ttl: using the lease is renewing it.
   */
  check(token: number | undefined, now: number): { ok: true; ttl_ms: number } | { ok: false; current: LeaseState | null } {
    const current = this.row();
    if (token === undefined) {
      return !current || current.expires_at <= now ? { ok: true, ttl_ms: Infinity } : { ok: false, current: view(current) };
    }
    if (!current || current.token !== token) return { ok: false, current: current ? view(current) : null };
    this.sql.exec("UPDATE lease SET expires_at = max(expires_at, ?) WHERE id = 1", now + current.ttl_ms);
    return { ok: true, ttl_ms: current.ttl_ms };
  }

  /** Gives the lease up at once (a graceful stop), if `token` still holds it. */
  release(token: number): boolean {
    return this.sql.exec("UPDATE lease SET expires_at = 0 WHERE id = 1 AND token = ?", token).rowsWritten > 0;
  }
}
