// The simulator's stake-gate and award oracle against the engine's documented
// rules (issue 9, docs/offers.md), on examples worked out by hand.
import { describe, expect, it } from "vitest";
import { type ActualAward, candidates, e4, expected, type GateBet, judge, type OfferTerms } from "../../workers/simulator/oracle/gate.ts";

const c = { windowMs: 120_000, latenessMs: 10_000, minWindowStakeCents: 5000 };
const bet = (key: string, stake: number, ts: number, more: Partial<GateBet> = {}): GateBet => ({
  user: "ada",
  key,
  stake_cents: stake,
  market: "1X2",
  odds_e4: 25_000,
  ts,
  arrived: ts,
  ...more,
});
const offer = (id: string, seq: number, more: Partial<OfferTerms> = {}): OfferTerms => ({
  id,
  seq,
  active: true,
  min_stake_cents: 0,
  bonus_e4: 1000,
  max_bonus_cents: null,
  markets: null,
  min_odds_e4: null,
  starts_at: null,
  ends_at: null,
  budget_cents: null,
  max_awards_per_user: null,
  ...more,
});

describe("windows", () => {
  it("are [k·W, (k+1)·W) of the bet's own time, per user", () => {
    // 3000 at 0 s and 2000 at 119.999 s share [0, 120 s): 5000 qualifies; 4000 at 120 s opens the next window.
    const exp = expected([bet("a", 3000, 0), bet("b", 2000, 119_999), bet("c", 4000, 120_000)], [], c);
    expect(exp.windows.map((w) => [w.start, w.sum_cents, w.state])).toEqual([
      [0, 5000, "qualified"],
      [120_000, 4000, "not_qualified"],
    ]);
    expect(exp.qualified.map((q) => q.bet.key)).toEqual(["a", "b"]);
  });

  it("qualify at the threshold, not below it", () => {
    expect(expected([bet("a", 4999, 1000)], [], c).windows[0]!.state).toBe("not_qualified");
    expect(expected([bet("a", 5000, 1000)], [], c).windows[0]!.state).toBe("qualified");
  });

  it("are per user: two users' stakes never add up", () => {
    const exp = expected([bet("a", 3000, 0), bet("b", 3000, 10, { user: "bob" })], [], c);
    expect(exp.windows.map((w) => w.state)).toEqual(["not_qualified", "not_qualified"]);
  });

  it("take a bet that arrives before the close (end + lateness) and list a later one as late, unsummed", () => {
    // [0, 120 s) closes at 130 s. Arriving at 129.999 s is on time; at 130 s it is late.
    const onTime = expected([bet("a", 3000, 5000), bet("b", 2000, 100_000, { arrived: 129_999 })], [], c);
    expect(onTime.windows[0]).toMatchObject({ sum_cents: 5000, state: "qualified", late: [] });
    const late = expected([bet("a", 3000, 5000), bet("b", 2000, 100_000, { arrived: 130_000 })], [], c);
    expect(late.windows[0]).toMatchObject({ sum_cents: 3000, state: "not_qualified", late: ["b"] });
    expect(late.qualified).toEqual([]);
  });

  it("window a late, out-of-order bet by its own time, not its arrival", () => {
    // Sent at 200 s with a timestamp of 10 s: its window [0, 120 s) closed at 130 s.
    const exp = expected([bet("x", 6000, 10_000, { arrived: 200_000 }), bet("y", 1000, 200_000)], [], c);
    expect(exp.windows.map((w) => [w.start, w.sum_cents, w.late])).toEqual([
      [0, 0, ["x"]],
      [120_000, 1000, []],
    ]);
  });

  it("count a bet once however often it arrives (the first arrival counts)", () => {
    const exp = expected([bet("a", 3000, 0), bet("a", 3000, 0, { arrived: 50 }), bet("b", 1000, 10)], [], c);
    expect(exp.windows[0]).toMatchObject({ sum_cents: 4000, bets: ["a", "b"], state: "not_qualified" });
  });
});

