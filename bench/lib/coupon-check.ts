// Reads a rushgate coupon back after a load and checks its invariants.
import type { LoadResult } from "./load.ts";
import { total } from "./rounds.ts";

type Snapshot = { amount: number; remaining_amount: number; claimed_by: string[]; next_cursor?: string };

/** Every claimant, page by page (each page one consistent snapshot). */
export async function readCoupon(base: URL, name: string, headers: Record<string, string> = {}) {
  let listed = 0;
  const users = new Set<string>();
  let cursor = "";
  let snapshot: Snapshot;
  do {
    const res = await fetch(new URL(`/api/coupons/${name}?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, base), { headers });
    if (res.status !== 200) throw new Error(`read ${name}: ${res.status} ${await res.text()}`);
    snapshot = (await res.json()) as Snapshot;
    listed += snapshot.claimed_by.length;
    for (const u of snapshot.claimed_by) users.add(u);
    cursor = snapshot.next_cursor ?? "";
  } while (cursor);
  return { amount: snapshot.amount, sold: snapshot.amount - snapshot.remaining_amount, listed, distinct: users.size, users };
}

/**
 * amount − remaining = claims listed = distinct claimants, and = the 200s the
 * clients read, give or take the requests in flight when each run stopped
 * (they land, but wrk stops reading): at most one per connection per run.
 */
export function claimInvariant(label: string, sold: number, listed: number, distinct: number, runs: LoadResult[], connections: number) {
  const seen = total(runs, "200");
  const other = runs.reduce((n, r) => n + r.total - (r.status["200"] ?? 0), 0);
  const slack = connections * runs.length;
  const ok = sold === listed && listed === distinct && seen.read <= sold && sold <= seen.read + slack && seen.errors === 0 && other === 0;
  return {
    ok,
    line: `${label}: amount − remaining ${sold} = claims listed ${listed} = distinct users ${distinct}; 200s read ${seen.read} (≤ ${slack} in flight at the deadlines), other statuses ${other}, socket errors ${seen.errors} → ${ok ? "OK" : "VIOLATED"}`,
  };
}
