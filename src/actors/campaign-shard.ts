import { Actor } from "../lib/actor";
import { fail, ok, type Result } from "../lib/errors";
import { MAX_TRANSFER, Stock, sumCounts, uniform, type Counts } from "./packets";

/** What a shard knows about its campaign; delivered with every grant. */
export type ShardMeta = {
  campaign_id: string;
  shard: number;
  shards: number;
  start_ms: number;
  end_ms: number;
  /** The recorded seed of this shard's draw stream. */
  seed: number;
};

/** Packets moving from the Campaign object into a shard, named by a transfer id. */
export type Grant = { transfer_id: string; counts: Counts; meta: ShardMeta };

export type OpenOutcome =
  | { status: "OK"; amount: number }
  | { status: "ALREADY_OPENED"; amount: number }
  | { status: "SOLD_OUT" }
  | { status: "NOT_FOUND" }
  | { status: "NOT_STARTED" }
  | { status: "ENDED" };

export type Opening = { campaign_id: string; user_id: string; amount: number; shard: number; opened_at: string };

export type ShardStats = { amount: number; remaining: number; opened: number }[];

type State = { meta: ShardMeta; stock: Stock; opened: number; releasedDraws: number };

/**
 * One shard of a red-packet campaign. It owns its users (by hash of user_id), so
 * "one packet per user" is decided here alone, and a slice of the inventory as
 * counts per amount. An open draws the next packet of the shard's seeded shuffle
 * (draw number = opens + packets released so far), so only counts and the seed
 * are stored and nothing is random at claim time. When the slice runs dry the
 * shard asks the Campaign object for a refill.
 */
export class CampaignShard extends Actor<"campaign"> {
  protected readonly kind = "campaign";
  static migrations = [
    {
      id: "campaign-shard-1",
      sql: `
        CREATE TABLE meta (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          campaign_id TEXT NOT NULL,
          shard INTEGER NOT NULL,
          shards INTEGER NOT NULL,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER NOT NULL,
          seed INTEGER NOT NULL,
          released_draws INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE stock (amount INTEGER PRIMARY KEY, remaining INTEGER NOT NULL, opened INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE openings (user_id TEXT PRIMARY KEY, amount INTEGER NOT NULL, opened_at TEXT NOT NULL);
        CREATE TABLE transfers (id TEXT PRIMARY KEY, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')), counts TEXT NOT NULL, at TEXT NOT NULL);
      `,
    },
  ];

  // Loaded once, then kept in step with storage after each committed change.
  private cached: State | null | undefined;
  // One refill request at a time; concurrent opens on a dry shard share it.
  private refilling: Promise<number> | null = null;
  // Set once the Campaign object found the whole campaign empty (no stock ever comes back).
  private soldOut = false;

  private state(): State | null {
    if (this.cached === undefined) {
      const row = this.sql
        .exec<ShardMeta & { released_draws: number }>(
          "SELECT campaign_id, shard, shards, start_ms, end_ms, seed, released_draws FROM meta",
        )
        .toArray()[0];
      if (!row) return (this.cached = null);
      const { released_draws, ...meta } = row;
      const stock = new Stock();
      let opened = 0;
      for (const r of this.sql.exec<{ amount: number; remaining: number; opened: number }>("SELECT * FROM stock")) {
        stock.add({ [r.amount]: r.remaining });
        opened += r.opened;
      }
      this.cached = { meta, stock, opened, releasedDraws: released_draws };
    }
    return this.cached;
  }

  /** A failed mutation may have run ahead of storage: re-read. */
  protected override rollback(): void {
    this.cached = undefined;
  }

  private recorded(id: string): Counts | undefined {
    const row = this.sql.exec<{ counts: string }>("SELECT counts FROM transfers WHERE id = ?", id).toArray()[0];
    return row ? JSON.parse(row.counts) : undefined;
  }

  private addStock(counts: Counts, sign: 1 | -1): void {
    for (const [amount, n] of Object.entries(counts)) {
      this.sql.exec(
        "INSERT INTO stock (amount, remaining) VALUES (?, ?) ON CONFLICT (amount) DO UPDATE SET remaining = remaining + excluded.remaining",
        Number(amount),
        sign * n,
      );
    }
  }

  /**
   * RPC from the Campaign object: adds a grant's packets. Idempotent by transfer
   * id, so the Campaign object may re-deliver a grant it is unsure of.
   * Returns the number of packets added by this call.
   */
  receive(grant: Grant): number {
    if (this.recorded(grant.transfer_id)) return 0;
    const packets = sumCounts(grant.counts);
    const known = this.state();
    const meta = known?.meta ?? grant.meta;
    this.mutate((now) => {
      if (!known) {
        this.sql.exec(
          "INSERT INTO meta (id, campaign_id, shard, shards, start_ms, end_ms, seed) VALUES (1, ?, ?, ?, ?, ?, ?)",
          meta.campaign_id,
          meta.shard,
          meta.shards,
          meta.start_ms,
          meta.end_ms,
          meta.seed,
        );
      }
      this.addStock(grant.counts, 1);
      this.sql.exec(
        "INSERT INTO transfers (id, direction, counts, at) VALUES (?, 'in', ?, ?)",
        grant.transfer_id,
        JSON.stringify(grant.counts),
        now,
      );
      this.emit("campaign.stock_received", {
        campaign_id: meta.campaign_id,
        shard: meta.shard,
        transfer_id: grant.transfer_id,
        packets,
        received_at: now,
      });
    });
    if (known) known.stock.add(grant.counts);
    else this.cached = { meta, stock: new Stock(grant.counts), opened: 0, releasedDraws: 0 };
    if (packets > 0) this.soldOut = false;
    return packets;
  }

