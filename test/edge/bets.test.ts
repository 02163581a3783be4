import { env, evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deposit, get, post, send, sendWith, unique, walletEvents, type Reply } from "./helpers";

const w = (user: string) => `/api/wallets/${encodeURIComponent(user)}`;
const cash = async (user: string) => (await get(w(user))).body.cash;
const betBody = (user_id: string, stake_cents: number, odd_value: number | string = 2) => ({
  user_id,
  event_id: "evt-1",
  market: "1X2",
  selection: "HOME",
  stake_cents,
  odd_value,
});
const placeBet = (user: string, stake: number, odds: number | string = 2) => send("/api/bets", betBody(user, stake, odds));
const settle = (betId: string, result: string) => send(`/api/bets/${betId}/settle`, { result });

describe("bet contract", () => {
  it("place: 201 ACCEPTED with the potential win; the stake is held", async () => {
    const user = unique("bettor");
    await deposit(user, 1000);
    const res = await placeBet(user, 250, 2.4);
    expect(res).toEqual({ status: 201, body: { bet_id: expect.any(String), status: "ACCEPTED", potential_win_cents: 600 } });
    expect(await cash(user)).toEqual({ posted: 1000, held: 250, available: 750 });
    expect(await get(`/api/bets/${res.body.bet_id}`)).toEqual({
      status: 200,
      body: {
        bet_id: res.body.bet_id,
        user_id: user,
        event_id: "evt-1",
        market: "1X2",
        selection: "HOME",
        stake_cents: 250,
        odd_value: 2.4,
        potential_win_cents: 600,
        status: "ACCEPTED",
        payout_cents: null,
        placed_at: expect.any(String),
        settled_at: null,
      },
    });
  });

  it("not enough funds: 409 INSUFFICIENT_FUNDS and no bet", async () => {
    const user = unique("poor");
    await deposit(user, 100);
    expect(await placeBet(user, 101)).toEqual({ status: 409, body: { error: "INSUFFICIENT_FUNDS", message: expect.any(String) } });
    expect(await cash(user)).toEqual({ posted: 100, held: 0, available: 100 });
    expect((await walletEvents(user)).map((e) => e.type)).toEqual(["wallet.deposited"]);
  });

  it("WON: captures the stake and credits stake × odds", async () => {
    const user = unique("winner");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 200, "3.5")).body;
    const res = await settle(bet_id, "WON");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ bet_id, status: "WON", payout_cents: 700, settled_at: expect.any(String) });
    expect(await cash(user)).toEqual({ posted: 1500, held: 0, available: 1500 });
    const ledger = (await get(`${w(user)}/ledger`)).body.entries;
    expect(ledger.map((e: { kind: string; amount_cents: number; ref: string }) => [e.kind, e.amount_cents, e.ref])).toEqual([
      ["WINNINGS", 700, bet_id],
      ["CAPTURE", -200, bet_id],
      ["DEPOSIT", 1000, null],
    ]);
  });

  it("LOST: captures the stake", async () => {
    const user = unique("loser");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 300)).body;
    expect((await settle(bet_id, "LOST")).body).toMatchObject({ status: "LOST", payout_cents: 0 });
    expect(await cash(user)).toEqual({ posted: 700, held: 0, available: 700 });
  });

  it("VOID: releases the stake", async () => {
    const user = unique("void");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 300)).body;
    expect((await settle(bet_id, "VOID")).body).toMatchObject({ status: "VOID", payout_cents: 0 });
    expect(await cash(user)).toEqual({ posted: 1000, held: 0, available: 1000 });
  });

  it("settling twice: 409 BET_ALREADY_SETTLED, whatever the result", async () => {
    const user = unique("twice");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 100)).body;
    expect((await settle(bet_id, "LOST")).status).toBe(200);
    for (const result of ["WON", "LOST", "VOID"]) {
      expect(await settle(bet_id, result)).toEqual({ status: 409, body: { error: "BET_ALREADY_SETTLED", message: expect.any(String) } });
    }
    expect(await cash(user)).toEqual({ posted: 900, held: 0, available: 900 });
  });

  it("a bet's hold cannot be resolved through the holds API", async () => {
    const user = unique("bethold");
    await deposit(user, 1000);
    await placeBet(user, 100);
    const held = (await walletEvents(user)).find((e) => e.type === "wallet.held")!;
    const res = await send(`${w(user)}/holds/${held.data.hold_id}/release`);
    expect(res).toEqual({ status: 409, body: { error: "HOLD_BELONGS_TO_BET", message: expect.any(String) } });
    expect((await cash(user)).held).toBe(100);
  });

  it("unknown bet: 404 BET_NOT_FOUND; an id not from this API: 400", async () => {
    const unknown = `${btoa("nobody")}.${"0".repeat(32)}`;
    expect(await get(`/api/bets/${unknown}`)).toEqual({ status: 404, body: { error: "BET_NOT_FOUND", message: expect.any(String) } });
    expect((await settle(unknown, "WON")).status).toBe(404);
    for (const bad of ["nope", "abc.123", `${"_".repeat(3)}.${"0".repeat(32)}`, `.${"0".repeat(32)}`]) {
      const res = await get(`/api/bets/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.message).toMatch(/bet_id/);
    }
  });

  it("bet ids route to the bettor's wallet whatever characters the user id holds", async () => {
    for (const user of ["a.b", "x/y?z#", "ü~%2F é", "u".repeat(128)]) {
      await deposit(user, 100);
      const { bet_id } = (await placeBet(user, 10)).body;
      expect(bet_id).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-f]{32}$/);
      expect((await get(`/api/bets/${bet_id}`)).body.user_id).toBe(user);
      expect((await settle(bet_id, "VOID")).status).toBe(200);
      expect((await get(w(user))).body.cash.held).toBe(0);
    }
  });

  it("stake × odds is exact decimal arithmetic, rounded down to the minor unit", async () => {
    const user = unique("odds");
    await deposit(user, 1_000_000);
    const cases: [number, number | string, number][] = [
      [100, 1.1, 110], // 1.1 * 100 is 110.00000000000001 in floating point
      [333, "2.345", 780], // 780.885
      [1, 1.5, 1], // 1.5
      [10, "2.50", 25],
      [7, 1.0001, 7], // 7.0007
      [3, 1000, 3000],
    ];
    for (const [stake, odds, win] of cases) {
      const res = await placeBet(user, stake, odds);
      expect(res.body.potential_win_cents, `${stake} × ${odds}`).toBe(win);
    }
    // 0.57 + 1 is 1.5699999999999998: more than 4 decimals, so refused rather than rounded.
    expect((await placeBet(user, 29, 0.57 + 1)).status).toBe(400);
  });

  it("settle with a body that is not a result: 400", async () => {
    const res = await post(`/api/bets/${btoa("u")}.${"0".repeat(32)}/settle`, { result: "DRAW" }, { "idempotency-key": unique("k") });
    expect(res.status).toBe(400);
  });
});

describe("bet bad input", () => {
  const base = betBody("bad_bettor", 100);
  const cases: [string, unknown][] = [
    ["missing user_id", { ...base, user_id: undefined }],
    ["user_id over 128", { ...base, user_id: "u".repeat(129) }],
    ["missing event_id", { ...base, event_id: undefined }],
    ["empty market", { ...base, market: "" }],
    ["selection over 128", { ...base, selection: "s".repeat(129) }],
    ["zero stake", { ...base, stake_cents: 0 }],
    ["fractional stake", { ...base, stake_cents: 10.5 }],
    ["stake over the maximum", { ...base, stake_cents: 1_000_000_000_001 }],
    ["odds of 1", { ...base, odd_value: 1 }],
    ["odds below 1", { ...base, odd_value: 0.5 }],
    ["odds with 5 decimals", { ...base, odd_value: "1.00001" }],
    ["odds over 1000", { ...base, odd_value: 1000.5 }],
    ["odds negative", { ...base, odd_value: -2 }],
    ["odds not a number", { ...base, odd_value: "evens" }],
    ["odds in exponent form", { ...base, odd_value: "2e0" }],
    ["odds missing", { ...base, odd_value: undefined }],
  ];
  it.each(cases)("%s → 400 naming the field", async (_, body) => {
    const res = await send("/api/bets", body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "INVALID_REQUEST", message: expect.any(String) });
  });
});

describe("bet events", () => {
  it("bet.placed carries the original topic's fields; all events share the wallet aggregate", async () => {
    const user = unique("betevt");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 400, 1.5)).body;
    await settle(bet_id, "WON");
    const events = await walletEvents(user);
    expect(events.map((e) => e.type)).toEqual([
      "wallet.deposited",
      "wallet.held",
      "bet.placed",
      "wallet.captured",
      "wallet.winnings_credited",
      "bet.settled",
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.every((e) => e.aggregate === `wallet:${user}`)).toBe(true);
    expect(events[2]!.data).toEqual({
      eventId: "evt-1",
      ts: Date.parse(events[2]!.time),
      userId: user,
      market: "1X2",
      stake: 400,
      currency: "GBP",
      bet_id,
      selection: "HOME",
      odd_value: "1.5",
      potential_win_cents: 600,
    });
    expect(events[5]!.data).toMatchObject({ bet_id, user_id: user, result: "WON", stake_cents: 400, payout_cents: 600, currency: "GBP" });
  });
});

describe("bet idempotency and durability", () => {
  it("a retried placement returns the same bet and holds the stake once", async () => {
    const user = unique("retry");
    await deposit(user, 1000);
    const k = unique("k");
    const results = await Promise.all(Array.from({ length: 10 }, () => sendWith(k, "/api/bets", betBody(user, 100))));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await cash(user)).toEqual({ posted: 1000, held: 100, available: 900 });
    expect((await sendWith(k, "/api/bets", betBody(user, 101))).status).toBe(422);
  });

  it("a retried settlement replays 200, not 409", async () => {
    const user = unique("settleretry");
    await deposit(user, 1000);
    const { bet_id } = (await placeBet(user, 100, 2)).body;
    const k = unique("k");
    const first = await sendWith(k, `/api/bets/${bet_id}/settle`, { result: "WON" });
    await evictDurableObject(env.WALLET.getByName(user));
    expect(await sendWith(k, `/api/bets/${bet_id}/settle`, { result: "WON" })).toEqual(first);
    expect(await cash(user)).toEqual({ posted: 1100, held: 0, available: 1100 });
  });
});

// ---- property: random concurrent sequences across a few users ----

type Op =
  | { t: "deposit" | "withdraw" | "hold"; u: number; amount: number }
  | { t: "capture"; u: number; pick: number; amount: number | null }
  | { t: "release"; u: number; pick: number }
  | { t: "bet"; u: number; stake: number; odds: string }
  | { t: "settle"; u: number; pick: number; result: "WON" | "LOST" | "VOID" };

const user = fc.integer({ min: 0, max: 2 });
const amount = fc.integer({ min: 1, max: 400 });
// Weighted towards the operations that need earlier ones (holds, bets and their
// resolutions), so most runs resolve something.
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant("deposit" as const), u: user, amount }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("withdraw" as const), u: user, amount }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("hold" as const), u: user, amount }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("capture" as const), u: user, pick: fc.nat(), amount: fc.option(amount, { nil: null }) }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("release" as const), u: user, pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("bet" as const),
      u: user,
      stake: amount,
      odds: fc.constantFrom("1.01", "1.1", "1.5", "2", "3.25", "7.777"),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("settle" as const), u: user, pick: fc.nat(), result: fc.constantFrom("WON" as const, "LOST" as const, "VOID" as const) }),
  },
);
// Each step: a few ops sent concurrently, each possibly retried at once with the same key.
const step = fc.array(fc.record({ op, retries: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 5 });
// Every run starts by funding each user, so most holds and bets can be placed.
const seed = (amount_cents: number) => [0, 1, 2].map((u) => ({ op: { t: "deposit" as const, u, amount: amount_cents }, retries: 0 }));

describe("wallet property", () => {
  it("conserves money, never goes negative, resolves holds once, and replays identically", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 12 }), fc.boolean(), async (generated, evictMidway) => {
        const steps = [seed(1500), ...generated];
        const users = [0, 1, 2].map(() => unique("prop"));
        const holds: string[][] = [[], [], []];
        const betsOf: string[][] = [[], [], []];
        const sent: { key: string; path: string; body: unknown; replies: Reply[] }[] = [];
        const send1 = async (path: string, body: unknown, retries: number) => {
          const k = unique("pk");
          const replies = await Promise.all(Array.from({ length: 1 + retries }, () => sendWith(k, path, body)));
          sent.push({ key: k, path, body, replies });
          return replies[0]!;
        };
        const request = (o: Op): [string, unknown] | null => {
          const u = users[o.u]!;
          const pick = (list: string[], i: number) => (list.length ? list[i % list.length]! : null);
          switch (o.t) {
            case "deposit":
              return [`${w(u)}/deposits`, { amount_cents: o.amount }];
            case "withdraw":
              return [`${w(u)}/withdrawals`, { amount_cents: o.amount }];
            case "hold":
              return [`${w(u)}/holds`, { amount_cents: o.amount }];
            case "capture": {
              const h = pick(holds[o.u]!, o.pick);
              return h ? [`${w(u)}/holds/${h}/capture`, o.amount === null ? undefined : { amount_cents: o.amount }] : null;
            }
            case "release": {
              const h = pick(holds[o.u]!, o.pick);
              return h ? [`${w(u)}/holds/${h}/release`, undefined] : null;
            }
            case "bet":
              return ["/api/bets", { ...betBody(u, o.stake, o.odds) }];
            case "settle": {
              const b = pick(betsOf[o.u]!, o.pick);
              return b ? [`/api/bets/${b}/settle`, { result: o.result }] : null;
            }
          }
        };

        for (const [i, batch] of steps.entries()) {
          if (evictMidway && i === Math.floor(steps.length / 2)) {
            await Promise.all(users.map((u) => evictDurableObject(env.WALLET.getByName(u))));
          }
          const planned = batch.map(({ op: o, retries }) => ({ o, retries, req: request(o) }));
          await Promise.all(
            planned.map(async ({ o, retries, req }) => {
              if (!req) return;
              const res = await send1(req[0], req[1], retries);
              expect([200, 201, 409]).toContain(res.status);
              if (o.t === "hold" && res.status === 201) holds[o.u]!.push(res.body.hold_id);
              if (o.t === "bet" && res.status === 201) betsOf[o.u]!.push(res.body.bet_id);
            }),
          );
          for (const u of users) expect((await cash(u)).available).toBeGreaterThanOrEqual(0);
        }

        // Replays: every retry got the first response; a later retry gets it too.
        for (const s of sent) {
          for (const r of s.replies) expect(r).toEqual(s.replies[0]);
          expect(await sendWith(s.key, s.path, s.body)).toEqual(s.replies[0]);
        }

        // The model, from the first responses only (retries had no effect).
        for (const [n, u] of users.entries()) {
          const mine = sent.filter((s) => s.path.startsWith(`${w(u)}/`) || (s.body as { user_id?: string })?.user_id === u ||
            betsOf[n]!.some((b) => s.path === `/api/bets/${b}/settle`));
          const ok = (pred: (s: (typeof sent)[number]) => boolean) => mine.filter((s) => pred(s) && s.replies[0]!.status < 300);
          const sum = (list: typeof sent, f: (s: (typeof sent)[number]) => number) => list.reduce((a, s) => a + f(s), 0);
          const deposits = sum(ok((s) => s.path.endsWith("/deposits")), (s) => (s.body as { amount_cents: number }).amount_cents);
          const withdrawals = sum(ok((s) => s.path.endsWith("/withdrawals")), (s) => (s.body as { amount_cents: number }).amount_cents);
          const captured = sum(ok((s) => s.path.endsWith("/capture")), (s) => s.replies[0]!.body.captured_cents);
          const settled = ok((s) => s.path.endsWith("/settle")).map((s) => s.replies[0]!.body);
          // Payouts are stake × odds rounded down, recomputed here in integers.
          const placed = new Map(ok((s) => s.path === "/api/bets").map((s) => [s.replies[0]!.body.bet_id, s.body as { stake_cents: number; odd_value: string }]));
          for (const b of settled.filter((b) => b.status === "WON")) {
            const p = placed.get(b.bet_id)!;
            expect(b.payout_cents).toBe(Math.floor((p.stake_cents * Math.round(Number(p.odd_value) * 10_000)) / 10_000));
          }
          const winnings = settled.filter((b) => b.status === "WON").reduce((a, b) => a + b.payout_cents - b.stake_cents, 0);
          const lostStakes = settled.filter((b) => b.status === "LOST").reduce((a, b) => a + b.stake_cents, 0);

          const view = (await get(w(u))).body;
          // deposits − withdrawals + winnings − lost stakes (− captured plain holds) = the balance.
          expect(view.cash.posted).toBe(deposits - withdrawals + winnings - lostStakes - captured);
          expect(view.cash.available).toBe(view.cash.posted - view.cash.held);
          expect(view.cash.available).toBeGreaterThanOrEqual(0);

          // Held = holds and bets not yet resolved.
          const resolvedHolds = ok((s) => /\/(capture|release)$/.test(s.path)).map((s) => s.replies[0]!.body.hold_id);
          expect(new Set(resolvedHolds).size).toBe(resolvedHolds.length); // each hold resolved at most once
          const openHolds = ok((s) => s.path.endsWith("/holds")).filter((s) => !resolvedHolds.includes(s.replies[0]!.body.hold_id));
          const settledBets = settled.map((b) => b.bet_id);
          expect(new Set(settledBets).size).toBe(settledBets.length); // each bet settled at most once
          const openBets = ok((s) => s.path === "/api/bets").filter((s) => !settledBets.includes(s.replies[0]!.body.bet_id));
          expect(view.cash.held).toBe(
            sum(openHolds, (s) => (s.body as { amount_cents: number }).amount_cents) +
              sum(openBets, (s) => (s.body as { stake_cents: number }).stake_cents),
          );

          // The ledger adds up to the posted balance; the outbox resolves each hold once.
          const entries = (await get(`${w(u)}/ledger?limit=1000`)).body.entries as { amount_cents: number }[];
          expect(entries.reduce((a, e) => a + e.amount_cents, 0)).toBe(view.cash.posted);
          const events = await walletEvents(u);
          const resolutions = events.filter((e) => e.type === "wallet.captured" || e.type === "wallet.released").map((e) => e.data.hold_id);
          expect(new Set(resolutions).size).toBe(resolutions.length);
          expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        }
      }),
      { numRuns: 20 },
    );
  });
});
