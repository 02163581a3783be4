/**
 * The one retry helper (DESIGN.md, "Errors"): jittered exponential backoff,
 * never retrying an error marked `.overloaded`, and retrying one marked
 * `.retryable` only when the caller says the operation is idempotent. Plain
 * TypeScript with no platform imports, so the Worker and the Node processes
 * share it.
 */

export type Backoff = {
  /** The first delay, before jitter. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** [0, 1): injectable so tests are deterministic. */
  random?: () => number;
};

/**
 * The delay before attempt `attempt + 1` (attempt ≥ 1): base × 2^(attempt−1),
 * capped, with "equal jitter" (half fixed, half random) so a crowd of retries
 * spreads out yet none comes back at once.
 */
export function backoff(attempt: number, { baseMs, maxMs, random = Math.random }: Backoff): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

type Marked = { overloaded?: unknown; retryable?: unknown };

/** Whether an error may be retried: never `.overloaded`; `.retryable` only for idempotent calls; otherwise as `retryOther` says. */
export function mayRetry(err: unknown, idempotent: boolean, retryOther = false): boolean {
  const e = (err ?? {}) as Marked;
  if (e.overloaded) return false;
  if (e.retryable) return idempotent;
  return retryOther && idempotent;
}

export type RetryOptions = Backoff & {
  /** Total attempts, the first included. */
  attempts: number;
  /** Only idempotent calls are retried at all. */
  idempotent: boolean;
  /** Retry errors that carry no mark (an unreachable peer, say); still only when idempotent. */
  retryUnmarked?: boolean;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
};

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, the error may not be retried, or the attempts run out. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? wait;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.attempts || options.signal?.aborted) throw err;
      if (!mayRetry(err, options.idempotent, options.retryUnmarked)) throw err;
      const delay = backoff(attempt, options);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
