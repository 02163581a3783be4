// The stake gate: event-time tumbling windows per user, closes on the alarm,
// late and future bets, awards credited with their events.
import { describe, expect, it } from "vitest";
import { advance, betKey, ingest, LATENESS, placed, setClock, T0, W, walletOf } from "./gate-helpers";
import { asUser } from "./auth-helpers";
import { anonymous, deposit, get, post, send, unique, walletEvents } from "./helpers";

const windows = async (user: string) => (await get(`/api/wallets/${user}/windows`)).body.windows;
const newOffer = async (body: Record<string, unknown>) => {
  const res = await post("/api/offers", { name: "gate", min_stake_cents: 1, ...body });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const typesOf = async (user: string, type: string) => (await walletEvents(user)).filter((e) => e.type === type);

describe("windows", () => {
  it("bets enter the window of their own timestamp; at end + lateness the window closes and qualifies every bet", async () => {
    const user = unique("gate");
    await setClock(user, T0 + 5_000);
    // Out of order: the second message's bet is older, and falls in the previous window.
    expect(await ingest([placed(user, `${user}-1`, 3000, T0 + 1_000), placed(user, `${user}-2`, 2500, T0 - 1_000), placed(user, `${user}-3`, 2000, T0 + 4_000)])).toEqual([
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    expect(await windows(user)).toEqual([
      expect.objectContaining({ start: new Date(T0).toISOString(), sum_cents: 5000, threshold_cents: 5000, state: "open", bets: 2, late_bets: [] }),
      expect.objectContaining({ start: new Date(T0 - W).toISOString(), sum_cents: 2500, state: "open", bets: 1 }),
    ]);
    await advance(user, T0 + W + LATENESS - 1);
    expect((await windows(user))[0].state).toBe("open");
    expect((await windows(user))[1].state).toBe("not_qualified"); // its close was at T0 + 10 s
    await advance(user, T0 + W + LATENESS);
    expect((await windows(user))[0]).toMatchObject({ state: "qualified", closes_at: new Date(T0 + W + LATENESS).toISOString() });
    const qualified = await typesOf(user, "bet.qualified");
    expect(qualified.map((e) => [e.data.bet_key, e.data.stake_cents, e.data.window_sum_cents])).toEqual([
      [betKey(`${user}-1`), 3000, 5000],
      [betKey(`${user}-3`), 2000, 5000],
    ]);
  });

  it("a duplicate (same event id) counts once; a bet after its window closed is late: counted, bet.late, never qualifying", async () => {
    const user = unique("late");
    await setClock(user, T0);
    // A redelivery (same Kafka position) and the same bet produced again (a new position).
    const a = placed(user, `${user}-a`, 4000, T0 + 1);
    await ingest([a, a, placed(user, `${user}-a`, 4000, T0 + 1, {}, `${user}-a-again`)]);
    await advance(user, T0 + W + LATENESS);
    await ingest([placed(user, `${user}-b`, 4000, T0 + 2)]); // would have made 8000
    const [w] = await windows(user);
    expect(w).toMatchObject({ sum_cents: 4000, bets: 1, state: "not_qualified" });
    expect(w.late_bets).toEqual([{ bet_key: betKey(`${user}-b`), event_id: `match-${user}-b`, stake_cents: 4000, ts: new Date(T0 + 2).toISOString(), arrived_at: new Date(T0 + W + LATENESS).toISOString() }]);
    expect((await typesOf(user, "bet.late")).map((e) => e.data.bet_key)).toEqual([betKey(`${user}-b`)]);
    expect(await typesOf(user, "bet.qualified")).toEqual([]);
  });

  it("a late bet is late even before the alarm has run (event time against the object's clock)", async () => {
    const user = unique("late2");
    await setClock(user, T0);
    await ingest([placed(user, `${user}-a`, 5000, T0)]);
    await setClock(user, T0 + W + LATENESS); // the alarm has not run yet
    await ingest([placed(user, `${user}-b`, 100, T0 + 5)]);
    await advance(user, T0 + W + LATENESS);
    const [w] = await windows(user);
    expect(w).toMatchObject({ sum_cents: 5000, state: "qualified" });
    expect(w.late_bets.map((b: any) => b.bet_key)).toEqual([betKey(`${user}-b`)]);
  });

  it("a timestamp too far in the future is rejected (dead-lettered) and changes nothing", async () => {
    const user = unique("skew");
    await setClock(user, T0);
    const [res] = await ingest([placed(user, `${user}-f`, 5000, T0 + 31_000)]);
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/MAX_CLOCK_SKEW/) });
    expect(await ingest([placed(user, `${user}-g`, 5000, T0 + 30_000)])).toEqual([{ ok: true }]);
    expect((await windows(user)).map((w: any) => w.sum_cents)).toEqual([5000]);
  });

  it("closing is idempotent: repeated alarms, evictions and replays never re-window or re-qualify", async () => {
    const user = unique("idem");
    await setClock(user, T0);
    const bets = [placed(user, `${user}-1`, 6000, T0 + 10)];
    await ingest(bets);
    await advance(user, T0 + W + LATENESS);
    const { evictDurableObject, runDurableObjectAlarm } = await import("cloudflare:test");
    await evictDurableObject(walletOf(user));
    await setClock(user, T0 + W + LATENESS + 5);
    await runDurableObjectAlarm(walletOf(user));
    await ingest(bets); // a replay of the same message
    await advance(user, T0 + 3 * W);
    expect(await typesOf(user, "bet.qualified")).toHaveLength(1);
    expect((await windows(user)).map((w: any) => [w.sum_cents, w.state, w.late_bets.length])).toEqual([[6000, "qualified", 0]]);
  });

  it("bets placed with POST /api/bets enter the window at their placement time", async () => {
    const user = unique("api");
    await deposit(user, 100_000);
    await setClock(user, T0 + 7);
    for (const stake of [2000, 3000]) {
      const res = await send("/api/bets", { user_id: user, event_id: "e", market: "m", selection: "s", stake_cents: stake, odd_value: 2 });
      expect(res.status).toBe(201);
    }
    expect((await windows(user))[0]).toMatchObject({ start: new Date(T0).toISOString(), sum_cents: 5000, bets: 2 });
    await advance(user, T0 + W + LATENESS);
    expect((await windows(user))[0].state).toBe("qualified");
  });

  it("GET windows is the user's own (or the service's)", async () => {
    const user = unique("own");
    expect((await get(`/api/wallets/${user}/windows`, await asUser(user))).status).toBe(200);
    expect((await get(`/api/wallets/${user}/windows`, await asUser("other"))).status).toBe(403);
    expect((await get(`/api/wallets/${user}/windows`, anonymous)).status).toBe(401);
  });
});

