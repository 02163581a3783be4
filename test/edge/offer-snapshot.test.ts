// The per-isolate snapshot of active offers: refreshed at most once per second,
// cheap when unchanged, shared by concurrent readers, stale-tolerant for a while.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CATALOGUE } from "../../src/actors/offers";
import { SnapshotCache, type SnapshotLoader } from "../../src/lib/offer-snapshot";
import { call, post } from "./helpers";

const catalogue = () => env.OFFERS.getByName(CATALOGUE);
const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};
/** The real catalogue's snapshot, counting calls and whether each was a full read. */
const counting = () => {
  const calls: ("full" | "check")[] = [];
  const load: SnapshotLoader = async (since) => {
    const answer = await catalogue().snapshot(since);
    calls.push("offers" in answer ? "full" : "check");
    return answer;
  };
  return { load, calls };
};
const newOffer = async () =>
  (await post("/api/offers", { name: "snap", min_stake_cents: 1, bonus_pct: 0.1 })).body.id as string;

describe("SnapshotCache", () => {
  it("asks the catalogue at most once per second, and only for the version while nothing changed", async () => {
    const c = clock();
    const { load, calls } = counting();
    const cache = new SnapshotCache(load, { now: c.now });
    const first = await cache.get();
    for (let i = 0; i < 50; i++) {
      c.advance(19); // 950 ms in all
      expect(await cache.get()).toBe(first);
    }
    expect(calls).toEqual(["full"]);
    c.advance(50);
    expect((await cache.get()).version).toBe(first.version);
    expect(calls).toEqual(["full", "check"]);
  });

  it("a change is seen by the first read a second after it (within 2 s of the change everywhere)", async () => {
    const c = clock();
    const cache = new SnapshotCache(counting().load, { now: c.now });
    await cache.get();
    const id = await newOffer();
    c.advance(999);
    expect((await cache.get()).offers.some((o) => o.id === id)).toBe(false);
    c.advance(1);
    const fresh = await cache.get();
    expect(fresh.offers.some((o) => o.id === id)).toBe(true);
    // Deactivating drops it from the active snapshot.
    await call("DELETE", `/api/offers/${id}`);
    c.advance(1000);
    const after = await cache.get();
    expect(after.version).toBeGreaterThan(fresh.version);
    expect(after.offers.some((o) => o.id === id)).toBe(false);
  });

  it("concurrent readers share one refresh", async () => {
    const c = clock();
    const { load, calls } = counting();
    const cache = new SnapshotCache(load, { now: c.now });
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
    expect(new Set(all).size).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it("serves the last snapshot while the catalogue is unreachable, up to maxStaleMs, then fails", async () => {
    const c = clock();
    let down = false;
    const inner = counting().load;
    const cache = new SnapshotCache(async (since) => {
      if (down) throw new Error("catalogue unreachable");
      return inner(since);
    }, { now: c.now, maxStaleMs: 5000 });
    const first = await cache.get();
    down = true;
    c.advance(4000);
    expect(await cache.get()).toBe(first);
    c.advance(1001);
    await expect(cache.get()).rejects.toThrow("catalogue unreachable");
    down = false;
    expect((await cache.get()).version).toBeGreaterThanOrEqual(first.version);
  });

  it("the catalogue's version moves on every change, and only on changes", async () => {
    const v0 = (await catalogue().snapshot()).version;
    const id = await newOffer();
    const v1 = (await catalogue().snapshot()).version;
    expect(v1).toBeGreaterThan(v0);
    await call("PUT", `/api/offers/${id}`, { bonus_pct: 0.1 }); // no change
    expect(await catalogue().snapshot(v1)).toEqual({ version: v1, unchanged: true });
  });
});
