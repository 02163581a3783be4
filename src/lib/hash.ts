const utf8 = new TextEncoder();

/**
 * FNV-1a, 32 bit, over the UTF-8 bytes of a key: a stable, fast hash for routing
 * keys to shards (not for security). Stable across deploys and runtimes.
 */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(key)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

/** The shard, of `shards`, that a key routes to. */
export const shardOf = (key: string, shards: number): number => stableHash(key) % shards;
