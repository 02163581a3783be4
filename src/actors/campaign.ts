import { Actor } from "../lib/actor";
import { fail, ok, type Result } from "../lib/errors";
import type { ShardMeta } from "./campaign-shard";
import { mix32, shardSeed, split, Stock, sumCounts, type Counts } from "./packets";

export type CampaignSpec = {
  id: string;
  name: string;
  start_time: string;
  end_time: string;
  inventory: Counts;
  shards: number;
};

export type CampaignView = {
  id: string;
  name: string;
  start_time: string;
  end_time: string;
  shards: number;
  inventory: Record<string, { total: number; opened: number }>;
  opened: number;
  remaining: number;
};

type Meta = Omit<CampaignSpec, "inventory"> & { seed: number };
type Transfer = { seq: number; kind: "grant" | "pull"; shard: number; counts: string | null };

/**
 * The control object of a red-packet campaign. It owns the campaign's
 * definition and moves packets between shards; it is never on an open's path
 * unless a shard has run dry.
 *
 * Every move is a transfer row, written before any packet leaves or arrives and
 * named `t<seq>` on both sides:
 * - grant (control → shard): the packets leave the reserve in the same
 *   transaction that records the pending grant; the shard adds them once per
 *   transfer id; the grant is then marked done.
 * - pull (shard → control): the pending pull is recorded first; the shard
 *   releases packets once per transfer id and returns the same packets to any
 *   retry; the control adds them to the reserve once, marking the pull done.
 * A pending transfer found later (after an eviction or a failed call) is
 * finished before anything else, so no packet is lost or counted twice.
 */
export class Campaign extends Actor<"campaign"> {
  protected readonly kind = "campaign";
  static migrations = [
    {
      id: "campaign-1",
      sql: `
        CREATE TABLE campaign (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          campaign_id TEXT NOT NULL,
          name TEXT NOT NULL,
          start_time TEXT NOT NULL,
          end_time TEXT NOT NULL,
          shards INTEGER NOT NULL,
          seed INTEGER NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE inventory (amount INTEGER PRIMARY KEY, total INTEGER NOT NULL);
        CREATE TABLE reserve (amount INTEGER PRIMARY KEY, count INTEGER NOT NULL);
        CREATE TABLE transfers (
          seq INTEGER PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('grant', 'pull')),
          shard INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
          counts TEXT
        );
        CREATE INDEX transfers_pending ON transfers (seq) WHERE state = 'pending';
      `,
    },
  ];

  private cached: Meta | null | undefined;
  // Refills, reads and creation run one at a time, so a pull round sees no grant
  // in flight. Only an optimisation of the order: correctness rests on the rows.
  private queue: Promise<unknown> = Promise.resolve();

  /** A failed mutation (creation) may have run ahead of storage: re-read. */
  protected override rollback(): void {
    this.cached = undefined;
  }

