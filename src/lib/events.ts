/**
 * The event catalogue: every event type, its `data` shape, its aggregate kind
 * and its Kafka topic, in one place. `Actor.emit` accepts only these types
 * with these shapes (checked by the compiler); the bridge's topic map and the
 * original-shape mappings, the archiver's projections and docs/events.md all
 * read from here. Every Kafka topic name is defined here too.
 *
 * Rules every shape follows (exceptions are marked `ORIGINAL SHAPE` below,
 * each written down once):
 * - Money is an integer number of minor units named `*_cents`.
 * - A time field is an ISO-8601 UTC string named `*_at` for an instant (when
 *   something happened), or `*_time` for a boundary someone set (a campaign's
 *   `start_time`/`end_time`, as its HTTP API names them). An `*_at` field that
 *   says when the mutation happened equals the envelope's `time`, which is
 *   always the mutation's own time.
 *
 * The Node processes import this file as-is, so a relative import names its
 * `.ts` file and that file follows the same rule.
 */
import { z } from "zod";
import { toRuleMessage } from "./offer-rules.ts";

// ---- topics ----

/** Every Kafka topic rushgate reads or writes. */
export const TOPICS = {
  coupon: "coupon.events",
  campaign: "campaign.events",
  wallet: "wallet.events",
  bet: "bet.events",
  /** The original red-packet system's topic (outbound, in its shape). */
  claimEvents: "claim_events",
  /** The original betting system's topic (inbound): bets placed outside rushgate. */
  betPlaced: "events.bet_placed",
  /** Offer changes (rushgate's own events). */
  offer: "offer.events",
  /** The original offers engine's rules topic (both ways): `{"type":"UPSERT","rule":{…}}`. */
  offersRules: "offers.rules",
  /** The original offers engine's topics (outbound, in its shapes). */
  betQualified: "events.bet_qualified",
  offerAwarded: "events.offer_awarded",
  /** The sports-bet system's odds (inbound), applied by the Odds actors. */
  oddsUpdates: "odds_updates",
  /** Odds updates rushgate applied (outbound; never odds_updates, which the bridge consumes). */
  odds: "odds.events",
  /** Where an event with no topic would be parked; every catalogued type has one. */
  unrouted: "unrouted.events",
} as const;

/** The original flash-sale request/reply protocol's request topics (inbound). */
export const COUPON_REQUEST_TOPICS = ["coupon.create.req", "coupon.claim.req", "coupon.get.req"] as const;
export type CouponRequestTopic = (typeof COUPON_REQUEST_TOPICS)[number];

/** The topics of rushgate's own events (one per aggregate kind of topic). */
export const EVENT_TOPICS = [TOPICS.coupon, TOPICS.campaign, TOPICS.wallet, TOPICS.bet, TOPICS.offer, TOPICS.odds] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** What the bridge consumes and hands to the Worker. */
export const INBOUND_TOPICS = [TOPICS.betPlaced, TOPICS.offersRules, ...COUPON_REQUEST_TOPICS, TOPICS.oddsUpdates] as const;

// ---- shared field shapes ----

const cents = z.number().int();
const at = z.string(); // ISO-8601 UTC; see the rules above
const text = z.string();

export const LEDGER_KINDS = ["DEPOSIT", "WITHDRAWAL", "CAPTURE", "WINNINGS", "BONUS_CREDIT"] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** A ledger entry exactly as `GET /api/wallets/{user}/ledger` shows it. */
export const ledgerEntry = z.object({
  id: text,
  seq: z.number().int(),
  kind: z.enum(LEDGER_KINDS),
  balance: z.enum(["cash", "bonus"]),
  /** Signed: credits are positive, debits negative. */
  amount_cents: cents,
  balance_after_cents: cents,
  ref: text.nullable(),
  created_at: at,
});
export type LedgerEntry = z.infer<typeof ledgerEntry>;

/** Every wallet event carries the user, the currency and the balances after the change. */
const wallet = <S extends z.ZodRawShape>(shape: S) =>
  z.object({
    user_id: text,
    currency: text,
    ...shape,
    cash_posted_cents: cents,
    cash_held_cents: cents,
    bonus_posted_cents: cents,
    updated_at: at,
  });
/** A movement that posted a ledger entry: `entry` is that entry, as the ledger API shows it. */
const posting = { ledger_seq: z.number().int(), entry: ledgerEntry };

// ---- the catalogue ----

export type AggregateKind = "coupon" | "campaign" | "wallet" | "offers" | "odds" | "kafka";

