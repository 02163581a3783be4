import { DurableObject } from "cloudflare:workers";
import type { StoredEvent } from "../lib/actor";
import type { PullResult, RelayEntry } from "../lib/bridge-wire";
import type { Envelope } from "../lib/envelope";
import { Lease, leaseMigration, type LeaseOutcome } from "../lib/lease";
import { Forwarder, forwardMigration } from "../lib/feed-forward";
import { migrate } from "../lib/migrations";
import { toEnvelope } from "../lib/outbox";
import { Schedule, scheduleMigration } from "../lib/schedule";
import { addCounts, type Counts, type FailureKind, readCounts, statsMigration, sumCounts } from "../lib/stats";

// Six columns a row, under the 100 bound parameters a statement may have.
const ROWS_PER_INSERT = 16;

/**
 * How long a quiet aggregate's high-water mark is kept: 7 days after its last
 * push. A mark exists to drop a batch pushed again, and an outbox pushes a batch
 * again only when the relay stored it but the actor did not hear back; the
 * actor's delivery row then retries with a backoff capped at a minute. A week
 * of silence is far past that, so a forgotten mark sees no repeat in practice.
 * Forgetting is safe besides: the aggregate's next push carries higher seqs
 * (its outbox numbers never restart), so nothing new is dropped, and should a
 * stale batch ever come after all, it is stored twice with the same event ids,
 * which every consumer deduplicates.
 */
export const HIGH_WATER_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
const HIGH_WATER_PRUNE = "high_water.prune";
/** How long a counted failure report's id is kept, to ignore the same report sent again. */
const FAILURE_ID_LIFETIME_MS = 60 * 60 * 1000;
/** Marks deleted per run; the row runs again for the rest. */
const PRUNE_PER_RUN = 1000;

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
  private readonly scheduled: Schedule;
  /** The relay's clock (ms since the epoch); tests replace it instead of sleeping. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.lease = new Lease(this.sql);
    this.scheduled = new Schedule(this.sql);
    this.feeds = new Forwarder(this.sql, env, ctx.id.name ?? ctx.id.toString(), (after, limit) => this.read(after, limit));
    ctx.blockConcurrencyWhile(async () => {
      this.pruneAt = (await ctx.storage.getAlarm()) ?? undefined;
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
        scheduleMigration,
        {
          // When each mark last moved, for the prune (marks from before count from the upgrade).
          id: "relay-high-water-seen",
          sql: `
            ALTER TABLE high_water ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
            UPDATE high_water SET seen_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
            CREATE INDEX high_water_seen_at ON high_water (seen_at);
          `,
        },
        {
          // The bridge's failure reports already counted, by message (see countFailures).
          id: "relay-failure-ids",
          sql: "CREATE TABLE failure_ids (id TEXT PRIMARY KEY, at INTEGER NOT NULL); CREATE INDEX failure_ids_at ON failure_ids (at);",
        },
      ]);
    });
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
    const now = this.clock();
    const skipped = this.ctx.storage.transactionSync(() => {
      const skip = this.feeds.canSkip(fresh as StoredEvent[]);
      for (let i = 0; i < fresh.length; i += ROWS_PER_INSERT) {
        const rows = fresh.slice(i, i + ROWS_PER_INSERT);
        this.sql.exec(
          `INSERT INTO log (id, type, aggregate, seq, time, data) VALUES ${rows.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
          ...rows.flatMap((e) => [e.id, e.type, e.aggregate, e.seq, e.time, JSON.stringify(e.data)]),
        );
      }
      for (const [aggregate, seq] of highWater) {
        this.sql.exec(
          `INSERT INTO high_water (aggregate, seq, seen_at) VALUES (?, ?, ?)
           ON CONFLICT (aggregate) DO UPDATE SET seq = max(seq, excluded.seq), seen_at = excluded.seen_at`,
          aggregate,
          seq,
          now,
        );
      }
      this.schedulePrune(now + HIGH_WATER_LIFETIME_MS);
      // Live stats count each event here, once, with the log row (src/lib/stats.ts).
      addCounts(this.sql, sumCounts(fresh), Date.now());
      if (skip) this.feeds.skipTo(this.sql.exec<{ pos: number }>("SELECT max(pos) AS pos FROM log").one().pos);
      return skip;
    });
    for (const wake of this.waiters.splice(0)) wake();
    if (!skipped) void this.feeds.kick();
    return fresh.length;
  }

  /** One keyed prune row on the relay's alarm (the relay has no other scheduled work). */
  private schedulePrune(at: number): void {
    if (this.pruneAt !== undefined && this.pruneAt <= at) return;
    this.scheduled.add(at, HIGH_WATER_PRUNE, null, HIGH_WATER_PRUNE);
    this.pruneAt = at;
    void this.ctx.storage.setAlarm(at);
  }
  private pruneAt: number | undefined;

  /** Forgets the marks of aggregates quiet for HIGH_WATER_LIFETIME_MS, then re-arms for the next. */
  async alarm(): Promise<void> {
    const now = this.clock();
    this.pruneAt = undefined;
    this.ctx.storage.transactionSync(() => {
      for (const row of this.scheduled.due(now, 10)) this.scheduled.done(row);
      this.sql.exec(
        "DELETE FROM high_water WHERE aggregate IN (SELECT aggregate FROM high_water WHERE seen_at <= ? ORDER BY seen_at LIMIT ?)",
        now - HIGH_WATER_LIFETIME_MS,
        PRUNE_PER_RUN,
      );
      const { oldest } = this.sql.exec<{ oldest: number | null }>("SELECT min(seen_at) AS oldest FROM high_water").one();
      if (oldest !== null) this.schedulePrune(Math.max(oldest + HIGH_WATER_LIFETIME_MS, now + 1));
    });
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

  /** RPC: counts failures that are not events (5xx answers). */
  countFailure(kind: FailureKind, n: number): void {
    this.ctx.storage.transactionSync(() => addCounts(this.sql, { [`failures_${kind}`]: n }, Date.now()));
  }

  /**
   * RPC: counts the bridge's retries or dead letters, each message id once, so a
   * report the bridge sends again (its answer was lost) is not counted twice.
   * Ids are kept an hour; the bridge re-sends within seconds. Returns how many were new.
   */
  countFailures(kind: "retries" | "dlq", ids: string[]): number {
    const now = this.clock();
    return this.ctx.storage.transactionSync(() => {
      let fresh = 0;
      for (const id of ids) {
        fresh += this.sql.exec("INSERT INTO failure_ids (id, at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", `${kind} ${id}`, now).rowsWritten > 0 ? 1 : 0;
      }
      this.sql.exec("DELETE FROM failure_ids WHERE at < ?", now - FAILURE_ID_LIFETIME_MS);
      if (fresh) addCounts(this.sql, { [`failures_${kind}`]: fresh }, Date.now());
      return fresh;
    });
  }
}
