// The simulator's stream: reproducible from its seed, open-model arrivals, Zipf
// users, sessions, the old simulator's mode, and the wallet oracle's arithmetic.
import { describe, expect, it } from "vitest";
import { expectedBalances, winnings } from "../../workers/simulator/oracle/wallets.ts";
import { plan } from "../../workers/simulator/plan.ts";
import { rng, zipf } from "../../workers/simulator/rng.ts";
import { legacy, scenario } from "../../workers/simulator/scenario.ts";
import { arrivals } from "../../workers/simulator/schedule.ts";

const full = scenario.parse({
  bets: { schedule: [{ kind: "constant", rate: 10, seconds: 10 }], kafka_share: 0.5 },
  faults: { duplicate_share: 0.2, late_share: 0.1, out_of_order_share: 0.2, retry_share: 0.2, void_share: 0.5, stale_odds_share: 0.1, double_claim_share: 0.1 },
});
const json = (p: ReturnType<typeof plan>) => JSON.stringify({ ...p, deposits: [...p.deposits] });

describe("the plan", () => {
  it("is the same for the same seed and differs for another", () => {
    expect(json(plan(full, "r"))).toBe(json(plan(full, "r")));
    expect(json(plan({ ...full, seed: 2 }, "r"))).not.toBe(json(plan(full, "r")));
  });

  it("reproduces the old load simulator: N bets over HTTP at a fixed interval", () => {
    const p = plan(legacy(1000, 10, 1), "r");
    expect(p.bets.map((b) => b.at)).toEqual(Array.from({ length: 1000 }, (_, i) => i * 10));
    expect(p.bets.every((b) => b.via === "http" && !b.settle && !b.retry_at)).toBe(true);
    expect(p.flash).toBeNull();
    expect(p.rain).toBeNull();
    expect(p.odds).toEqual([]);
  });

  it("groups bets in sessions of several bets by one user close together", () => {
    const p = plan(scenario.parse({ bets: { schedule: [{ kind: "burst", count: 1, seconds: 0 }], session_bets: { min: 5, max: 5 }, session_gap_ms: { min: 100, max: 300 } } }), "r");
    expect(p.bets).toHaveLength(5);
    expect(new Set(p.bets.map((b) => b.user)).size).toBe(1);
    for (let i = 1; i < 5; i++) expect(p.bets[i]!.at - p.bets[i - 1]!.at).toBeGreaterThanOrEqual(100);
    expect(p.bets[4]!.at).toBeLessThanOrEqual(1200);
  });

  it("plants each fault kind, with late and out-of-order timestamps clear of the window's close", () => {
    const p = plan(full, "r");
    const W = full.gate.window_s * 1000;
    const L = full.gate.lateness_s * 1000;
    const late = p.bets.filter((b) => b.fault === "late");
    const ooo = p.bets.filter((b) => b.fault === "out_of_order");
    expect(late.length).toBeGreaterThan(0);
    expect(ooo.length).toBeGreaterThan(0);
    for (const b of late) expect(b.ts_shift_ms!).toBeLessThanOrEqual(-(W + L + 5000));
    for (const b of ooo) expect(b.ts_shift_ms!).toBeGreaterThanOrEqual(-(L - 2000));
    expect(p.bets.some((b) => b.duplicate_at !== undefined)).toBe(true);
    expect(p.bets.some((b) => b.retry_at !== undefined)).toBe(true);
    expect(p.bets.some((b) => b.settle?.result === "VOID")).toBe(true);
    expect(p.odds.some((u) => u.stale)).toBe(true);
    const claimers = p.flash!.claims.map((x) => x.user);
    expect(new Set(claimers).size).toBeLessThan(claimers.length);
  });

  it("gives every (event, market) rising versions, apart from the planted stale ones", () => {
    const p = plan(full, "r");
    const top = new Map<string, number>();
    for (const u of [...p.initialOdds, ...p.odds]) {
      const k = `${u.event_id} ${u.market}`;
      if (u.stale) expect(u.version).toBeLessThan(top.get(k)!);
      else {
        expect(u.version).toBeGreaterThan(top.get(k) ?? 0);
        top.set(k, u.version);
      }
    }
  });
});

describe("arrivals and popularity", () => {
  it("constant and ramp schedules are Poisson at the asked rate; bursts and fixed are exact", () => {
    const r = rng(7);
    expect(arrivals([{ kind: "constant", rate: 100, seconds: 100 }], r).length).toBeGreaterThan(9500);
    expect(arrivals([{ kind: "constant", rate: 100, seconds: 100 }], r).length).toBeLessThan(10500);
    // A ramp from 0 to 200/s over 100 s averages 100/s, and more arrive in its second half.
    const ramp = arrivals([{ kind: "ramp", from: 0, to: 200, seconds: 100 }], r);
    expect(ramp.length).toBeGreaterThan(9500);
    expect(ramp.filter((t) => t >= 50_000).length).toBeGreaterThan(2.5 * ramp.filter((t) => t < 50_000).length);
    expect(arrivals([{ kind: "burst", count: 4, seconds: 2 }, { kind: "fixed", count: 2, interval_ms: 5 }], r)).toEqual([0, 500, 1000, 1500, 2000, 2005]);
  });

  it("Zipf: rank k is drawn ∝ 1/k^s", () => {
    const draw = zipf(100, 1);
    const r = rng(3);
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 100_000; i++) counts[draw(r)]++;
    // P(rank 1) = 1/H(100) ≈ 0.1928; rank 1 about twice rank 2.
    expect(counts[0] / 100_000).toBeCloseTo(0.1928, 1);
    expect(counts[0] / counts[1]).toBeGreaterThan(1.8);
    expect(counts[0] / counts[1]).toBeLessThan(2.2);
  });
});

describe("the wallet oracle", () => {
  it("holds open stakes, captures lost ones, pays floor(stake × odds) on a win, releases a void", () => {
    expect(winnings(333, "2.5")).toBe(832); // 832.5 rounded down
    expect(winnings(100, "1.0001")).toBe(100);
    const b = (result: "WON" | "LOST" | "VOID" | null) => ({ stake_cents: 1000, odds: "3.25", result });
    expect(expectedBalances({ deposit: 10_000, bets: [b(null), b("LOST"), b("WON"), b("VOID")], bonus: 42 })).toEqual({
      posted: 10_000 - 1000 + (3250 - 1000),
      held: 1000,
      bonus: 42,
    });
  });
});
