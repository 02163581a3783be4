import { Actor } from "../lib/actor";
import { type Claimants, claimantsOf } from "../lib/claimants";
import { fail, ok, type Result } from "../lib/errors";

export type CouponView = { name: string; amount: number; remaining_amount: number };
export type CouponSnapshot = CouponView & { claimed_by: string[]; next_cursor?: string };

export type ClaimOutcome =
  | { status: "CLAIMED"; coupon_name: string; user_id: string; remaining_amount: number }
  | { status: "ALREADY_CLAIMED" }
  | { status: "SOLD_OUT" }
  | { status: "NOT_FOUND" };

export type CouponRequest =
  | { op: "create"; name: string; amount: number }
  | { op: "claim"; user_id: string };
export type RequestOutcome = Result<CouponView> | ClaimOutcome | { status: "ABANDONED" };

type State = { name: string; amount: number; claimed: number };

/**
 * One flash-sale coupon. Claims are serialized by the object, so stock needs no
 * lock. Remaining stock is not stored: it is amount − claims, and a claim's seq
 * is its rowid, so the two can never disagree.
 */
export class Coupon extends Actor<"coupon"> {
  protected readonly kind = "coupon";
  static migrations = [
    {
      id: "coupon-1",
      sql: `
        CREATE TABLE coupon (name TEXT PRIMARY KEY, amount INTEGER NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE claims (
          seq INTEGER PRIMARY KEY,
          user_id TEXT NOT NULL UNIQUE,
          claimed_at TEXT NOT NULL
        );
      `,
    },
    {
      // Outcomes of the Kafka request/reply protocol, by correlation id: a retried
      // request replays its first outcome, and an abandoned one can never apply.
      id: "coupon-2",
      sql: `CREATE TABLE requests (correlation_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, created_at TEXT NOT NULL);`,
    },
  ];

  // Loaded once, then kept in step with storage after each committed change.
  private cached: State | null | undefined;

  /** A failed mutation may have run ahead of storage (a claim inside `once`): re-read. */
  protected override rollback(): void {
    this.cached = undefined;
  }

  private state(): State | null {
    if (this.cached === undefined) {
      const row = this.sql.exec<{ name: string; amount: number }>("SELECT name, amount FROM coupon").toArray()[0];
      const { claimed } = this.sql.exec<{ claimed: number }>("SELECT count(*) AS claimed FROM claims").one();
      this.cached = row ? { ...row, claimed } : null;
    }
    return this.cached;
  }

  create(name: string, amount: number): Result<CouponView> {
    if (this.state()) return fail(409, "DUPLICATE_COUPON", `coupon ${name} already exists`);
    this.mutate((now) => {
      this.sql.exec("INSERT INTO coupon (name, amount, created_at) VALUES (?, ?, ?)", name, amount, now);
      this.emit("coupon.created", { name, amount, created_at: now });
    });
    this.cached = { name, amount, claimed: 0 };
    return ok({ name, amount, remaining_amount: amount });
  }

  /**
   * RPC: one claim. Concurrent claims share one storage commit (`batched`);
   * each still decides on the state its batch has reached, so two claims in a
   * batch get consecutive seqs. Answers that need no write (no such coupon,
   * sold out: both final at this instant) skip the batch.
   */
  claim(userId: string): ClaimOutcome | Promise<ClaimOutcome> {
    const coupon = this.state();
    if (!coupon) return { status: "NOT_FOUND" };
    if (coupon.claimed === coupon.amount) return this.claimNow(userId);
    return this.batched(() => this.claimNow(userId));
  }

