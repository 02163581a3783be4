import { DurableObject } from "cloudflare:workers";
import type { Envelope, Json } from "./envelope";
import type { AggregateKind, EventData, EventTypeOf } from "./events";
import { migrate, type Migration } from "./migrations";
import { Outbox, outboxMigration } from "./outbox";
import { relayFor } from "./relays";
import { backoff } from "./retry";
import { Schedule, scheduleMigration } from "./schedule";

type Scalar = string | number | boolean | null;
/**
 * Outbox events as RPC returns them. The payload is typed as a record one level
 * deep because a recursive JSON type is too deep for the RPC stub types.
 */
export type StoredEvent = Envelope<Record<string, Scalar | Record<string, Scalar>>>;

const DELIVERY_BATCH = 500;
// How long an outbox gathers events before the alarm delivers them: a hot actor
// then pushes full batches instead of paying one relay call per few events.
const DELIVERY_DELAY_MS = 25;
// A busy actor (one that emits again within DELIVERY_BACKSTOP_MS of its outbox
// emptying) delivers from a timer in memory instead, gathering for
// DELIVERY_GATHER_MS, and its delivery row is armed DELIVERY_BACKSTOP_MS ahead
// as a backstop: an alarm every 25 ms costs commits (the row, the alarm's own
// storage) that its claims would queue behind. If the instance goes away
// mid-stream, the backstop's alarm delivers the rest. Each push costs the relay
// a commit (two if a feed shows the events), so the timer gathers longer than
// the alarm: about what an alarm's round trip took anyway.
const DELIVERY_GATHER_MS = 100;
const DELIVERY_BACKSTOP_MS = 1000;
/** Per-row backoff of a failing scheduled handler. */
const ROW_BACKOFF = { baseMs: 200, maxMs: 60_000 };
/** At most this many due rows run per alarm; the alarm re-arms for the rest. */
const ROWS_PER_ALARM = 50;
const OUTBOX = "outbox";

/**
 * A handler of one kind of scheduled row. Alarms are at least once, so it must
 * be idempotent. It may return a time (ms) to run the same row again then.
 */
export type Handler = (payload: Json) => void | number | Promise<void | number>;

/**
 * Base class for every actor: applies the outbox, the schedule and the
 * subclass's `static migrations` before the first request, gives it `sql`,
 * `mutate`, `batched`, `emit` and `schedule`, and runs due scheduled rows (outbox delivery
 * is one kind) from the object's single alarm.
 *
 * Migrations are static because subclass fields are not set yet when this
 * constructor runs. An actor is exactly one event aggregate, `${kind}:${name}`
 * (its outbox numbers the aggregate's events), and knows its name from
 * `ctx.id.name`. The base class owns the alarm: subclasses schedule rows.
 */
