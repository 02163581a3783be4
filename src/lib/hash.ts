/** FNV-1a, 32 bit: a stable, fast hash for routing keys to shards (not for security). */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const shardOf = (key: string, shards: number): number => stableHash(key) % shards;