describe("awards", () => {
  it("each qualified bet earns the best matching offer's bonus, credited with offer.awarded in one transaction", async () => {
    const market = unique("mkt");
    const small = await newOffer({ bonus_pct: 0.05, markets: [market] });
    const big = await newOffer({ bonus_pct: 0.1, max_bonus_cents: 250, markets: [market] });
    const user = unique("award");
    await setClock(user, T0);
    await ingest([placed(user, `${user}-1`, 3000, T0, { market }), placed(user, `${user}-2`, 2000, T0 + 1, { market })]);
    await advance(user, T0 + W + LATENESS);
    const awards = (await get(`/api/awards?user_id=${encodeURIComponent(user)}`)).body.awards;
    // 3000 × 10 % = 300, capped at 250 (still beats 5 % = 150); 2000 × 10 % = 200 beats 100.
    expect(awards.map((a: any) => [a.bet_key, a.offer_id, a.bonus_cents])).toEqual([
      [betKey(`${user}-2`), big, 200],
      [betKey(`${user}-1`), big, 250],
    ]);
    expect(awards[0].award_id).toMatch(/^aw_[0-9a-f]{40}$/);
    expect((await get(`/api/wallets/${user}`)).body.bonus.posted).toBe(450);
    const events = await walletEvents(user);
    const awarded = events.filter((e) => e.type === "offer.awarded");
    const credited = events.filter((e) => e.type === "wallet.bonus_credited");
    expect(awarded.map((e) => e.data.award_id).sort()).toEqual(credited.map((e) => e.data.award_id).sort());
    // Each award's event and credit are adjacent: written by one transaction.
    for (const a of awarded) expect(events.find((e) => e.seq === a.seq - 1)!.data.award_id).toBe(a.data.award_id);
    expect(small).toBeDefined();
  });

  it("ties go to the older offer; no matching offer, no award; unknown odds never meet a minimum", async () => {
    const market = unique("tie");
    const older = await newOffer({ bonus_pct: 0.1, markets: [market] });
    await newOffer({ bonus_pct: 0.1, markets: [market] });
    await newOffer({ bonus_pct: 0.5, markets: [market], min_odds: 1.5 });
    const user = unique("tie");
    await setClock(user, T0);
    await ingest([placed(user, `${user}-1`, 6000, T0, { market, odds: undefined })]);
    await advance(user, T0 + W + LATENESS);
    const awards = (await get(`/api/awards?user_id=${encodeURIComponent(user)}`)).body.awards;
    expect(awards.map((a: any) => [a.offer_id, a.bonus_cents])).toEqual([[older, 600]]);
    const none = unique("none");
    await setClock(none, T0);
    await ingest([placed(none, `${none}-1`, 6000, T0, { market: unique("nomarket") })]);
    await advance(none, T0 + W + LATENESS);
    expect((await get(`/api/awards?user_id=${none}`)).body.awards).toEqual([]);
  });

  it("an exhausted budget passes the bet to the next-best offer", async () => {
    const market = unique("budget");
    const best = await newOffer({ bonus_pct: 0.2, markets: [market], budget_cents: 1000 });
    const next = await newOffer({ bonus_pct: 0.1, markets: [market] });
    const user = unique("budget");
    await setClock(user, T0);
    await ingest([placed(user, `${user}-1`, 3000, T0, { market }), placed(user, `${user}-2`, 3000, T0 + 1, { market })]);
    await advance(user, T0 + W + LATENESS);
    const awards = (await get(`/api/awards?user_id=${user}`)).body.awards;
    expect(awards.map((a: any) => [a.bet_key, a.offer_id, a.bonus_cents])).toEqual([
      [betKey(`${user}-2`), next, 300],
      [betKey(`${user}-1`), best, 600],
    ]);
    expect((await get(`/api/offers/${best}`)).body.usage).toEqual({ reserved_cents: 600, awards: 1 });
  });

  it("a rule change applies to every window that closes after it", async () => {
    const market = unique("change");
    const offer = await newOffer({ bonus_pct: 0.1, markets: [market] });
    const user = unique("change");
    await setClock(user, T0);
    await ingest([placed(user, `${user}-1`, 5000, T0, { market })]);
    await advance(user, T0 + W + LATENESS);
    expect(await ingest([placed(user, `${user}-2`, 5000, T0 + W, { market })])).toEqual([{ ok: true }]);
    expect((await post(`/api/offers/${offer}`, {})).status).toBe(405);
    const { call } = await import("./helpers");
    await call("PUT", `/api/offers/${offer}`, { bonus_pct: 0.2 });
    await advance(user, T0 + 2 * W + LATENESS);
    const awards = (await get(`/api/awards?user_id=${user}`)).body.awards;
    expect(awards.map((a: any) => [a.bet_key, a.offer_version, a.bonus_cents])).toEqual([
      [betKey(`${user}-2`), 2, 1000],
      [betKey(`${user}-1`), 1, 500],
    ]);
  });

  it("GET /api/awards: users read their own; another user's is 403; limit is 1–1,000", async () => {
    const user = unique("reader");
    expect((await get(`/api/awards`, await asUser(user))).body).toEqual({ awards: [] });
    expect((await get(`/api/awards?user_id=${user}`, await asUser("someone"))).status).toBe(403);
    expect((await get(`/api/awards?user_id=${user}&limit=1001`)).status).toBe(400);
    expect((await get(`/api/awards`)).status).toBe(400); // the service names whose
    expect((await get(`/api/awards`, anonymous)).status).toBe(401);
  });
});