describe("awards", () => {
  it("bonus = floor(stake × pct), capped; the larger bonus wins", () => {
    // 2500 × 10% = 250, capped at 200; 2500 × 9% = 225 → the 9% offer pays more.
    const cands = candidates([offer("ten", 1, { max_bonus_cents: 200 }), offer("nine", 2, { bonus_e4: 900 })], bet("a", 2500, 0));
    expect(cands).toEqual([
      { offer_id: "nine", bonus_cents: 225 },
      { offer_id: "ten", bonus_cents: 200 },
    ]);
    // floor: 999 × 3.33% = 33.2667 → 33.
    expect(candidates([offer("o", 1, { bonus_e4: 333 })], bet("a", 999, 0))).toEqual([{ offer_id: "o", bonus_cents: 33 }]);
  });

  it("a tie goes to the older offer", () => {
    expect(candidates([offer("newer", 7), offer("older", 3)], bet("a", 1000, 0)).map((x) => x.offer_id)).toEqual(["older", "newer"]);
  });

  it("matching: active, stake ≥ min, market, odds (unknown odds never meet a minimum), the bet's time in [starts, ends)", () => {
    const b = bet("a", 1000, 50_000);
    const one = (o: Partial<OfferTerms>, x: GateBet = b) => candidates([offer("o", 1, o)], x).length;
    expect(one({ active: false })).toBe(0);
    expect(one({ min_stake_cents: 1000 })).toBe(1);
    expect(one({ min_stake_cents: 1001 })).toBe(0);
    expect(one({ markets: ["OU2_5"] })).toBe(0);
    expect(one({ markets: ["OU2_5", "1X2"] })).toBe(1);
    expect(one({ min_odds_e4: 25_000 })).toBe(1);
    expect(one({ min_odds_e4: 25_001 })).toBe(0);
    expect(one({ min_odds_e4: 11_000 }, { ...b, odds_e4: null })).toBe(0);
    expect(one({ starts_at: 50_000 })).toBe(1);
    expect(one({ starts_at: 50_001 })).toBe(0);
    expect(one({ ends_at: 50_000 })).toBe(0);
    expect(one({ ends_at: 50_001 })).toBe(1);
    expect(one({ bonus_e4: 1 }, { ...b, stake_cents: 9999 })).toBe(0); // floor(0.9999) = 0: no award
    expect(e4("2.5")).toBe(25_000);
    expect(e4("1.0001")).toBe(10_001);
  });
});

describe("judging what rushgate awarded", () => {
  const offers = [offer("big", 1, { bonus_e4: 2000, budget_cents: 1000 }), offer("small", 2, { bonus_e4: 1000 })];
  // Three bets of 2500 in one window: each qualifies; big pays 500 (budget 1000: room for two), small 250.
  const exp = expected([bet("a", 2500, 0), bet("b", 2500, 1), bet("c", 2500, 2)], offers, c);
  const award = (b: string, offer_id: string, bonus: number): ActualAward => ({ award_id: `${b}:${offer_id}`, user: "ada", bet: b, offer_id, bonus_cents: bonus });

  it("accepts the right awards, whichever bets got the budget first", () => {
    for (const got of [
      [award("a", "big", 500), award("b", "big", 500), award("c", "small", 250)],
      [award("c", "big", 500), award("a", "big", 500), award("b", "small", 250)],
    ]) {
      expect(judge(exp, got, offers)).toMatchObject({ phantom: [], missing: [], wrong: [], budgets: [], matched: 3, expectedAwards: 3 });
    }
  });

  it("lists a phantom (an award made twice, or for a bet that never qualified)", () => {
    const v = judge(exp, [award("a", "big", 500), award("a", "small", 250), award("b", "big", 500), award("c", "small", 250), award("zz", "small", 1)], offers);
    expect(v.phantom).toHaveLength(2);
    expect(v.phantom.join()).toMatch(/second award a:small.*zz/);
  });

  it("lists a missing award, and a wrong bonus or offer", () => {
    const v = judge(exp, [award("a", "big", 500), award("b", "big", 499)], offers);
    expect(v.missing).toEqual(["ada bet c: no award, expected small 250"]);
    expect(v.wrong).toEqual(["ada bet b: bonus 499 from big, expected 500"]);
    // Passing over an offer that still had budget at the end is wrong.
    const skipped = judge(exp, [award("a", "big", 500), award("b", "small", 250), award("c", "small", 250)], offers);
    expect(skipped.wrong).toEqual(["ada bet b: award from small, but big (500) ranks higher and had room", "ada bet c: award from small, but big (500) ranks higher and had room"]);
  });

  it("flags a budget exceeded, and a user over the per-user limit", () => {
    expect(judge(exp, [award("a", "big", 500), award("b", "big", 500), award("c", "big", 500)], offers).budgets).toEqual([
      "big: spent 1500 of a budget of 1000",
    ]);
    const limited = [offer("one", 1, { max_awards_per_user: 1 })];
    const e = expected([bet("a", 2500, 0), bet("b", 2500, 1)], limited, c);
    expect(judge(e, [award("a", "one", 250)], limited)).toMatchObject({ budgets: [], missing: [], wrong: [] });
    expect(judge(e, [award("a", "one", 250), award("b", "one", 250)], limited).budgets).toEqual(["one: 2 awards to ada (limit 1)"]);
  });
});
