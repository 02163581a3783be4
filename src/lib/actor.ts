import { DurableObject } from "cloudflare:workers";
import { relayFor } from "../actors/relay";
import type { Envelope, Json } from "./envelope";
import { migrate, type Migration } from "./migrations";
import { Outbox, outboxMigration } from "./outbox";

/**
 * Outbox events as RPC returns them. The payload is typed as a flat record
 * because a recursive JSON type is too deep for the RPC stub types.
 */
export type StoredEvent = Envelope<Record<string, string | number | boolean | null>>;

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
 * constructor runs. An actor is exactly one event aggregate (its outbox numbers
 * the aggregate's events), so every `emit` of one actor names the same aggregate.
 * The base class owns the object's single alarm: subclasses must not set alarms.
 */
export abstract class Actor extends DurableObject<Env> {
  static migrations: readonly Migration[] = [];
  protected readonly sql: SqlStorage;
  protected readonly events: Outbox;
  private deliveryArmed = false;
  private failures = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.events = new Outbox(ctx.storage.sql);
    const own = (this.constructor as typeof Actor).migrations;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, [outboxMigration, ...own]));
  }

  /**
   * Appends an event to the outbox; call it inside `mutate`. Pass the mutation's
   * own timestamp as `time` when the payload carries one, so the two agree.
   */
  protected emit<T extends Json>(aggregate: string, type: string, data: T, time?: string): Envelope<T> {
    return this.events.append(aggregate, type, data, time);
  }

  /**
   * Runs one mutation as a single SQLite transaction, then makes sure the alarm
   * will deliver what it emitted. If it throws, storage rolls back, so in-memory
   * counters are dropped and re-read.
   */
  protected mutate<T>(fn: () => T): T {
    const before = this.events.appended;
    const armed = this.deliveryArmed;
    try {
      return this.ctx.storage.transactionSync(() => {
        const result = fn();
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
