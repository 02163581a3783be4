import { DurableObject } from "cloudflare:workers";
import type { Envelope, Json } from "./envelope";
import type { AggregateKind, EventData, EventTypeOf } from "./events";
import { migrate, type Migration } from "./migrations";
import { Outbox, outboxMigration } from "./outbox";
import { relayFor } from "./relays";

type Scalar = string | number | boolean | null;
/**
 * Outbox events as RPC returns them. The payload is typed as a record one level
 * deep because a recursive JSON type is too deep for the RPC stub types.
 */
export type StoredEvent = Envelope<Record<string, Scalar | Record<string, Scalar>>>;

const DELIVERY_BATCH = 100;
// How long an outbox gathers events before the alarm delivers them: a hot actor
// then pushes full batches instead of paying one relay call per few events.
const DELIVERY_DELAY_MS = 25;
const MAX_BACKOFF_MS = 60_000;

/**
 * Base class for every actor: applies the outbox and the subclass's `static
 * migrations` before the first request, gives it `sql`, `mutate` and `emit`,
 * and delivers its outbox to the relay from the alarm.
 *
 * Migrations are static because subclass fields are not set yet when this
 * constructor runs. An actor is exactly one event aggregate, `${kind}:${name}`
 * (its outbox numbers the aggregate's events), and knows its name from
 * `ctx.id.name`. The base class owns the object's single alarm: subclasses must
 * not set alarms.
 */
export abstract class Actor<K extends AggregateKind = AggregateKind> extends DurableObject<Env> {
  static migrations: readonly Migration[] = [];
  /** The aggregate kind: the first part of every event's aggregate. */
  protected abstract readonly kind: K;
  protected readonly sql: SqlStorage;
  protected readonly events: Outbox;
  private deliveryArmed = false;
  private failures = 0;
  /** The running mutation's time (ISO-8601), while one runs. */
  private mutationTime: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.events = new Outbox(ctx.storage.sql);
    const own = (this.constructor as typeof Actor).migrations;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, [outboxMigration, ...own]));
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
  }

  /**
   * Runs one mutation as a single SQLite transaction, then makes sure the alarm
   * will deliver what it emitted. `at` is the mutation's time (ISO-8601 UTC):
   * use it for every time the mutation writes, so they equal the event's time.
   * A nested mutate joins the outer one. If it throws, storage rolls back, so
   * in-memory counters are dropped and re-read.
   */
  protected mutate<T>(fn: (at: string) => T): T {
    if (this.mutationTime !== undefined) return fn(this.mutationTime);
    const before = this.events.appended;
    const armed = this.deliveryArmed;
    this.mutationTime = new Date().toISOString();
    try {
      return this.ctx.storage.transactionSync(() => {
        const result = fn(this.mutationTime!);
        // Armed inside the transaction, so the alarm commits with the change.
        if (this.events.appended !== before && !this.deliveryArmed) {
          this.deliveryArmed = true;
          void this.ctx.storage.setAlarm(Date.now() + DELIVERY_DELAY_MS);
        }
        return result;
      });
    } catch (err) {
      this.events.forget();
      this.deliveryArmed = armed;
      throw err;
    } finally {
      this.mutationTime = undefined;
    }
  }

  /**
   * Pushes outbox batches to the relay, deleting each only after the relay has
   * acknowledged it. Alarms are at least once and the relay ignores seqs it has
   * seen, so a repeated push is harmless. On failure: retry with backoff.
   */
  async alarm(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const batch = this.events.read(DELIVERY_BATCH);
      if (!batch.length) {
        this.deliveryArmed = false;
        return;
      }
      try {
        await relayFor(this.env, batch[0]!.aggregate).append(batch);
      } catch (err) {
        this.failures++;
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures) * (0.5 + Math.random() / 2);
        console.error(JSON.stringify({ msg: "outbox delivery failed", error: String(err), retry_in_ms: Math.round(delay) }));
        await this.ctx.storage.setAlarm(Date.now() + delay);
        return;
      }
      this.failures = 0;
      this.events.trim(batch.at(-1)!.seq);
      if (batch.length < DELIVERY_BATCH) break;
    }
    // Whatever arrived while we pushed is gathered and delivered by the next alarm.
    if (this.events.isEmpty()) this.deliveryArmed = false;
    else await this.ctx.storage.setAlarm(Date.now() + DELIVERY_DELAY_MS);
  }

  /** RPC: the events not yet delivered to the relay, oldest first. */
  outbox(limit = 1000): StoredEvent[] {
    return this.events.read(limit) as StoredEvent[];
  }
}
