// The claimants of a sold-out coupon, as the Worker keeps them: the exact ids
// while they are few, a Bloom filter past that. The set is fixed once a coupon
// is sold out (claims only happen while stock remains), so a copy never goes stale.
import { stableHash } from "./hash";

/** Past this many claimants an isolate keeps a filter, not the ids (about 0.5 MB of ids). */
export const EXACT_CLAIMANTS_MAX = 10_000;
/** The filter's size cap: 1 MiB, ~1% false positives up to ~870,000 claimants. */
const MAX_FILTER_BITS = 8 * 1024 * 1024;
const BITS_PER_CLAIMANT = 10;
const HASHES = 7;

export type Claimants = { kind: "exact"; ids: string[] } | { kind: "filter"; bits: Uint8Array; hashes: number };

/** Builds what an isolate keeps for a sold-out coupon's claimants. */
export function claimantsOf(ids: Iterable<string>, count: number): Claimants {
  if (count <= EXACT_CLAIMANTS_MAX) return { kind: "exact", ids: [...ids] };
  const size = Math.min(MAX_FILTER_BITS, Math.max(64, count * BITS_PER_CLAIMANT));
  const bits = new Uint8Array(Math.ceil(size / 8));
  for (const id of ids) for (const bit of positions(id, bits.length * 8, HASHES)) bits[bit >> 3]! |= 1 << (bit & 7);
  return { kind: "filter", bits, hashes: HASHES };
}

/** A lookup over claimants: `false` is certain; `true` is certain for exact sets, "maybe" for filters. */
export type ClaimantSet = { has(user: string): boolean; exact: boolean };

export function claimantSet(c: Claimants): ClaimantSet {
  if (c.kind === "exact") {
    const ids = new Set(c.ids);
    return { has: (u) => ids.has(u), exact: true };
  }
  const size = c.bits.length * 8;
  return {
    has: (u) => positions(u, size, c.hashes).every((bit) => (c.bits[bit >> 3]! & (1 << (bit & 7))) !== 0),
    exact: false,
  };
}

// Double hashing (Kirsch–Mitzenmacher): k positions from two FNV-1a hashes.
function positions(id: string, size: number, k: number): number[] {
  const h1 = stableHash(id);
  const h2 = stableHash(`\u0001${id}`) | 1;
  return Array.from({ length: k }, (_, i) => ((h1 + Math.imul(i, h2)) >>> 0) % size);
}
