/**
 * The read path of the offers: a versioned snapshot of the active offers,
 * cached per isolate (module scope) and shared by every wallet object the
 * isolate runs.
 *
 * Why: the catalogue is one object. If every bet or every window close asked
 * it, it would be the hottest object in the system at scale. Instead each
 * isolate asks at most once per `maxAgeMs` (1 s), and then only "has version N
 * changed?", which the catalogue answers with a number when it has not. A
 * change therefore reaches every window that closes more than ~1 s after it
 * (well inside the 2 s target), and the catalogue's load grows with the number
 * of isolates, not of users, bets or windows.
 *
 * lib/ never imports actors/: the loader (a call on the catalogue's stub) is
 * passed in.
 */
import type { StoredOffer } from "./offers";

export type OfferSnapshot = { version: number; offers: StoredOffer[] } | { version: number; unchanged: true };
export type FullSnapshot = { version: number; offers: StoredOffer[] };

/** Asks the catalogue for the snapshot, or just its version when it is still `since`. */
export type SnapshotLoader = (since?: number) => Promise<OfferSnapshot>;

export type SnapshotCacheOptions = {
  /** How old a snapshot may be before the next read refreshes it. */
  maxAgeMs?: number;
  /** If the catalogue cannot be reached, a snapshot this old is still served (stale), then reads fail. */
  maxStaleMs?: number;
  now?: () => number;
};

export class SnapshotCache {
  private current: FullSnapshot | undefined;
  private fetchedAt = -Infinity;
  private inflight: Promise<FullSnapshot> | undefined;
  private readonly maxAgeMs: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;
  /** Calls made to the catalogue (for tests and metrics). */
  loads = 0;

  constructor(
    private readonly load: SnapshotLoader,
    options: SnapshotCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.maxStaleMs = options.maxStaleMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The active offers as of at most `maxAgeMs` ago. Concurrent readers share one refresh. */
  async get(): Promise<FullSnapshot> {
    if (this.current && this.now() - this.fetchedAt < this.maxAgeMs) return this.current;
    this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async refresh(): Promise<FullSnapshot> {
    const asked = this.now();
    try {
      this.loads++;
      const answer = await this.load(this.current?.version);
      if ("offers" in answer) this.current = { version: answer.version, offers: answer.offers };
      else if (!this.current || answer.version !== this.current.version) {
        // "Unchanged" against a version we do not hold cannot happen; ask in full.
        const full = await this.load();
        if (!("offers" in full)) throw new Error("the catalogue answered unchanged to a full read");
        this.current = { version: full.version, offers: full.offers };
      }
      // Fresh from when we asked, not when the answer came: never older than claimed.
      this.fetchedAt = asked;
      return this.current;
    } catch (err) {
      if (this.current && asked - this.fetchedAt < this.maxStaleMs) {
        console.error(JSON.stringify({ msg: "offer snapshot refresh failed; serving stale", error: String(err), version: this.current.version }));
        return this.current;
      }
      throw err;
    }
  }
}