  /** A claim decided and written now (inside a batch, or inside `once`'s transaction). */
  private claimNow(userId: string): ClaimOutcome {
    const coupon = this.state();
    if (!coupon) return { status: "NOT_FOUND" };
    if (coupon.claimed === coupon.amount) {
      const taken = this.sql.exec("SELECT 1 FROM claims WHERE user_id = ?", userId).toArray().length > 0;
      return { status: taken ? "ALREADY_CLAIMED" : "SOLD_OUT" };
    }
    const seq = coupon.claimed + 1;
    const remaining = coupon.amount - seq;
    // The unique user_id decides "one per user": a second claim inserts nothing.
    const claimed = this.mutate((now) => {
      const insert = this.sql.exec(
        "INSERT INTO claims (seq, user_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
        seq,
        userId,
        now,
      );
      if (insert.rowsWritten === 0) return false;
      this.emit("coupon.claimed", {
        coupon_name: coupon.name,
        user_id: userId,
        seq,
        remaining_amount: remaining,
        claimed_at: now,
      });
      return true;
    });
    if (!claimed) return { status: "ALREADY_CLAIMED" };
    coupon.claimed = seq;
    return { status: "CLAIMED", coupon_name: coupon.name, user_id: userId, remaining_amount: remaining };
  }

  /**
   * Runs a create or claim at most once per correlation id and returns its
   * outcome; a repeat returns the stored outcome. A request that was abandoned
   * (its requester told it failed) returns ABANDONED and is never applied.
   */
  once(correlationId: string, request: CouponRequest): RequestOutcome {
    const stored = this.storedOutcome(correlationId);
    if (stored) return stored;
    // One transaction around the effect and its record (transactionSync nests).
    return this.mutate(() => {
      const outcome: RequestOutcome =
        request.op === "create" ? this.create(request.name, request.amount) : this.claimNow(request.user_id);
      this.remember(correlationId, outcome);
      return outcome;
    });
  }

  /**
   * Settles a request the bridge gave up on: if it was applied, returns its
   * outcome (the requester should hear that instead); otherwise records that it
   * must never apply and returns ABANDONED.
   */
  abandon(correlationId: string): RequestOutcome {
    const stored = this.storedOutcome(correlationId);
    if (stored) return stored;
    const outcome: RequestOutcome = { status: "ABANDONED" };
    this.remember(correlationId, outcome);
    return outcome;
  }

  private storedOutcome(correlationId: string): RequestOutcome | undefined {
    const row = this.sql
      .exec<{ outcome: string }>("SELECT outcome FROM requests WHERE correlation_id = ?", correlationId)
      .toArray()[0];
    return row && JSON.parse(row.outcome);
  }

  private remember(correlationId: string, outcome: RequestOutcome): void {
    this.sql.exec(
      "INSERT INTO requests (correlation_id, outcome, created_at) VALUES (?, ?, ?)",
      correlationId,
      JSON.stringify(outcome),
      new Date().toISOString(),
    );
  }

  /**
   * One consistent snapshot: the counts and the page of claimants are read in the
   * same synchronous turn, so amount − remaining_amount always equals the number
   * of claims. `cursor` is the claim seq to continue after.
   */
  /**
   * RPC for the Worker's sold-out path: the claimants once the coupon is sold
   * out (null before, or if there is no such coupon). Built once per object:
   * after sellout the set cannot change.
   */
  soldOutClaimants(): Claimants | null {
    const coupon = this.state();
    if (!coupon || coupon.claimed < coupon.amount) return null;
    this.claimants ??= claimantsOf(
      (function* (rows) {
        for (const r of rows) yield r.user_id;
      })(this.sql.exec<{ user_id: string }>("SELECT user_id FROM claims")),
      coupon.claimed,
    );
    return this.claimants;
  }

  private claimants: Claimants | undefined;

  get(limit: number, cursor = 0): Result<CouponSnapshot> {
    const coupon = this.state();
    if (!coupon) return fail(404, "NOT_FOUND", "coupon not found");
    const rows = this.sql
      .exec<{ user_id: string; seq: number }>(
        "SELECT user_id, seq FROM claims WHERE seq > ? ORDER BY seq LIMIT ?",
        cursor,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const snapshot: CouponSnapshot = {
      name: coupon.name,
      amount: coupon.amount,
      remaining_amount: coupon.amount - coupon.claimed,
      claimed_by: page.map((r) => r.user_id),
    };
    if (rows.length > limit) snapshot.next_cursor = String(page[page.length - 1]!.seq);
    return ok(snapshot);
  }
}
