// One offer's budget and per-user award limits: reservations by award id, never
// over budget under concurrency, replays and evictions.
import { env, evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BudgetTerms, ReserveOutcome, ReserveRequest } from "../../src/actors/offer-budget";
import { unique } from "./helpers";

const budget = () => env.OFFER_BUDGET.getByName(unique("off"));
const terms = (budget_cents: number | null, version = 1, max_awards_per_user: number | null = null): BudgetTerms => ({
  version,
  budget_cents,
  max_awards_per_user,
});
const req = (award_id: string, amount_cents: number, user_id = "u"): ReserveRequest => ({ award_id, user_id, amount_cents });

describe("OfferBudget", () => {
  it("reserves until the budget is spent; an award it cannot cover in full is BUDGET_EXHAUSTED", async () => {
    const b = budget();
    const out = await b.reserve(terms(1000), [req("a", 600), req("b", 500), req("c", 400)]);
    expect(out.map((o) => o.status)).toEqual(["RESERVED", "BUDGET_EXHAUSTED", "RESERVED"]);
    expect(await b.usage()).toEqual({ version: 1, budget_cents: 1000, reserved_cents: 1000, awards: 2 });
  });

  it("a replay returns the first answer, even after the budget changed", async () => {
    const b = budget();
    const first = await b.reserve(terms(500), [req("x", 400), req("y", 400)]);
    await b.configure(terms(10_000, 2));
    expect(await b.reserve(terms(10_000, 2), [req("y", 400), req("x", 999)])).toEqual([first[1], first[0]]);
    expect((await b.usage()).reserved_cents).toBe(400);
  });

  it("the newest version's limits hold: a stale snapshot cannot restore a lowered budget", async () => {
    const b = budget();
    await b.configure(terms(100, 5));
    expect((await b.reserve(terms(1_000_000, 4), [req("stale", 500)]))[0]!.status).toBe("BUDGET_EXHAUSTED");
    expect((await b.reserve(terms(1_000, 6), [req("newer", 500)]))[0]!.status).toBe("RESERVED");
    expect((await b.usage()).version).toBe(6);
  });

  it("max_awards_per_user counts each user's awards", async () => {
    const b = budget();
    const out = await b.reserve(terms(null, 1, 2), [req("1", 1, "ann"), req("2", 1, "ann"), req("3", 1, "ann"), req("4", 1, "bob")]);
    expect(out.map((o) => o.status)).toEqual(["RESERVED", "RESERVED", "USER_LIMIT", "RESERVED"]);
  });

  it("never exceeds the budget under 200 concurrent reservations, with evictions among them", async () => {
    const b = budget();
    const budgetCents = 10_000;
    const amounts = Array.from({ length: 200 }, (_, i) => 50 + ((i * 37) % 200));
    const calls = amounts.map(async (amount, i) => {
      if (i % 50 === 25) await evictDurableObject(b);
      return (await b.reserve(terms(budgetCents), [req(`c${i}`, amount, `user${i % 7}`)]))[0]!;
    });
    const settled = await Promise.allSettled(calls);
    // An eviction may break calls in flight; what was decided is recorded, and a retry replays it.
    const outcomes: ReserveOutcome[] = [];
    for (const [i, s] of settled.entries()) {
      outcomes.push(s.status === "fulfilled" ? s.value : (await b.reserve(terms(budgetCents), [req(`c${i}`, amounts[i]!, `user${i % 7}`)]))[0]!);
    }
    const reserved = outcomes.filter((o) => o.status === "RESERVED").reduce((s, o) => s + (o as { amount_cents: number }).amount_cents, 0);
    expect(reserved).toBeLessThanOrEqual(budgetCents);
    // Nothing was refused that the budget still had room for at the end.
    const left = budgetCents - reserved;
    for (const [i, o] of outcomes.entries()) if (o.status === "BUDGET_EXHAUSTED") expect(amounts[i]!).toBeGreaterThan(left);
    await evictDurableObject(b);
    expect(await b.usage()).toMatchObject({ reserved_cents: reserved, awards: outcomes.filter((o) => o.status === "RESERVED").length });
  });

  it("property: equals a sequential model over random reservations, replays, limit changes and evictions", async () => {
    type Op =
      | { op: "reserve"; snapshot: number; batch: { award: number; user: number; amount: number }[] }
      | { op: "terms"; budget: number | null; perUser: number | null; version: number }
      | { op: "evict" };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          op: fc.constant("reserve" as const),
          // Which of the terms seen so far the caller's snapshot holds: often a stale one.
          snapshot: fc.nat(),
          batch: fc.array(fc.record({ award: fc.nat(15), user: fc.nat(3), amount: fc.integer({ min: 1, max: 400 }) }), { minLength: 1, maxLength: 5 }),
        }),
      },
      fc.record({
        op: fc.constant("terms" as const),
        budget: fc.option(fc.integer({ min: 1, max: 2000 })),
        perUser: fc.option(fc.integer({ min: 1, max: 4 })),
        version: fc.integer({ min: 1, max: 10 }),
      }),
      fc.constant({ op: "evict" as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const b = budget();
        // The model: newest terms, and each award's first answer.
        let t = terms(1000, 1, 2);
        const seen = [t];
        await b.configure(t);
        const adopt = (next: BudgetTerms) => {
          seen.push(next);
          if (next.version > t.version) t = next;
        };
        const decided = new Map<string, ReserveOutcome>();
        let reserved = 0;
        const perUser = new Map<string, number>();
        for (const o of ops) {
          if (o.op === "evict") {
            await b.usage(); // only a running object can be evicted
            await evictDurableObject(b);
          }
          else if (o.op === "terms") {
            const next = terms(o.budget, o.version, o.perUser);
            await b.configure(next);
            adopt(next);
          } else {
            const batch = o.batch.map((r) => req(`a${r.award}`, r.amount, `u${r.user}`));
            const snapshot = seen[o.snapshot % seen.length]!;
            const got = await b.reserve(snapshot, batch);
            adopt(snapshot);
            const want = batch.map((r): ReserveOutcome => {
              const prior = decided.get(r.award_id);
              if (prior) return prior;
              let answer: ReserveOutcome;
              if (t.budget_cents !== null && reserved + r.amount_cents > t.budget_cents) answer = { status: "BUDGET_EXHAUSTED", award_id: r.award_id };
              else if (t.max_awards_per_user !== null && (perUser.get(r.user_id) ?? 0) >= t.max_awards_per_user) answer = { status: "USER_LIMIT", award_id: r.award_id };
              else {
                answer = { status: "RESERVED", award_id: r.award_id, amount_cents: r.amount_cents };
                reserved += r.amount_cents;
                perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + 1);
              }
              decided.set(r.award_id, answer);
              return answer;
            });
            expect(got).toEqual(want);
          }
        }
        expect(await b.usage()).toEqual({ version: t.version, budget_cents: t.budget_cents, reserved_cents: reserved, awards: [...perUser.values()].reduce((a, n) => a + n, 0) });
      }),
      { numRuns: 40 },
    );
  });
});
