/**
 * The packet arithmetic shared by Campaign and CampaignShard: a multiset of
 * amounts, the seeded draw without replacement, the user → shard hash and the
 * initial split. Pure functions, no storage.
 */

/** amount in minor units (as a decimal string key) → number of packets. */
export type Counts = Record<string, number>;

/** Largest campaign, in packets. */
export const MAX_PACKETS = 10_000_000;
/**
 * Shards per campaign. Creating a shard is an object's first transaction, so this
 * bounds what one create costs; 64 shards serve roughly 64,000 opens/s in production.
 */
export const MAX_SHARDS = 64;
/** Default shard count: one shard per this many packets (see README, "Sharding"). */
export const PACKETS_PER_SHARD = 50_000;
/** At most this many packets move in one transfer, so a transfer stays one small transaction. */
export const MAX_TRANSFER = 10_000;

export const defaultShards = (packets: number): number =>
  Math.min(MAX_SHARDS, Math.max(1, Math.ceil(packets / PACKETS_PER_SHARD)));

/** A 32-bit integer hash (a bijection on 32-bit values). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The n-th number of the stream seeded by `seed`, uniform in [0, 1) with 53
 * bits. Counter-based, so a draw depends only on (seed, n): nothing but the
 * counter has to be stored to replay the stream after an eviction.
 */
export function uniform(seed: number, n: number): number {
  const hi = mix32(seed ^ mix32(n));
  const lo = mix32(hi ^ 0x9e3779b9);
  return (hi * 2 ** 21 + (lo >>> 11)) / 2 ** 53;
}

/** The seed of shard `k`, derived from the campaign's recorded seed. */
export const shardSeed = (seed: number, k: number): number => mix32(seed ^ mix32(0x5bd1e995 + k));

/** A user's shard: FNV-1a of the UTF-8 user id (see lib/hash), stable across deploys. */
export { shardOf } from "../lib/hash";

/** A multiset of packet amounts. */
export class Stock {
  private readonly counts = new Map<number, number>();
  private amounts: number[] = [];
  total = 0;

  constructor(counts: Counts = {}) {
    this.add(counts);
  }

  add(counts: Counts): void {
    for (const [key, n] of Object.entries(counts)) {
      if (n <= 0) continue;
      const amount = Number(key);
      if (!this.counts.has(amount)) this.amounts = [...this.amounts, amount].sort((a, b) => a - b);
      this.counts.set(amount, (this.counts.get(amount) ?? 0) + n);
      this.total += n;
    }
  }

  take(amount: number, n = 1): void {
    const have = this.counts.get(amount) ?? 0;
    if (have < n) throw new Error(`stock of ${amount} is ${have}, cannot take ${n}`);
    this.counts.set(amount, have - n);
    this.total -= n;
  }

  /**
   * The packet at position ⌊u × total⌋ of the stock laid out in ascending order.
   * Taking it and drawing again with a fresh u is one step of a Fisher–Yates
   * shuffle over the multiset: a uniform draw without replacement.
   */
  pick(u: number): number {
    let i = Math.floor(u * this.total);
    for (const amount of this.amounts) {
      const n = this.counts.get(amount)!;
      if (i < n) return amount;
      i -= n;
    }
    throw new Error("pick from an empty stock");
  }

  /** Draws `n` packets (seeded stream from counter `first`) and removes them. */
  drawMany(seed: number, first: number, n: number): Counts {
    const drawn = new Stock();
    for (let j = 0; j < n; j++) {
      const amount = this.pick(uniform(seed, first + j));
      this.take(amount);
      drawn.add({ [amount]: 1 });
    }
    return drawn.toCounts();
  }

  toCounts(): Counts {
    const out: Counts = {};
    for (const amount of this.amounts) {
      const n = this.counts.get(amount)!;
      if (n > 0) out[amount] = n;
    }
    return out;
  }
}

export const sumCounts = (counts: Counts): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Splits the inventory over the shards, stratified: every shard gets
 * ⌊count/shards⌋ of each amount, and the leftovers go round-robin from a seeded
 * starting shard, so slice sizes differ by at most one and each slice has the
 * inventory's mix of amounts.
 */
export function split(inventory: Counts, shards: number, seed: number): Counts[] {
  const slices: Counts[] = Array.from({ length: shards }, () => ({}));
  let next = Math.floor(uniform(seed, 0) * shards);
  for (const [amount, count] of Object.entries(new Stock(inventory).toCounts())) {
    const base = Math.floor(count / shards);
    const extra = count % shards;
    for (let k = 0; k < shards; k++) {
      const n = base + ((k - next + shards) % shards < extra ? 1 : 0);
      if (n > 0) slices[k]![amount] = n;
    }
    next = (next + extra) % shards;
  }
  return slices;
}
