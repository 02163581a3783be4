// The offers engine against its oracle: random bet streams over a few users
// (duplicates, replays, out-of-order, late and future bets), rule changes
// mid-stream, budgets running out, and evictions between steps.
import { env, evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CATALOGUE } from "../../src/actors/offers";
import { gateConfig } from "../../src/lib/stake-gate";
import { advance, ingest, placed, setClock, T0, walletOf } from "./gate-helpers";
import { call, deposit, get, post, send, unique, walletEvents } from "./helpers";
import { oracle, type Step } from "./offers-oracle";

const config = gateConfig({});
const USERS = 3;

type Op =
  | { op: "kafka"; user: number; stake: number; offset: number; odds: number | null; other: boolean }
  | { op: "api"; user: number; stake: number }
  | { op: "replay"; pick: number }
  | { op: "reproduce"; pick: number }
  | { op: "create"; pct: number; budget: number | null; perUser: number | null; cap: number | null; minOdds: number | null; minStake: number }
  | { op: "update"; pick: number; change: "pct" | "off" | "budget"; value: number }
  | { op: "advance"; ms: number; alarms: boolean }
  | { op: "evict"; user: number };

const createArb = fc.record({
  op: fc.constant("create" as const),
  pct: fc.constantFrom(0.05, 0.1, 0.2),
  budget: fc.constantFrom(null, 300, 1000),
  perUser: fc.constantFrom(null, 1, 2),
  cap: fc.constantFrom(null, 250),
  minOdds: fc.constantFrom(null, 1.5),
  minStake: fc.constantFrom(0, 1500),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("kafka" as const),
      user: fc.nat(USERS - 1),
      stake: fc.integer({ min: 500, max: 6000 }),
      // Mostly near the clock; sometimes well before it (late), or past the allowed skew (rejected).
      offset: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: -20_000, max: 5_000 }) },
        fc.integer({ min: -150_000, max: -100_000 }),
        fc.integer({ min: 25_000, max: 40_000 }),
      ),
      odds: fc.constantFrom(null, 1.2, 2),
      other: fc.constantFrom(false, false, false, false, true),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("api" as const), user: fc.nat(USERS - 1), stake: fc.integer({ min: 500, max: 6000 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("replay" as const), pick: fc.nat() }) },
  // The same bet produced again: same eventId, a new Kafka position.
  { weight: 2, arbitrary: fc.record({ op: fc.constant("reproduce" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: createArb },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("update" as const), pick: fc.nat(), change: fc.constantFrom("pct" as const, "off" as const, "budget" as const), value: fc.nat(2) }),
  },
  {
    weight: 4,
    // Sometimes time moves on and the alarms have not run yet.
    arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(5_000, 40_000, 130_000), alarms: fc.constantFrom(true, true, false) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("evict" as const), user: fc.nat(USERS - 1) }) },
);


