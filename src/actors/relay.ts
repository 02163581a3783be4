import { DurableObject } from "cloudflare:workers";
import type { StoredEvent } from "../lib/actor";
import type { PullResult, RelayEntry } from "../lib/bridge-wire";
import type { Envelope } from "../lib/envelope";
import { Lease, leaseMigration, type LeaseOutcome } from "../lib/lease";
import { Forwarder, forwardMigration } from "../lib/feed-forward";
import { migrate } from "../lib/migrations";
import { toEnvelope } from "../lib/outbox";
import { addCounts, type Counts, type FailureKind, readCounts, statsMigration, sumCounts } from "../lib/stats";

// Six columns a row, under the 100 bound parameters a statement may have.
const ROWS_PER_INSERT = 16;

type LogRow = { pos: number; type: string; aggregate: string; seq: number; time: string; data: string };

// Routing to relay shards lives in lib/ (the actor base uses it); re-exported for callers.
export { relayFor, relayShard, relayShards } from "../lib/relays";

/**
 * A relay shard: a durable, ordered log of events pushed by actors' outboxes,
 * served to the Kafka bridge by long-poll pull with an acknowledged cursor.
 *
 * Pushes are at least once; `high_water` keeps each aggregate's last seq, so a
 * re-pushed batch is ignored and the log holds each event once. The bridge acks
 * by passing the last position it has delivered; the relay then trims it.
 */
export class Relay extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private waiters: (() => void)[] = [];
  private readonly lease: Lease;
  /** Forwards committed events to the live feeds (src/lib/feed-forward.ts). */
  private readonly feeds: Forwarder;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.lease = new Lease(this.sql);
    this.feeds = new Forwarder(this.sql, env, ctx.id.name ?? ctx.id.toString(), (after, limit) => this.read(after, limit));
    ctx.blockConcurrencyWhile(async () =>
      migrate(ctx.storage, [
        {
          id: "relay-1",
          sql: `
            CREATE TABLE log (
              pos INTEGER PRIMARY KEY AUTOINCREMENT,
              id TEXT NOT NULL,
              type TEXT NOT NULL,
              aggregate TEXT NOT NULL,
              seq INTEGER NOT NULL,
              time TEXT NOT NULL,
              data TEXT NOT NULL
            );
            CREATE TABLE high_water (aggregate TEXT PRIMARY KEY, seq INTEGER NOT NULL);
          `,
        },
        { id: "relay-2", sql: leaseMigration.sql },
        statsMigration,
        forwardMigration,
      ]),
    );
  }

  /** RPC from an actor's outbox: appends what is new, in order. Returns how many were new. */
  append(events: Envelope[]): number {
    // A batch comes from one actor, so usually one aggregate: one high-water read,
    // multi-row inserts, one high-water write.
    const highWater = new Map<string, number>();
    const fresh = events.filter((e) => {
      const seen =
        highWater.get(e.aggregate) ??
        this.sql.exec<{ seq: number }>("SELECT seq FROM high_water WHERE aggregate = ?", e.aggregate).toArray()[0]?.seq ??
        0;
      highWater.set(e.aggregate, Math.max(seen, e.seq));
      return e.seq > seen;
    });
    if (!fresh.length) return 0;
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < fresh.length; i += ROWS_PER_INSERT) {
        const rows = fresh.slice(i, i + ROWS_PER_INSERT);
        this.sql.exec(
          `INSERT INTO log (id, type, aggregate, seq, time, data) VALUES ${rows.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
          ...rows.flatMap((e) => [e.id, e.type, e.aggregate, e.seq, e.time, JSON.stringify(e.data)]),
        );
      }
      for (const [aggregate, seq] of highWater) {
        this.sql.exec(
          "INSERT INTO high_water (aggregate, seq) VALUES (?, ?) ON CONFLICT (aggregate) DO UPDATE SET seq = max(seq, excluded.seq)",
          aggregate,
          seq,
        );
      }
      // Live stats count each event here, once, with the log row (src/lib/stats.ts).
      addCounts(this.sql, sumCounts(fresh), Date.now());
    });
    for (const wake of this.waiters.splice(0)) wake();
    void this.feeds.kick();
    return fresh.length;
  }

  /**
   * RPC for the bridge: the shard's lease (see lib/lease.ts). One bridge drains
   * a shard at a time; a survivor takes over once the owner's lease lapses.
   */
  acquireLease(holder: string, ttlMs: number): LeaseOutcome {
    return this.lease.acquire(holder, ttlMs, Date.now());
  }

  /** RPC: gives the lease up (a bridge stopping cleanly), so another takes over at once. */
  releaseLease(token: number): boolean {
    return this.lease.release(token);
  }

  /**
   * RPC for the bridge: trims everything up to `ack`, then returns entries after
   * it. With nothing to return it waits up to `waitMs` for an append.
   *
   * `token` is the bridge's lease: a pull under a lease another bridge has since
   * taken is fenced (nothing trimmed, nothing returned), so a stale owner can
   * neither acknowledge nor deliver. A pull without a token works only while
   * nobody holds a live lease. A valid pull renews the lease.
   */
  async pull(ack: number, limit: number, waitMs: number, token?: number): Promise<PullResult<StoredEvent>> {
    const held = this.lease.check(token, Date.now());
    if (!held.ok) return { entries: [], cursor: ack, fenced: held.current };
    // Entries the feeds have not had yet stay in the log.
    this.sql.exec("DELETE FROM log WHERE pos <= ?", Math.min(ack, this.feeds.cursor));
    void this.feeds.kick();
    let entries = this.read(ack, limit);
    // Wait no longer than half the lease, so the owner renews it in time.
    const wait = Math.min(waitMs, held.ttl_ms / 2);
    if (!entries.length && wait > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      const still = this.lease.check(token, Date.now());
      if (!still.ok) return { entries: [], cursor: ack, fenced: still.current };
      entries = this.read(ack, limit);
    }
    return { entries, cursor: entries.at(-1)?.pos ?? ack };
  }

  /** RPC: how many events wait for the bridge (relay lag, for metrics). */
  backlog(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log").one().n;
  }

  /** RPC: entries after a position, without acknowledging anything. */
  read(after: number, limit: number): RelayEntry<StoredEvent>[] {
    return this.sql
      .exec<LogRow>("SELECT pos, type, aggregate, seq, time, data FROM log WHERE pos > ? ORDER BY pos LIMIT ?", after, limit)
      .toArray()
      .map((r) => ({ pos: r.pos, event: toEnvelope(r) as StoredEvent }));
  }

  /** RPC: forwards what the feeds have not had yet, and resolves when done (tests, benchmarks). */
  forward(): Promise<void> {
    return this.feeds.kick();
  }

  /** RPC: this shard's live-stats counters (totals and the second before `nowMs`). */
  stats(nowMs: number): { totals: Counts; per_second: Counts } {
    return readCounts(this.sql, nowMs);
  }

  /** RPC: counts failures that are not events (5xx answers, the bridge's retries and dead letters). */
  countFailure(kind: FailureKind, n: number): void {
    this.ctx.storage.transactionSync(() => addCounts(this.sql, { [`failures_${kind}`]: n }, Date.now()));
  }
}