  /**
   * RPC from the Campaign object: gives up ⌈remaining / divisor⌉ packets (at most
   * MAX_TRANSFER), drawn from this shard's shuffle, so a dry sibling can be
   * refilled. Idempotent by transfer id: a repeated call returns the packets the
   * first call released and releases nothing more.
   */
  release(transferId: string, divisor: number): Counts {
    const done = this.recorded(transferId);
    if (done) return done;
    const s = this.state();
    const stock = new Stock(s?.stock.toCounts());
    const n = Math.min(MAX_TRANSFER, Math.ceil(stock.total / Math.max(1, divisor)));
    const counts = s ? stock.drawMany(s.meta.seed, s.opened + s.releasedDraws, n) : {};
    this.mutate((now) => {
      this.addStock(counts, -1);
      this.sql.exec("UPDATE meta SET released_draws = released_draws + ?", n);
      this.sql.exec(
        "INSERT INTO transfers (id, direction, counts, at) VALUES (?, 'out', ?, ?)",
        transferId,
        JSON.stringify(counts),
        now,
      );
      if (s && n > 0) {
        this.emit("campaign.stock_released", {
          campaign_id: s.meta.campaign_id,
          shard: s.meta.shard,
          transfer_id: transferId,
          packets: n,
          released_at: now,
        });
      }
    });
    if (s) {
      s.stock = stock;
      s.releasedDraws += n;
    }
    return counts;
  }

  private previous(userId: string): number | undefined {
    return this.sql.exec<{ amount: number }>("SELECT amount FROM openings WHERE user_id = ?", userId).toArray()[0]
      ?.amount;
  }

  /** RPC: one user opens one packet. The window is checked against this object's clock. */
  async open(userId: string): Promise<OpenOutcome> {
    for (;;) {
      const s = this.state();
      if (!s) return { status: "NOT_FOUND" };
      const now = this.clock();
      if (now < s.meta.start_ms) return { status: "NOT_STARTED" };
      if (s.stock.total > 0 && now < s.meta.end_ms) return this.take(s, userId);
      // Off the hot path: a user who already opened hears their amount, even after the end.
      const previous = this.previous(userId);
      if (previous !== undefined) return { status: "ALREADY_OPENED", amount: previous };
      if (now >= s.meta.end_ms) return { status: "ENDED" };
      if (this.soldOut) return { status: "SOLD_OUT" };
      this.refilling ??= this.askForRefill(s.meta).finally(() => (this.refilling = null));
      const granted = await this.refilling;
      if (granted === 0 && this.state()!.stock.total === 0) {
        this.soldOut = true;
        return { status: "SOLD_OUT" };
      }
    }
  }

  private askForRefill(meta: ShardMeta): Promise<number> {
    return this.env.CAMPAIGN.getByName(meta.campaign_id).refill(meta.shard);
  }

  private take(s: State, userId: string): OpenOutcome {
    const amount = s.stock.pick(uniform(s.meta.seed, s.opened + s.releasedDraws));
    // The primary key on user_id decides "one per user": a second open inserts nothing.
    const opened = this.mutate((ts) => {
      const insert = this.sql.exec(
        "INSERT INTO openings (user_id, amount, opened_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
        userId,
        amount,
        ts,
      );
      if (insert.rowsWritten === 0) return false;
      this.sql.exec("UPDATE stock SET remaining = remaining - 1, opened = opened + 1 WHERE amount = ?", amount);
      this.emit("campaign.packet_opened", {
        campaign_id: s.meta.campaign_id,
        user_id: userId,
        amount,
        shard: s.meta.shard,
        ts,
      });
      return true;
    });
    if (!opened) return { status: "ALREADY_OPENED", amount: this.previous(userId)! };
    s.stock.take(amount);
    s.opened += 1;
    return { status: "OK", amount };
  }

  /** RPC: one user's opening. */
  opening(userId: string): Result<Opening> {
    const s = this.state();
    const row = this.sql
      .exec<{ amount: number; opened_at: string }>("SELECT amount, opened_at FROM openings WHERE user_id = ?", userId)
      .toArray()[0];
    if (!s || !row) return fail("NOT_FOUND", "no opening for this user in this campaign");
    return ok({ campaign_id: s.meta.campaign_id, user_id: userId, amount: row.amount, shard: s.meta.shard, opened_at: row.opened_at });
  }

  /** RPC: remaining and opened per amount, read in one turn so they agree. */
  stats(): ShardStats {
    return this.sql
      .exec<{ amount: number; remaining: number; opened: number }>("SELECT amount, remaining, opened FROM stock ORDER BY amount")
      .toArray();
  }
}
