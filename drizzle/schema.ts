/**
 * The Postgres archive (DESIGN.md, "Events"). `events` holds every envelope and
 * is the source of truth; the other tables are typed projections of it for
 * the queries people run. Typed rows are keyed by the event that made them
 * (bets by bet_id), so replaying events never duplicates a row.
 *
 * After changing this file: `npm run db:generate`, and commit drizzle/migrations.
 */
import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const int8 = (name: string) => bigint(name, { mode: "number" });

export const events = pgTable(
  "events",
  {
    event_id: text().primaryKey(),
    type: text().notNull(),
    aggregate: text().notNull(),
    seq: int8("seq").notNull(),
    occurred_at: at("occurred_at").notNull(),
    data: jsonb().notNull(),
    archived_at: at("archived_at").notNull().defaultNow(),
  },
  (t) => [index("events_aggregate_seq").on(t.aggregate, t.seq), index("events_type_occurred_at").on(t.type, t.occurred_at)],
);

/** `coupon.claimed` */
export const couponClaims = pgTable(
  "coupon_claims",
  {
    event_id: text().primaryKey(),
    coupon_name: text(),
    user_id: text(),
    remaining_amount: int8("remaining_amount"),
    claimed_at: at("claimed_at").notNull(),
  },
  (t) => [index("coupon_claims_coupon_user").on(t.coupon_name, t.user_id), index("coupon_claims_user").on(t.user_id)],
);

/** `campaign.packet_opened` (red-packet openings). */
export const claimLog = pgTable(
  "claim_log",
  {
    event_id: text().primaryKey(),
    campaign_id: text(),
    user_id: text(),
    amount: int8("amount"),
    shard: int8("shard"),
    ts: at("ts").notNull(),
  },
  (t) => [index("claim_log_campaign_ts").on(t.campaign_id, t.ts), index("claim_log_user").on(t.user_id)],
);

/**
 * The wallet ledger, row for row as `GET /api/wallets/{user}/ledger` shows it:
 * one row per wallet event that posted an entry (deposited, withdrawn,
 * captured, winnings_credited, bonus_credited; see LEDGER_EVENT_TYPES).
 * `entry_id` is the entry's `id`, `ledger_seq` its `seq`, `kind` its kind
 * (DEPOSIT…), `amount_cents` signed (a withdrawal is negative).
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    event_id: text().primaryKey(),
    user_id: text(),
    /** NULL only for rows archived before migration 0001 (the wallet did not emit it then). */
    entry_id: text(),
    kind: text().notNull(),
    amount_cents: int8("amount_cents"),
    balance_after_cents: int8("balance_after_cents"),
    ref: text(),
    created_at: at("created_at").notNull(),
    ledger_seq: int8("ledger_seq"),
    /** `cash` or `bonus`. */
    balance: text(),
  },
  (t) => [index("ledger_entries_user_created_at").on(t.user_id, t.created_at), index("ledger_entries_ref").on(t.ref)],
);

/** One row per bet: `bet.placed` inserts it, `bet.settled` sets status/result/payout. */
export const bets = pgTable(
  "bets",
  {
    bet_id: text().primaryKey(),
    user_id: text(),
    /** The original bets topic's `eventId` (the sporting event), when present. */
    event_ref: text(),
    market: text(),
    selection: text(),
    stake_cents: int8("stake_cents"),
    currency: text(),
    odd_value: text(),
    potential_win_cents: int8("potential_win_cents"),
    status: text().notNull(),
    result: text(),
    payout_cents: int8("payout_cents"),
    placed_at: at("placed_at"),
    settled_at: at("settled_at"),
    placed_event_id: text(),
    settled_event_id: text(),
  },
  (t) => [index("bets_user_placed_at").on(t.user_id, t.placed_at), index("bets_market").on(t.market)],
);

/** One row per offer award (`offer.awarded`): exactly the awards credited in wallets. */
export const offerAwards = pgTable(
  "offer_awards",
  {
    award_id: text().primaryKey(),
    event_id: text().notNull(),
    user_id: text(),
    offer_id: text(),
    offer_version: int8("offer_version"),
    bet_key: text(),
    /** The bet's `eventId` (the sporting event), as the original topic names it. */
    event_ref: text(),
    stake_cents: int8("stake_cents"),
    bonus_cents: int8("bonus_cents"),
    ledger_seq: int8("ledger_seq"),
    awarded_at: at("awarded_at").notNull(),
  },
  (t) => [index("offer_awards_user_awarded_at").on(t.user_id, t.awarded_at), index("offer_awards_offer").on(t.offer_id)],
);

/** One row per qualified bet (`bet.qualified`). */
export const betQualifications = pgTable(
  "bet_qualifications",
  {
    event_id: text().primaryKey(),
    user_id: text(),
    bet_key: text(),
    event_ref: text(),
    market: text(),
    stake_cents: int8("stake_cents"),
    bet_ts: at("bet_ts"),
    window_start: at("window_start"),
    window_sum_cents: int8("window_sum_cents"),
    qualified_at: at("qualified_at").notNull(),
  },
  (t) => [index("bet_qualifications_user_window").on(t.user_id, t.window_start)],
);
