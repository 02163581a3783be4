import type { Json } from "../lib/envelope";
import type { Result } from "../lib/errors";
import type { EventData, EventTypeOf } from "../lib/events";

/**
 * What the wallet's parts (the stake gate, the awards) may use of the wallet
 * actor: its storage, its one transaction, its events and its schedule. They
 * are classes of their own so the wallet stays one noun per file.
 */
export interface WalletHost {
  readonly sql: SqlStorage;
  readonly env: Env;
  user(): string;
  mutate<T>(fn: (at: string) => T): T;
  emit<T extends EventTypeOf<"wallet">>(type: T, data: EventData<T>): void;
  schedule(at: number, kind: string, payload: Json, key?: string | null): void;
  clock(): number;
  /** Credits the bonus balance once per award id (nests in the caller's mutation). */
  creditBonus(awardId: string, amount: number, ref: string | null): Result<{ seq: number }>;
}