type Spec = {
  /** Which actors emit it: the aggregate is `${aggregate}:${actor name}`. */
  aggregate: AggregateKind;
  topic: string;
  data: z.ZodObject;
  /** One line for docs/events.md. */
  about: string;
  /** The same event, also sent to an original system's topic in that system's shape. */
  also?: { topic: string; value: (data: any) => Record<string, unknown>; key?: (data: any) => string };
  /**
   * For a movement that posts a ledger entry: its kind, balance and sign. The
   * entry itself is in `data.entry`; this describes events written before it was.
   */
  ledger?: { kind: LedgerKind; balance: "cash" | "bonus"; sign: 1 | -1 };
};

export const CATALOGUE = {
  "coupon.created": {
    aggregate: "coupon",
    topic: TOPICS.coupon,
    about: "a coupon was created with `amount` coupons (a count, not money)",
    data: z.object({ name: text, amount: z.number().int(), created_at: at }),
  },
  "coupon.claimed": {
    aggregate: "coupon",
    topic: TOPICS.coupon,
    about: "a user claimed one coupon; `seq` is the claim's number",
    data: z.object({ coupon_name: text, user_id: text, seq: z.number().int(), remaining_amount: z.number().int(), claimed_at: at }),
  },
  "campaign.created": {
    aggregate: "campaign",
    topic: TOPICS.campaign,
    about: "a red-packet campaign was created (aggregate `campaign:{id}`)",
    data: z.object({
      campaign_id: text,
      name: text,
      start_time: at,
      end_time: at,
      shards: z.number().int(),
      packets: z.number().int(),
      seed: z.number().int(),
      created_at: at,
    }),
  },
  "campaign.packet_opened": {
    aggregate: "campaign",
    topic: TOPICS.campaign,
    // ORIGINAL SHAPE: the original claim_events fields (`amount` in minor units,
    // `ts` ISO-8601), plus `shard`, so a consumer of claim_events reads this too.
    about: "a user opened a packet (aggregate `campaign:{id}/{shard}`); ORIGINAL SHAPE of claim_events: `amount` is minor units, `ts` the time",
    data: z.object({ campaign_id: text, user_id: text, amount: cents, shard: z.number().int(), ts: at }),
    also: {
      topic: TOPICS.claimEvents,
      value: (d: { user_id: string; campaign_id: string; amount: number; ts: string }) => ({
        user_id: d.user_id,
        campaign_id: d.campaign_id,
        amount: d.amount,
        ts: d.ts,
      }),
    },
  },
  "campaign.stock_received": {
    aggregate: "campaign",
    topic: TOPICS.campaign,
    about: "a grant of packets reached a shard",
    data: z.object({ campaign_id: text, shard: z.number().int(), transfer_id: text, packets: z.number().int(), received_at: at }),
  },
  "campaign.stock_released": {
    aggregate: "campaign",
    topic: TOPICS.campaign,
    about: "a shard gave packets up for a sibling's refill",
    data: z.object({ campaign_id: text, shard: z.number().int(), transfer_id: text, packets: z.number().int(), released_at: at }),
  },
  "wallet.deposited": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    ledger: { kind: "DEPOSIT", balance: "cash", sign: 1 },
    about: "cash was deposited (posts a DEPOSIT entry)",
    data: wallet({ amount_cents: cents, ...posting }),
  },
  "wallet.withdrawn": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    ledger: { kind: "WITHDRAWAL", balance: "cash", sign: -1 },
    about: "cash was withdrawn (posts a WITHDRAWAL entry; `amount_cents` is positive, `entry.amount_cents` negative)",
    data: wallet({ amount_cents: cents, ...posting }),
  },
  "wallet.held": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    about: "cash was moved from available to held (no ledger entry)",
    data: wallet({ hold_id: text, amount_cents: cents, ref: text.nullable() }),
  },
  "wallet.captured": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    ledger: { kind: "CAPTURE", balance: "cash", sign: -1 },
    about: "a hold was captured: `amount_cents` left the balance, `released_cents` returned to available (posts a CAPTURE entry)",
    data: wallet({ hold_id: text, amount_cents: cents, released_cents: cents, ref: text.nullable(), ...posting }),
  },
  "wallet.released": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    about: "a hold was released whole (no ledger entry)",
    data: wallet({ hold_id: text, amount_cents: cents, ref: text.nullable() }),
  },
  "wallet.winnings_credited": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    ledger: { kind: "WINNINGS", balance: "cash", sign: 1 },
    about: "a won bet paid out (posts a WINNINGS entry)",
    data: wallet({ amount_cents: cents, bet_id: text, ...posting }),
  },
  "wallet.bonus_credited": {
    aggregate: "wallet",
    topic: TOPICS.wallet,
    ledger: { kind: "BONUS_CREDIT", balance: "bonus", sign: 1 },
    about: "a bonus award was credited to the bonus balance, once per award id (posts a BONUS_CREDIT entry)",
    data: wallet({ amount_cents: cents, award_id: text, ...posting }),
  },
  "bet.placed": {
    aggregate: "wallet",
    topic: TOPICS.bet,
    // ORIGINAL SHAPE: the original events.bet_placed fields first (`eventId`,
    // `ts` epoch ms, `userId`, `market`, `stake` in minor units, `currency`), so
    // a consumer of that topic reads bet.events unchanged; then ours.
    about: "a bet was placed and its stake held; ORIGINAL SHAPE of events.bet_placed first: `ts` epoch ms, `stake` minor units",
    data: z.object({
      eventId: text,
      ts: z.number().int(),
      userId: text,
      market: text,
      stake: cents,
      currency: text,
      bet_id: text,
      selection: text,
      odd_value: text,
      potential_win_cents: cents,
    }),
  },
  "bet.settled": {
    aggregate: "wallet",
    topic: TOPICS.bet,
    about: "a bet was settled WON, LOST or VOID",
    data: z.object({
      bet_id: text,
      user_id: text,
      event_id: text,
      market: text,
      selection: text,
      result: z.enum(["WON", "LOST", "VOID"]),
      stake_cents: cents,
      payout_cents: cents,
      currency: text,
      settled_at: at,
    }),
  },
  "offer.upserted": {
    aggregate: "offers",
    topic: TOPICS.offer,
    about:
      "an offer was created or changed (aggregate `offers:catalogue`); also to offers.rules as `{type: UPSERT, rule}` in the original units (src/lib/offer-rules.ts), keyed by offer id",
    data: z.object({
      offer_id: text,
      id: text,
      version: z.number().int(),
      kind: z.enum(["create", "update"]),
      made_by: text,
      catalogue_version: z.number().int(),
      changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
      name: text,
      min_stake_cents: cents,
      bonus_pct: z.number(),
      active: z.boolean(),
      max_bonus_cents: cents.nullable(),
      markets: z.array(text).nullable(),
      min_odds: z.number().nullable(),
      starts_at: at.nullable(),
      ends_at: at.nullable(),
      budget_cents: cents.nullable(),
      max_awards_per_user: z.number().int().nullable(),
      created_at: at,
      updated_at: at,
    }),
    also: { topic: TOPICS.offersRules, value: toRuleMessage, key: (d: { offer_id: string }) => d.offer_id },
  },
  "bet.qualified": {
    aggregate: "wallet",
    topic: TOPICS.bet,
    about:
      "a bet's stake window closed at or above the threshold, so the bet qualifies; also to events.bet_qualified in the ORIGINAL SHAPE (`eventId`, `userId`, `market`, `stake` minor units, `ts` epoch ms, `windowStart` epoch ms)",
    data: z.object({
      bet_key: text,
      event_id: text,
      user_id: text,
      market: text,
      stake_cents: cents,
      /** The bet's own time, ms since the epoch. */
      ts: z.number().int(),
      window_start: at,
      window_sum_cents: cents,
      threshold_cents: cents,
      qualified_at: at,
    }),
    also: {
      topic: TOPICS.betQualified,
      key: (d: { user_id: string }) => d.user_id,
      value: (d: { bet_key: string; event_id: string; user_id: string; market: string; stake_cents: number; ts: number; window_start: string }) => ({
        eventId: d.event_id,
        userId: d.user_id,
        market: d.market,
        stake: d.stake_cents,
        ts: d.ts,
        windowStart: Date.parse(d.window_start),
        betId: d.bet_key,
      }),
    },
  },
  "bet.late": {
    aggregate: "wallet",
    topic: TOPICS.bet,
    about: "a bet arrived after its window had closed: counted, never qualifying",
    data: z.object({
      bet_key: text,
      event_id: text,
      user_id: text,
      market: text,
      stake_cents: cents,
      ts: z.number().int(),
      window_start: at,
      arrived_at: at,
    }),
  },
  "offer.awarded": {
    aggregate: "wallet",
    topic: TOPICS.offer,
    about:
      "a qualified bet earned an offer's bonus, credited in the same transaction (aggregate `wallet:{user_id}`); also to events.offer_awarded in the ORIGINAL SHAPE (`awardId`, `eventId`, `userId`, `offerId`, `stake`, `bonusAmount` minor units, `ts` epoch ms of the award)",
    data: z.object({
      award_id: text,
      bet_key: text,
      event_id: text,
      user_id: text,
      offer_id: text,
      offer_version: z.number().int(),
      stake_cents: cents,
      bonus_cents: cents,
      ledger_seq: z.number().int(),
      awarded_at: at,
    }),
    also: {
      topic: TOPICS.offerAwarded,
      key: (d: { user_id: string }) => d.user_id,
      value: (d: { award_id: string; event_id: string; user_id: string; offer_id: string; stake_cents: number; bonus_cents: number; awarded_at: string }) => ({
        awardId: d.award_id,
        eventId: d.event_id,
        userId: d.user_id,
        offerId: d.offer_id,
        stake: d.stake_cents,
        bonusAmount: d.bonus_cents,
        ts: Date.parse(d.awarded_at),
      }),
    },
  },
  "odds.updated": {
    aggregate: "odds",
    topic: TOPICS.odds,
    // ORIGINAL SHAPE: the sports-bet system's odds_updates message, as applied
    // (odds are decimal strings exactly as sent; `draw` is null where there is none).
    about: "an odds update was applied (aggregate `odds:{event_id}`); ORIGINAL SHAPE of odds_updates; stale versions emit nothing",
    data: z.object({
      event_id: text,
      home_team: text,
      away_team: text,
      market: text,
      odds: z.object({ home: text, draw: text.nullable(), away: text }),
      updated_at: at,
      source: text,
      version: z.number().int(),
    }),
  },
  "bet.placed_external": {
    aggregate: "kafka",
    topic: TOPICS.betPlaced,
    // ORIGINAL SHAPE, inbound: a message of events.bet_placed as the original
    // system sent it. The archiver names it by its place in Kafka (aggregate
    // `kafka:events.bet_placed/{partition}`, seq = offset + 1); no actor emits it.
    about: "a bet placed outside rushgate, read from events.bet_placed; ORIGINAL SHAPE: `ts` epoch ms, `stake` minor units",
    data: z.looseObject({
      eventId: text,
      ts: z.union([z.number(), z.string()]),
      userId: text,
      market: text,
      stake: z.number(),
      currency: text,
    }),
  },
} as const satisfies Record<string, Spec>;

