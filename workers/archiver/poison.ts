/**
 * Poison or outage? When the archive refuses a write, the archiver must tell a
 * message that can never be stored (dead-letter it, move on) from a database
 * that cannot store anything right now (wait and retry, never dead-letter).
 */

/** Thrown by a projection that rejects an event's payload: the event is poison. */
export class RejectedEventError extends Error {
  readonly rejected = true;
}

/** The chain of causes (drizzle wraps the driver's error in `cause`). */
function* causes(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/**
 * Why `err` means the one event can never be stored, or undefined when the
 * failure may pass (connection lost, server restarting, lock timeouts, schema
 * missing): then the write is retried, however long it takes.
 *
 * Poison is deterministic: PostgreSQL's data exceptions (class 22: a NUL in
 * text or JSON, a number out of range, a bad date) and integrity violations
 * (class 23), a projection's RejectedEventError, and the TypeError/RangeError
 * our own row-building throws on a value it cannot convert.
 */
export function poisonReason(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code)) return `postgres ${code}: ${(e as Error).message}`;
    if ((e as { rejected?: unknown }).rejected === true) return `rejected: ${(e as Error).message}`;
    if (e instanceof TypeError || e instanceof RangeError) return `${e.name}: ${e.message}`;
  }
  return undefined;
}
