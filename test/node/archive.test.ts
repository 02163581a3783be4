import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { asc, eq } from "drizzle-orm";
import type { Archive } from "../../workers/archiver/archive.ts";
import { bets, claimLog, couponClaims, events, ledgerEntries } from "../../drizzle/schema.ts";
import type { Json } from "../../src/lib/envelope.ts";
import { counts, envelope, event, mixedEvents, store, testArchive, truncate } from "./helpers.ts";

const target = testArchive();
let archive: Archive;

beforeAll(async () => {
  archive = await target.open();
});
afterAll(async () => {
  await archive?.close();
  await target.cleanup();
});
beforeEach(async () => {
  await truncate(archive);
});

describe(`archive (${store})`, () => {
  test("the same batch twice stores each event once, in events and its typed table", async () => {
    const batch = mixedEvents(25);
    expect(await archive.insert(batch)).toEqual({ inserted: 100 });
    const once = await counts(archive);
    expect(once).toEqual({ events: 100, coupon_claims: 25, claim_log: 25, ledger_entries: 25, bets: 25 });

    expect(await archive.insert(batch)).toEqual({ inserted: 0 });
    expect(await archive.insert([...batch].reverse())).toEqual({ inserted: 0 });
    expect(await counts(archive)).toEqual(once);
  });

  test("duplicates inside one batch and overlapping batches are stored once", async () => {
    const all = mixedEvents(10);
    expect(await archive.insert([...all.slice(0, 20), ...all.slice(0, 20)])).toEqual({ inserted: 20 });
    expect(await archive.insert(all.slice(10))).toEqual({ inserted: 20 });
    expect((await counts(archive)).events).toBe(40);
  });

  test("one call with more rows than the 65,535 bind-parameter limit allows is chunked", async () => {
    // 14,000 rows: 84,000 parameters for events, 70,000 for coupon_claims.
    const batch = Array.from({ length: 14_000 }, (_, i) =>
      envelope("coupon:BIG", i + 1, "coupon.claimed", {
        coupon_name: "BIG", user_id: `u${i}`, seq: i + 1, remaining_amount: 14_000 - i - 1,
        claimed_at: "2026-11-22T03:00:00.000Z",
      }),
    );
    expect(await archive.insert(batch)).toEqual({ inserted: 14_000 });
    expect(await archive.insert(batch)).toEqual({ inserted: 0 });
    const c = await counts(archive);
    expect([c.events, c.coupon_claims]).toEqual([14_000, 14_000]);
  });

  test("events keep the whole envelope", async () => {
    const e = envelope("coupon:PROMO", 2, "coupon.claimed", { coupon_name: "PROMO", user_id: "u1", nested: { a: [1, "x"] } });
    await archive.insert([e]);
    const [row] = await archive.db.select().from(events);
    expect(row).toMatchObject({ event_id: "coupon:PROMO:2", type: "coupon.claimed", aggregate: "coupon:PROMO", seq: 2, data: e.data });
    expect(row?.occurred_at.toISOString()).toBe(e.time);
  });

  test("coupon.claimed → coupon_claims", async () => {
    await archive.insert([
      envelope("coupon:PROMO", 7, "coupon.claimed", {
        coupon_name: "PROMO", user_id: "user_1", seq: 7, remaining_amount: 93, claimed_at: "2026-11-22T03:01:02.345Z",
      }),
    ]);
    expect(await archive.db.select().from(couponClaims)).toEqual([
      { event_id: "coupon:PROMO:7", coupon_name: "PROMO", user_id: "user_1", remaining_amount: 93, claimed_at: new Date("2026-11-22T03:01:02.345Z") },
    ]);
  });

  test("campaign.packet_opened → claim_log", async () => {
    await archive.insert([
      envelope("campaign:RAIN:shard:3", 4, "campaign.packet_opened", {
        campaign_id: "RAIN", user_id: "u9", amount: 888, shard: 3, ts: "2026-11-22T03:00:09.000Z",
      }),
    ]);
    expect(await archive.db.select().from(claimLog)).toEqual([
      { event_id: "campaign:RAIN:shard:3:4", campaign_id: "RAIN", user_id: "u9", amount: 888, shard: 3, ts: new Date("2026-11-22T03:00:09.000Z") },
    ]);
  });

  // Real wallet events against GET /ledger: test/node/contract.test.ts. Here,
  // events archived before the wallet emitted `entry` (their shape then).
  test("wallet events from before `entry`: the ledger's kind, sign and balance after; holds and releases are no entries", async () => {
    const legacy = (seq: number, type: string, data: Record<string, Json>) =>
      envelope("wallet:w1", seq, type, {
        user_id: "w1", currency: "GBP", cash_posted_cents: 0, cash_held_cents: 0, bonus_posted_cents: 0, at: "2026-11-22T04:00:00.000Z", ...data,
      });
    await archive.insert([
      legacy(1, "wallet.deposited", { amount_cents: 5000, ledger_seq: 1, cash_posted_cents: 5000 }),
      legacy(2, "wallet.withdrawn", { amount_cents: 2500, ledger_seq: 2, cash_posted_cents: 2500 }),
      legacy(3, "wallet.held", { hold_id: "h1", amount_cents: 1000, ref: "r1", cash_posted_cents: 2500, cash_held_cents: 1000 }),
      legacy(4, "wallet.captured", { hold_id: "h1", amount_cents: 600, released_cents: 400, ref: "r1", ledger_seq: 3, cash_posted_cents: 1900 }),
      legacy(5, "wallet.winnings_credited", { amount_cents: 700, bet_id: "b1", ledger_seq: 4, cash_posted_cents: 2600 }),
      legacy(6, "wallet.bonus_credited", { amount_cents: 300, award_id: "a1", ledger_seq: 1, bonus_posted_cents: 300, cash_posted_cents: 2600 }),
      legacy(7, "wallet.released", { hold_id: "h2", amount_cents: 100, ref: null }),
    ]);
    const rows = await archive.db.select().from(ledgerEntries).orderBy(asc(ledgerEntries.event_id));
    expect(rows.map((r) => [r.kind, r.balance, r.ledger_seq, r.amount_cents, r.balance_after_cents, r.ref, r.entry_id])).toEqual([
      ["DEPOSIT", "cash", 1, 5000, 5000, null, null],
      ["WITHDRAWAL", "cash", 2, -2500, 2500, null, null],
      ["CAPTURE", "cash", 3, -600, 1900, "r1", null],
      ["WINNINGS", "cash", 4, 700, 2600, "b1", null],
      ["BONUS_CREDIT", "bonus", 1, 300, 300, null, null],
    ]);
    expect(rows.every((r) => r.user_id === "w1")).toBe(true);
    // created_at is the mutation's time: the envelope's.
    expect(rows.map((r) => r.created_at.toISOString())).toEqual([1, 2, 4, 5, 6].map((seq) => envelope("w", seq, "t", {}).time));
  });

  test("bet.placed inserts a bet, bet.settled settles it; replays and repeats change nothing", async () => {
    const placed = event("wallet:u1", 1, "bet.placed", {
      eventId: "match-7", ts: Date.parse("2026-11-22T05:00:00.000Z"), userId: "u1", market: "1X2", stake: 1235,
      currency: "EUR", bet_id: "B1", selection: "away", odd_value: "2.10", potential_win_cents: 2594,
    });
    const settled = event("wallet:u1", 2, "bet.settled", {
      bet_id: "B1", user_id: "u1", event_id: "match-7", market: "1X2", selection: "away", result: "WON",
      stake_cents: 1235, payout_cents: 2594, currency: "EUR", settled_at: "2026-11-22T06:00:00.000Z",
    });
    await archive.insert([placed]);
    const [open] = await archive.db.select().from(bets);
    expect(open).toMatchObject({ bet_id: "B1", user_id: "u1", event_ref: "match-7", stake_cents: 1235, status: "placed", settled_at: null });

    await archive.insert([settled]);
    const [done] = await archive.db.select().from(bets);
    const expected = {
      bet_id: "B1", user_id: "u1", event_ref: "match-7", market: "1X2", selection: "away", stake_cents: 1235,
      currency: "EUR", odd_value: "2.10", potential_win_cents: 2594, status: "settled", result: "WON", payout_cents: 2594,
      placed_at: new Date("2026-11-22T05:00:00.000Z"), settled_at: new Date("2026-11-22T06:00:00.000Z"),
      placed_event_id: "wallet:u1:1", settled_event_id: "wallet:u1:2",
    };
    expect(done).toEqual(expected);

    // A repeated settlement under a new id writes the same values; replays are not projected again.
    const again = envelope("wallet:u1", 3, "bet.settled", settled.data);
    await archive.insert([again]);
    await archive.insert([settled, placed]);
    expect(await archive.db.select().from(bets)).toEqual([{ ...expected, settled_event_id: "wallet:u1:3" }]);
  });

  test("a settlement that arrives before its placement is kept, and the placement does not undo it", async () => {
    await archive.insert([envelope("wallet:u2", 2, "bet.settled", { bet_id: "B2", result: "LOST", payout_cents: 0 })]);
    await archive.insert([envelope("wallet:u2", 1, "bet.placed", { bet_id: "B2", userId: "u2", market: "OU", stake: 500, currency: "EUR" })]);
    const [row] = await archive.db.select().from(bets).where(eq(bets.bet_id, "B2"));
    expect(row).toMatchObject({ status: "settled", result: "LOST", payout_cents: 0, market: "OU", stake_cents: 500, user_id: "u2" });
  });

  test("types without a typed table are kept in events only", async () => {
    await archive.insert([envelope("coupon:NEW", 1, "coupon.created", { name: "NEW", amount: 5, created_at: "2026-11-22T03:00:00Z" })]);
    expect(await counts(archive)).toEqual({ events: 1, coupon_claims: 0, claim_log: 0, ledger_entries: 0, bets: 0 });
  });

  test("an envelope that cannot be stored fails the whole call and writes nothing", async () => {
    const good = mixedEvents(2);
    const bad = { ...envelope("coupon:X", 1, "coupon.claimed", {}), time: "yesterday" };
    await expect(archive.insert([...good, bad])).rejects.toThrow(/time is not a date/);
    expect((await counts(archive)).events).toBe(0);
  });

  test("reopening applies no migration twice and keeps the data", async () => {
    await archive.insert(mixedEvents(3));
    const second = await target.open();
    try {
      expect(await counts(second)).toEqual({ events: 12, coupon_claims: 3, claim_log: 3, ledger_entries: 3, bets: 3 });
      expect(await second.insert(mixedEvents(4))).toEqual({ inserted: 4 });
    } finally {
      await second.close();
    }
  });
});
