import { DurableObject } from "cloudflare:workers";
import type { Envelope, Json } from "./envelope";
import { migrate, type Migration } from "./migrations";
import { Outbox, outboxMigration } from "./outbox";

/**
 * Outbox events as RPC returns them. The payload is typed as a flat record
 * because a recursive JSON type is too deep for the RPC stub types.
 */
export type StoredEvent = Envelope<Record<string, string | number | boolean | null>>;

/**
 * Base class for every actor: applies the outbox and the subclass's `static
 * migrations` before the first request, and gives it `sql` and `emit`.
 * Migrations are static because subclass fields are not set yet when this
 * constructor runs.
 *
 * An actor is exactly one event aggregate (its outbox numbers the aggregate's
 * events), so every `emit` of one actor must name the same aggregate.
 */
export abstract class Actor extends DurableObject<Env> {
  static migrations: readonly Migration[] = [];
  protected readonly sql: SqlStorage;
  protected readonly events: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.events = new Outbox(ctx.storage.sql);
    const own = (this.constructor as typeof Actor).migrations;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, [outboxMigration, ...own]));
  }

  /** Appends an event to the outbox; call it inside the mutation's transactionSync. */
  protected emit<T extends Json>(aggregate: string, type: string, data: T): Envelope<T> {
    return this.events.append(aggregate, type, data);
  }

  /**
   * Runs one mutation as a single SQLite transaction. If it throws, storage rolls
   * back, so in-memory counters are dropped and re-read.
   */
  protected mutate<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.events.forget();
      throw err;
    }
  }

  /** RPC: the events not yet delivered, oldest first. */
  outbox(limit = 1000): StoredEvent[] {
    return this.events.read(limit) as StoredEvent[];
  }
}