export abstract class Actor<K extends AggregateKind = AggregateKind> extends DurableObject<Env> {
  static migrations: readonly Migration[] = [];
  /** The aggregate kind: the first part of every event's aggregate. */
  protected abstract readonly kind: K;
  /** Handlers of this actor's kinds of scheduled rows (the outbox's is built in). */
  protected readonly handlers: Record<string, Handler> = {};
  /** The actor's clock (ms since the epoch); tests replace it instead of sleeping. */
  clock: () => number = () => Date.now();
  protected readonly sql: SqlStorage;
  protected readonly events: Outbox;
  private readonly scheduled: Schedule;
  /** Whether an outbox-delivery row exists (so an emit need not write one). */
  private deliveryArmed = false;
  /** The time the alarm is set for, as far as this instance knows. */
  private armedAt: number | undefined;
  /** The running mutation's time (ISO-8601), while one runs. */
  private mutationTime: string | undefined;
  /** The highest seq the relay has acknowledged (this instance; rows up to it may still be stored). */
  private delivered = 0;
  /** The highest seq deleted from the outbox. Acknowledged rows are deleted inside the next mutation's commit. */
  private trimmed = 0;
  /** Delivering from the timer, with the delivery row as the backstop. */
  private pumping = false;
  /** When an alarm delivery last emptied the outbox and removed the row. */
  private emptiedAt: number | undefined;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  /** The push in flight (timer or alarm): one at a time, each after the one before. */
  private pushing: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.events = new Outbox(ctx.storage.sql);
    this.scheduled = new Schedule(ctx.storage.sql);
    const own = (this.constructor as typeof Actor).migrations;
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage, [outboxMigration, scheduleMigration, ...own]);
      this.armedAt = (await ctx.storage.getAlarm()) ?? undefined;
    });
  }

  /** This object's name (`getByName(name)`): the user id, coupon name, campaign id… */
  protected get name(): string {
    const name = this.ctx.id.name;
    if (name === undefined) throw new Error("actors are addressed by name (getByName)");
    return name;
  }

  /** The aggregate every event of this actor belongs to. */
  protected get aggregate(): string {
    return `${this.kind}:${this.name}`;
  }

  /**
   * Appends an event to the outbox; call it inside `mutate`. Only catalogued
   * types of this actor's kind, with their shapes (src/lib/events.ts). The
   * envelope's time is the mutation's time.
   */
  protected emit<T extends EventTypeOf<K>>(type: T, data: EventData<T>): void {
    if (this.mutationTime === undefined) throw new Error(`emit(${type}) outside a mutation`);
    this.events.append(this.aggregate, type, data as Json, this.mutationTime);
    if (!this.deliveryArmed) {
      this.deliveryArmed = true;
      const now = this.clock();
      this.pumping = this.emptiedAt !== undefined && now - this.emptiedAt < DELIVERY_BACKSTOP_MS;
      this.schedule(now + (this.pumping ? DELIVERY_BACKSTOP_MS : DELIVERY_DELAY_MS), OUTBOX, null, OUTBOX);
    }
    if (this.pumping) this.pumpSoon();
  }

  /**
   * Schedules work of `kind` (a key of `handlers`) at `at` (ms). With a `key`,
   * there is at most one such row: scheduling it again keeps the earlier time.
   * Inside `mutate`, the row commits (or rolls back) with the mutation.
   */
  protected schedule(at: number, kind: string, payload: Json, key: string | null = null): void {
    this.scheduled.add(at, kind, payload, key);
    this.arm(at);
  }

  private arm(at: number): void {
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.armedAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * Runs one mutation as a single SQLite transaction. `at` is the mutation's
   * time (ISO-8601 UTC, from the clock): use it for every time the mutation
   * writes, so they equal its events' time. A nested mutate joins the outer
   * one. If it throws, storage rolls back and `rollback()` restores every
   * in-memory cache, so memory never runs ahead of storage.
   */
  protected mutate<T>(fn: (at: string) => T): T {
    if (this.mutationTime !== undefined) return fn(this.mutationTime);
    return this.withTrim(() => this.attempt(fn));
  }

  /**
   * Runs `commit` (one transaction) with the outbox rows the relay has
   * acknowledged deleted inside it, so a busy actor pays no commit of its own
   * for the trim. If it throws, the rows stay for a later commit.
   */
  private withTrim<T>(commit: () => T): T {
    const upTo = this.delivered;
    if (upTo <= this.trimmed) return commit();
    const result = this.ctx.storage.transactionSync(() => {
      this.events.trim(upTo);
      return commit();
    });
    this.trimmed = upTo;
    return result;
  }

  /**
   * Group commit: queues a mutation and runs it, with every other one queued in
   * the same moment, in one transaction, so concurrent requests share one
   * storage commit instead of paying one each. Each runs in its own nested
   * transactionSync (a SAVEPOINT): one that throws rolls back only its own
   * writes and, through `rollback()`, memory; the others stand. The promise
   * settles after the batch's transaction returns, and workerd's output gate
   * holds the reply until that commit is durable. `fn` must be synchronous and
   * must decide everything from state it reads inside itself (earlier
   * mutations of the batch have already run when it does).
   */
  protected batched<T>(fn: (at: string) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = this.queued.push({ fn, resolve: resolve as (v: unknown) => void, reject }) === 1;
      // A timer, not a microtask: requests that arrive while this turn's I/O is
      // delivered join the batch (a microtask would flush after the first).
      if (first) setTimeout(() => this.flush(), 0);
    });
  }

  private queued: { fn: (at: string) => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    const armed = { delivery: this.deliveryArmed, at: this.armedAt };
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      outcomes = this.withTrim(() =>
        this.ctx.storage.transactionSync(() =>
          batch.map(({ fn }) => {
            try {
              return { ok: true as const, value: this.attempt(fn) };
            } catch (error) {
              return { ok: false as const, error };
            }
          }),
        ),
      );
    } catch (error) {
      // The batch's own transaction failed: none of it stands.
      this.restore(armed);
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) q.resolve(o.value);
      else q.reject(o.error);
    });
  }

  /** One mutation in its own (possibly nested) transaction; memory restored if it throws. */
  private attempt<T>(fn: (at: string) => T): T {
    const armed = { delivery: this.deliveryArmed, at: this.armedAt };
    this.mutationTime = new Date(this.clock()).toISOString();
    try {
      return this.ctx.storage.transactionSync(() => fn(this.mutationTime!));
    } catch (err) {
      this.restore(armed);
      throw err;
    } finally {
      this.mutationTime = undefined;
    }
  }

  private restore(armed: { delivery: boolean; at: number | undefined }): void {
    this.events.forget();
    this.deliveryArmed = armed.delivery;
    this.armedAt = armed.at;
    this.rollback();
  }

  /** The one hook for a failed mutation: drop or restore every in-memory copy of state. */
  protected rollback(): void {}

  /**
   * Runs the rows due by the time the alarm was set for (or now, if later),
   * each on its own: a failing row backs off alone and never holds up the
   * others. Then arms the alarm for the earliest row left.
   */
  async alarm(): Promise<void> {
    const now = this.clock();
    const horizon = Math.max(now, this.armedAt ?? now);
    this.armedAt = undefined;
    for (const row of this.scheduled.due(horizon, ROWS_PER_ALARM)) {
      try {
        const handler = row.kind === OUTBOX ? () => this.deliver() : this.handlers[row.kind];
        if (!handler) throw new Error(`no handler for scheduled kind ${row.kind}`);
        const again = await handler(row.payload);
        if (typeof again === "number") this.scheduled.again(row, again);
        else this.scheduled.done(row);
      } catch (err) {
        const delay = backoff(row.attempts + 1, ROW_BACKOFF);
        this.scheduled.failed(row, this.clock() + delay, String(err));
        console.error(JSON.stringify({ msg: "scheduled work failed", kind: row.kind, error: String(err), retry_in_ms: delay }));
      }
    }
    const next = this.scheduled.earliest();
    if (next !== undefined) {
      this.armedAt = undefined;
      this.arm(next);
    }
  }

  /**
   * Outbox delivery, one kind of scheduled row (run by the alarm): pushes
   * batches to the relay; a row is deleted only after the relay has
   * acknowledged it. The relay ignores seqs it has seen, so a repeated push is
   * harmless. Once the outbox is empty the delivery row goes; if events are
   * left, the timer delivers them and the row stays, re-armed as the backstop.
   */
  private async deliver(): Promise<number | void> {
    const drained = await this.push();
    this.trimNow(); // in the commit that updates or deletes the row
    if (!drained) {
      this.pumping = true;
      this.pumpSoon();
      return this.clock() + DELIVERY_BACKSTOP_MS;
    }
    this.pumping = false;
    this.deliveryArmed = false;
    this.emptiedAt = this.clock();
  }

  private pumpSoon(): void {
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = undefined;
      void this.pump();
    }, DELIVERY_GATHER_MS);
  }

  /**
   * One timer delivery. It writes nothing: the rows it delivered are deleted
   * by the next mutation's commit, or by the backstop's alarm. A failure hands
   * delivery back to the row's alarm and its backoff.
   */
  private async pump(): Promise<void> {
    try {
      if (!(await this.push())) this.pumpSoon();
    } catch (err) {
      this.pumping = false;
      console.error(JSON.stringify({ msg: "outbox delivery failed; the alarm retries", error: String(err) }));
    }
  }

  /** Pushes what the relay has not acknowledged, in batches; true if nothing is left. */
  private push(): Promise<boolean> {
    const run = this.pushing.then(async () => {
      for (let round = 0; round < 10; round++) {
        const batch = this.events.read(DELIVERY_BATCH, this.delivered);
        if (!batch.length) return true;
        await relayFor(this.env, batch[0]!.aggregate).append(batch);
        this.delivered = Math.max(this.delivered, batch.at(-1)!.seq);
        if (batch.length < DELIVERY_BATCH) break;
      }
      return this.events.isEmpty(this.delivered);
    });
    this.pushing = run.catch(() => undefined);
    return run;
  }

  /** Deletes the acknowledged rows now (a write of its own). */
  private trimNow(): void {
    if (this.delivered <= this.trimmed) return;
    this.events.trim(this.delivered);
    this.trimmed = this.delivered;
  }

  /** RPC: the events not yet delivered to the relay, oldest first. */
  outbox(limit = 1000): StoredEvent[] {
    return this.events.read(limit, this.delivered) as StoredEvent[];
  }

  /** RPC: the scheduled rows (for tests and operators). */
  scheduledWork(): { kind: string; key: string | null; due_at: number; attempts: number }[] {
    return this.scheduled.all().map(({ kind, key, due_at, attempts }) => ({ kind, key, due_at, attempts }));
  }
}