export type EventType = keyof typeof CATALOGUE;
export type EventData<T extends EventType> = z.infer<(typeof CATALOGUE)[T]["data"]>;
/** The event types an actor of aggregate kind `K` may emit. */
export type EventTypeOf<K extends AggregateKind> = {
  [T in EventType]: (typeof CATALOGUE)[T]["aggregate"] extends K ? T : never;
}[EventType];

/** An envelope whose `data` has its type's catalogued shape. */
export type TypedEnvelope<T extends EventType = EventType> = {
  [U in T]: { id: string; type: U; aggregate: string; seq: number; time: string; data: EventData<U> };
}[T];

export const isCatalogued = (type: string): type is EventType => Object.hasOwn(CATALOGUE, type);

/** Inbound topics of original systems whose messages the archive keeps, and the type each becomes. */
export const EXTERNAL_TOPICS = { [TOPICS.betPlaced]: "bet.placed_external" } as const satisfies Record<string, EventType>;

/** The wallet event types that post a ledger entry (their data has `entry`). */
export const LEDGER_EVENT_TYPES = (Object.keys(CATALOGUE) as EventType[]).filter(
  (t) => "ledger" in CATALOGUE[t],
) as LedgerEventType[];
export const ledgerOf = (type: LedgerEventType): NonNullable<Spec["ledger"]> => CATALOGUE[type].ledger;
export type LedgerEventType = {
  [T in EventType]: EventData<T> extends { entry: LedgerEntry } ? T : never;
}[EventType];

/** The Kafka messages one event becomes: its own topic, plus any original-shape copy. */
export function routesFor(type: string, data: unknown): { topic: string; value?: Record<string, unknown>; key?: string }[] {
  if (!isCatalogued(type)) return [{ topic: TOPICS.unrouted }];
  const spec: Spec = CATALOGUE[type];
  const routes: { topic: string; value?: Record<string, unknown>; key?: string }[] = [{ topic: spec.topic }];
  if (spec.also) routes.push({ topic: spec.also.topic, value: spec.also.value(data), key: spec.also.key?.(data) });
  return routes;
}

/** Why `data` does not match its type's catalogued shape, or undefined if it does (or the type is unknown). */
export function dataError(type: string, data: unknown): string | undefined {
  if (!isCatalogued(type)) return undefined;
  const parsed = CATALOGUE[type].data.safeParse(data);
  if (parsed.success) return undefined;
  return parsed.error.issues.map((i) => `${i.path.join(".") || "data"}: ${i.message}`).join("; ");
}