describe("property: the engine equals its oracle", () => {
  it("awards, credits, budgets, windows and events, over random streams", async () => {
    await fc.assert(
      // Every stream starts with an offer, so most runs have something to award.
      fc.asyncProperty(createArb, fc.array(opArb, { minLength: 10, maxLength: 40 }), async (first, rest) => {
        const ops: Op[] = [first, ...rest];
        const run = unique("p");
        const market = `m_${run}`;
        const users = Array.from({ length: USERS }, (_, i) => `${run}_u${i}`);
        for (const u of users) expect((await deposit(u, 1_000_000)).status).toBe(201);
        const steps: Step[] = [];
        const sent: ReturnType<typeof placed>[] = [];
        const offers: string[] = [];
        let T = T0;
        let n = 0;
        const snapshot = async () => {
          const s = await env.OFFERS.getByName(CATALOGUE).snapshot();
          if (!("offers" in s)) throw new Error("full snapshot expected");
          steps.push({ kind: "offers", at: T, active: s.offers });
        };
        await snapshot();

        for (const o of ops) {
          if (o.op === "kafka" || o.op === "replay" || o.op === "reproduce") {
            const old = o.op === "kafka" ? undefined : sent[o.pick % Math.max(1, sent.length)];
            const m =
              o.op === "replay"
                ? old
                : o.op === "reproduce"
                  ? old && { ...old, id: `${old.id}/again:${n++}` }
                  : placed(users[o.user]!, `${run}:${n++}`, o.stake, T + o.offset, { market: o.other ? "other" : market, odds: o.odds ?? undefined });
            if (!m) continue;
            if (o.op === "kafka") sent.push(m);
            await setClock(m.value.userId, T);
            await ingest([m]);
            const odds = m.value.odds === undefined ? null : Math.round((m.value.odds as number) * 10_000);
            steps.push({ kind: "bet", at: T, bet: { user: m.value.userId, key: `events.bet_placed:${m.value.eventId}`, stake: m.value.stake, market: m.value.market, odds_e4: odds, ts: m.value.ts } });
          } else if (o.op === "api") {
            const user = users[o.user]!;
            await setClock(user, T);
            const res = await send("/api/bets", { user_id: user, event_id: "e", market, selection: "s", stake_cents: o.stake, odd_value: 2 });
            expect(res.status).toBe(201);
            steps.push({ kind: "bet", at: T, bet: { user, key: res.body.bet_id, stake: o.stake, market, odds_e4: 20_000, ts: T } });
          } else if (o.op === "create") {
            const res = await post("/api/offers", {
              name: "p",
              markets: [market],
              bonus_pct: o.pct,
              budget_cents: o.budget,
              max_awards_per_user: o.perUser,
              max_bonus_cents: o.cap,
              min_odds: o.minOdds,
              min_stake_cents: o.minStake,
            });
            expect(res.status).toBe(201);
            offers.push(res.body.id);
            await snapshot();
          } else if (o.op === "update") {
            const id = offers[o.pick % Math.max(1, offers.length)];
            if (!id) continue;
            const body =
              o.change === "pct" ? { bonus_pct: [0.05, 0.15, 0.3][o.value] } : o.change === "off" ? { active: o.value === 0 } : { budget_cents: [200, 2000, null][o.value] };
            expect((await call("PUT", `/api/offers/${id}`, body)).status).toBe(200);
            await snapshot();
          } else if (o.op === "advance") {
            T += o.ms;
            if (!o.alarms) continue;
            for (const u of [...users].sort()) await advance(u, T);
            steps.push({ kind: "advance", to: T });
          } else {
            await setClock(users[o.user]!, T); // only a running object can be evicted
            await evictDurableObject(walletOf(users[o.user]!));
          }
        }
        T += 10 * 60_000;
        for (const u of [...users].sort()) await advance(u, T);
        steps.push({ kind: "advance", to: T });

        const want = await oracle(steps, config);
        for (const u of users) {
          const mine = want.awards.filter((a) => a.user === u);
          const got = (await get(`/api/awards?user_id=${u}&limit=1000`)).body.awards;
          // Awards equal the oracle's exactly.
          expect(got.map((a: any) => [a.award_id, a.bet_key, a.offer_id, a.bonus_cents]).reverse()).toEqual(
            mine.map((a) => [a.award_id, a.bet_key, a.offer_id, a.bonus_cents]),
          );
          // The bonus credited in the wallet equals the awards.
          const wallet = (await get(`/api/wallets/${u}`)).body;
          expect(wallet.bonus.posted).toBe(mine.reduce((s, a) => s + a.bonus_cents, 0));
          // Each offer.awarded matches exactly one credit, and no credit is without one.
          const events = await walletEvents(u);
          const awarded = events.filter((e) => e.type === "offer.awarded").map((e) => `${e.data.award_id} ${e.data.bonus_cents}`);
          const credited = events.filter((e) => e.type === "wallet.bonus_credited").map((e) => `${e.data.award_id} ${e.data.amount_cents}`);
          expect(awarded.sort()).toEqual(credited.sort());
          expect(new Set(awarded).size).toBe(awarded.length);
          // Windows: sums, states and late bets.
          const windows = (await get(`/api/wallets/${u}/windows?limit=1000`)).body.windows;
          const expected = want.windows.filter((w) => w.user === u).sort((a, b) => b.start - a.start);
          expect(windows.map((w: any) => [w.start, w.sum_cents, w.state, w.late_bets.map((l: any) => l.bet_key)])).toEqual(
            expected.map((w) => [new Date(w.start).toISOString(), w.sum_cents, w.state, w.late]),
          );
        }
        // No budget is exceeded, and each offer's spend is the oracle's.
        for (const id of offers) {
          const offer = (await get(`/api/offers/${id}`)).body;
          expect(offer.usage.reserved_cents).toBe(want.reserved.get(id) ?? 0);
          const budgets = (await get(`/api/offers/${id}/versions`)).body.versions.map((v: any) => v.offer.budget_cents);
          if (budgets.every((b: number | null) => b !== null)) expect(offer.usage.reserved_cents).toBeLessThanOrEqual(Math.max(...budgets));
        }
      }),
      { numRuns: 40 },
    );
  }, 600_000);
});
