// The scenario: what to generate. A JSON file (--scenario) or flags; every
// field has a default, so `{}` is a valid (small) scenario.
import { z } from "zod";

const segment = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("constant"), rate: z.number().min(0), seconds: z.number().positive() }),
  z.strictObject({ kind: z.literal("ramp"), from: z.number().min(0), to: z.number().min(0), seconds: z.number().positive() }),
  z.strictObject({ kind: z.literal("burst"), count: z.number().int().min(1), seconds: z.number().min(0) }),
  z.strictObject({ kind: z.literal("fixed"), count: z.number().int().min(1), interval_ms: z.number().min(0) }),
]);

const share = z.number().min(0).max(1);
const range = (min: number, max: number) =>
  z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) }).default({ min, max });

const offer = z.strictObject({
  name: z.string().min(1),
  min_stake_cents: z.number().int().min(0),
  bonus_pct: z.number().positive().max(1),
  max_bonus_cents: z.number().int().positive().nullable().default(null),
  markets: z.array(z.string()).nullable().default(null),
  min_odds: z.number().nullable().default(null),
  budget_cents: z.number().int().positive().nullable().default(null),
  max_awards_per_user: z.number().int().positive().nullable().default(null),
});
export type OfferSpec = z.infer<typeof offer>;

export const scenario = z.strictObject({
  seed: z.number().int().default(1),
  users: z.number().int().min(1).default(2000),
  /** Zipf exponent of user popularity (0 = uniform). */
  zipf_s: z.number().min(0).default(1),
  bets: z
    .strictObject({
      /** When sessions start (arrivals per second); each session is several bets by one user. */
      schedule: z.array(segment).default([{ kind: "constant", rate: 5, seconds: 20 }]),
      session_bets: range(3, 8),
      /** Gap between a session's bets, ms. */
      session_gap_ms: range(100, 2000),
      stake_cents: range(500, 3000),
      /** Share of sessions sent over Kafka `events.bet_placed` instead of HTTP (needs brokers). */
      kafka_share: share.default(0),
      /** Share of HTTP bets settled later, and how: WON / LOST / VOID. */
      settle_share: share.default(0.3),
      settle_after_ms: range(500, 3000),
    })
    .prefault({}),
  odds: z
    .strictObject({
      events: z.number().int().min(0).default(8),
      markets: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/)).min(1).default(["1X2", "OU2_5"]),
      /** Odds updates per second over the bet schedule's length. */
      rate: z.number().min(0).default(4),
      /** Share of odds updates sent over Kafka `odds_updates` (needs brokers). */
      kafka_share: share.default(0),
    })
    .prefault({}),
  flash_sale: z
    .strictObject({
      at_s: z.number().min(0).default(5),
      stock: z.number().int().min(1).default(200),
      users: z.number().int().min(1).default(1000),
      /** The claims arrive within this many ms of at_s. */
      spread_ms: z.number().min(0).default(500),
    })
    .nullable()
    .prefault({}),
  rain: z
    .strictObject({
      /** The campaign's window opens at_s into the run and stays open window_s. */
      at_s: z.number().min(0).default(8),
      window_s: z.number().positive().default(20),
      inventory: z.record(z.string().regex(/^[1-9]\d*$/), z.number().int().positive()).default({ "50": 400, "500": 40 }),
      users: z.number().int().min(1).default(600),
      /** Openings arrive within the first spread_s of the window. */
      spread_s: z.number().min(0).default(5),
      shards: z.number().int().min(1).max(64).default(4),
    })
    .nullable()
    .prefault({}),
  feeds: z
    .strictObject({
      odds_subscribers: z.number().int().min(0).default(10),
      /** Events per odds subscriber. */
      odds_events_each: z.number().int().min(1).default(3),
      awards_subscribers: z.number().int().min(0).default(1),
      stats_subscribers: z.number().int().min(0).default(1),
      rain_subscribers: z.number().int().min(0).default(1),
    })
    .prefault({}),
  offers: z.array(offer).default([
    { name: "sim: 10% on 1X2", min_stake_cents: 500, bonus_pct: 0.1, max_bonus_cents: 500, markets: ["1X2"], min_odds: null, budget_cents: null, max_awards_per_user: null },
    { name: "sim: 5% anything", min_stake_cents: 1000, bonus_pct: 0.05, max_bonus_cents: null, markets: null, min_odds: null, budget_cents: null, max_awards_per_user: null },
  ]),
  faults: z
    .strictObject({
      /** Kafka bets sent twice with the same event id. */
      duplicate_share: share.default(0),
      /** Kafka bets whose timestamp is before their window closed (late). */
      late_share: share.default(0),
      /** Kafka bets whose timestamp is earlier than the session's previous bet (still on time). */
      out_of_order_share: share.default(0),
      /** HTTP bets sent again with the same Idempotency-Key (must replay, not place twice). */
      retry_share: share.default(0),
      /** Settled bets that are voided. */
      void_share: share.default(0),
      /** Odds updates re-sent with an old version (must be ignored). */
      stale_odds_share: share.default(0),
      /** Flash-sale users who claim twice at once; rain users who open twice. */
      double_claim_share: share.default(0),
    })
    .prefault({}),
  /** The stake gate's settings on the target (the Worker's vars). */
  gate: z
    .strictObject({
      window_s: z.number().positive().default(120),
      lateness_s: z.number().min(0).default(10),
      min_window_stake_cents: z.number().int().min(1).default(5000),
    })
    .prefault({}),
  /** After the load: how long to wait for events to settle before asking the target. */
  drain_s: z.number().min(0).default(3),
});
export type Scenario = z.infer<typeof scenario>;

/** The old load simulator: `count` bets `interval_ms` apart over HTTP, one bet per user, nothing else. */
export function legacy(count: number, intervalMs: number, seed: number): Scenario {
  return scenario.parse({
    seed,
    users: Math.min(count, 2000),
    zipf_s: 0,
    bets: {
      schedule: [{ kind: "fixed", count, interval_ms: intervalMs }],
      session_bets: { min: 1, max: 1 },
      stake_cents: { min: 100, max: 100 },
      settle_share: 0,
    },
    odds: { events: 0 },
    flash_sale: null,
    rain: null,
    feeds: { odds_subscribers: 0, awards_subscribers: 0, stats_subscribers: 0, rain_subscribers: 0 },
    offers: [],
  });
}