  private meta(): Meta | null {
    if (this.cached === undefined) {
      this.cached =
        this.sql
          .exec<Meta & { campaign_id: string }>(
            "SELECT campaign_id AS id, name, start_time, end_time, shards, seed FROM campaign",
          )
          .toArray()[0] ?? null;
    }
    return this.cached;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private shard(meta: Meta, k: number) {
    return this.env.CAMPAIGN_SHARD.getByName(`${meta.id}/${k}`);
  }

  private shardMeta(meta: Meta, k: number): ShardMeta {
    return {
      campaign_id: meta.id,
      shard: k,
      shards: meta.shards,
      start_ms: Date.parse(meta.start_time),
      end_ms: Date.parse(meta.end_time),
      seed: shardSeed(meta.seed, k),
    };
  }

  /** RPC: creates the campaign and hands every shard its slice (and the window). */
  create(spec: CampaignSpec): Promise<Result<{ id: string; shards: number }>> {
    return this.serial(async () => {
      if (this.meta()) return fail("DUPLICATE_CAMPAIGN", `campaign ${spec.id} already exists`);
      const seed = mix32(crypto.getRandomValues(new Uint32Array(1))[0]!);
      const meta: Meta = { id: spec.id, name: spec.name, start_time: spec.start_time, end_time: spec.end_time, shards: spec.shards, seed };
      const slices = split(spec.inventory, spec.shards, seed);
      this.mutate((now) => {
        this.sql.exec(
          "INSERT INTO campaign (id, campaign_id, name, start_time, end_time, shards, seed, created_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
          meta.id,
          meta.name,
          meta.start_time,
          meta.end_time,
          meta.shards,
          seed,
          now,
        );
        for (const [amount, total] of Object.entries(spec.inventory)) {
          this.sql.exec("INSERT INTO inventory (amount, total) VALUES (?, ?)", Number(amount), total);
        }
        slices.forEach((slice, k) => this.recordGrant(k, slice));
        this.emit("campaign.created", {
          campaign_id: meta.id,
          name: meta.name,
          start_time: meta.start_time,
          end_time: meta.end_time,
          shards: meta.shards,
          packets: sumCounts(spec.inventory),
          seed,
          created_at: now,
        });
      });
      this.cached = meta;
      await this.recover(meta);
      return ok({ id: meta.id, shards: meta.shards });
    });
  }

  /** RPC: the shard count, for routing; null if there is no such campaign. */
  shards(): number | null {
    return this.meta()?.shards ?? null;
  }

  /**
   * RPC from a dry shard: moves packets to it and returns how many. First
   * finishes any pending transfer; if the reserve is empty, pulls
   * ⌈remaining / shards⌉ from every sibling (at most MAX_TRANSFER each), then
   * grants the whole reserve to the asking shard. 0 means the campaign is
   * empty: no transfer is in flight and every sibling had nothing left.
   */
  refill(shard: number): Promise<number> {
    return this.serial(async () => {
      const meta = this.meta();
      if (!meta || !Number.isInteger(shard) || shard < 0 || shard >= meta.shards) return 0;
      await this.recover(meta);
      if (this.reserve().total === 0) {
        const siblings = Array.from({ length: meta.shards }, (_, k) => k).filter((k) => k !== shard);
        const pulls = this.mutate(() => siblings.map((k) => this.recordPull(k)));
        await Promise.all(pulls.map((t) => this.finishPull(meta, t)));
      }
      const counts = this.reserve().toCounts();
      const packets = sumCounts(counts);
      if (packets === 0) return 0;
      const grant = this.mutate(() => {
        this.sql.exec("DELETE FROM reserve");
        return this.recordGrant(shard, counts);
      });
      await this.finishGrant(meta, grant);
      return packets;
    });
  }

  /** RPC: the campaign with totals summed over its shards (and the reserve). */
  get(): Promise<Result<CampaignView>> {
    return this.serial(async () => {
      const meta = this.meta();
      if (!meta) return fail("NOT_FOUND", "campaign not found");
      await this.recover(meta);
      const inventory: CampaignView["inventory"] = {};
      const remaining = this.reserve();
      for (const r of this.sql.exec<{ amount: number; total: number }>("SELECT amount, total FROM inventory ORDER BY amount")) {
        inventory[r.amount] = { total: r.total, opened: 0 };
      }
      const stats = await Promise.all(Array.from({ length: meta.shards }, (_, k) => this.shard(meta, k).stats()));
      let opened = 0;
      for (const shardStats of stats) {
        for (const r of shardStats) {
          const line = (inventory[r.amount] ??= { total: 0, opened: 0 });
          line.opened += r.opened;
          opened += r.opened;
          remaining.add({ [r.amount]: r.remaining });
        }
      }
      const { id, name, start_time, end_time, shards } = meta;
      return ok({ id, name, start_time, end_time, shards, inventory, opened, remaining: remaining.total });
    });
  }

  private reserve(): Stock {
    const stock = new Stock();
    for (const r of this.sql.exec<{ amount: number; count: number }>("SELECT amount, count FROM reserve")) {
      stock.add({ [r.amount]: r.count });
    }
    return stock;
  }

  /** Inside a transaction: a pending grant of `counts` to shard `k`. */
  private recordGrant(k: number, counts: Counts): Transfer {
    const json = JSON.stringify(counts);
    const { seq } = this.sql
      .exec<{ seq: number }>("INSERT INTO transfers (kind, shard, state, counts) VALUES ('grant', ?, 'pending', ?) RETURNING seq", k, json)
      .one();
    return { seq, kind: "grant", shard: k, counts: json };
  }

  /** Inside a transaction: a pending pull from shard `k`. */
  private recordPull(k: number): Transfer {
    const { seq } = this.sql
      .exec<{ seq: number }>("INSERT INTO transfers (kind, shard, state) VALUES ('pull', ?, 'pending') RETURNING seq", k)
      .one();
    return { seq, kind: "pull", shard: k, counts: null };
  }

  private async finishGrant(meta: Meta, t: Transfer): Promise<void> {
    const counts = JSON.parse(t.counts!) as Counts;
    await this.shard(meta, t.shard).receive({ transfer_id: `t${t.seq}`, counts, meta: this.shardMeta(meta, t.shard) });
    this.mutate(() => this.sql.exec("UPDATE transfers SET state = 'done' WHERE seq = ?", t.seq));
  }

  private async finishPull(meta: Meta, t: Transfer): Promise<void> {
    const counts = await this.shard(meta, t.shard).release(`t${t.seq}`, meta.shards);
    this.mutate(() => {
      const { state } = this.sql.exec<{ state: string }>("SELECT state FROM transfers WHERE seq = ?", t.seq).one();
      if (state !== "pending") return;
      this.sql.exec("UPDATE transfers SET state = 'done', counts = ? WHERE seq = ?", JSON.stringify(counts), t.seq);
      for (const [amount, n] of Object.entries(counts)) {
        this.sql.exec(
          "INSERT INTO reserve (amount, count) VALUES (?, ?) ON CONFLICT (amount) DO UPDATE SET count = count + excluded.count",
          Number(amount),
          n,
        );
      }
    });
  }

  /** Finishes every pending transfer; each step is idempotent, so this is safe to repeat. */
  private async recover(meta: Meta): Promise<void> {
    const pending = this.sql
      .exec<Transfer>("SELECT seq, kind, shard, counts FROM transfers WHERE state = 'pending' ORDER BY seq")
      .toArray();
    await Promise.all(pending.map((t) => (t.kind === "grant" ? this.finishGrant(meta, t) : this.finishPull(meta, t))));
  }
}
