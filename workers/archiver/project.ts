/**
 * Typed projections: event type → typed row, reading each event's fields as
 * the event catalogue (src/lib/events.ts) defines them. The `events` table keeps every
 * envelope whole, so these mappings are tolerant (a missing field becomes
 * null, a missing time falls back to the envelope's) and easy to change:
 * rebuild a table from `events` after changing its mapping.
 */
import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTable } from "drizzle-orm/pg-core";
import type { Envelope, Json } from "../../src/lib/envelope.ts";
import type * as schema from "../../drizzle/schema.ts";
import {
  LEDGER_EVENT_TYPES,
  ledgerOf,
  type EventData,
  type EventType,
  type LedgerEntry,
  type LedgerEventType,
} from "../../src/lib/events.ts";
import { betQualifications, bets, claimLog, couponClaims, ledgerEntries, offerAwards } from "../../drizzle/schema.ts";

export type ArchiveDb = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction on the archive (what `db.transaction` hands its callback). */
export type ArchiveTx = Parameters<Parameters<ArchiveDb["transaction"]>[0]>[0];

/** Postgres allows at most 65,535 bind parameters per statement. */
const MAX_PARAMS = 65_535;

/** Splits rows so that one multi-row INSERT into `table` stays under the bind-parameter limit. */
export function chunksFor<T>(table: PgTable, rows: T[]): T[][] {
  const perRow = Object.keys(getTableColumns(table)).length;
  const size = Math.max(1, Math.floor(MAX_PARAMS / perRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * An event's data, typed by the catalogue (src/lib/events.ts): reading a field
 * the catalogue does not have is a compile error. Partial, because archived
 * events may predate a field.
 */
const fields = <T extends EventType>(e: Envelope, _type: T): Partial<EventData<T>> =>
  e.data !== null && typeof e.data === "object" && !Array.isArray(e.data) ? (e.data as Partial<EventData<T>>) : {};

type Value = Json | undefined;
const str = (...vs: Value[]): string | null => {
  for (const v of vs) if (typeof v === "string" || typeof v === "number") return String(v);
  return null;
};
/** The first finite number; numeric strings accepted. */
const num = (...vs: Value[]): number | null => {
  for (const v of vs) {
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n === "number" && Number.isFinite(n)) return n;
  }
  return null;
};
/** An integer (money in minor units, counts). */
const int = (...vs: Value[]): number | null => {
  const n = num(...vs);
  return n === null ? null : Math.round(n);
};
/** ISO string, or epoch seconds/milliseconds; falls back to the envelope's time. */
const time = (e: Envelope, ...vs: Value[]): Date => {
  for (const v of vs) {
    const ms = typeof v === "number" ? (v < 1e11 ? v * 1000 : v) : typeof v === "string" ? Date.parse(v) : NaN;
    if (Number.isFinite(ms)) return new Date(ms);
  }
  return new Date(e.time);
};
/** `coupon:PROMO` → `PROMO` when the aggregate has the given kind. */
const aggregateId = (e: Envelope, kind: string): string | null =>
  e.aggregate.startsWith(`${kind}:`) ? e.aggregate.slice(kind.length + 1) : null;

export const toCouponClaim = (e: Envelope): typeof couponClaims.$inferInsert => {
  const d = fields(e, "coupon.claimed");
  return {
    event_id: e.id,
    coupon_name: str(d.coupon_name) ?? aggregateId(e, "coupon"),
    user_id: str(d.user_id),
    remaining_amount: int(d.remaining_amount),
    claimed_at: time(e, d.claimed_at),
  };
};

export const toClaimLog = (e: Envelope): typeof claimLog.$inferInsert => {
  const d = fields(e, "campaign.packet_opened");
  return {
    event_id: e.id,
    campaign_id: str(d.campaign_id),
    user_id: str(d.user_id),
    amount: int(d.amount),
    shard: int(d.shard),
    ts: time(e, d.ts),
  };
};

const isLedgerEvent = (type: string): type is LedgerEventType => (LEDGER_EVENT_TYPES as string[]).includes(type);

/**
 * The ledger entry a wallet event posted, as the ledger API shows it. Events
 * archived before the wallet emitted `entry` are described by the catalogue's
 * `ledger` (kind, balance, sign); their entry id is unknown.
 */
export const toLedgerEntry = (e: Envelope & { type: LedgerEventType }): typeof ledgerEntries.$inferInsert => {
  const d = fields(e, e.type);
  const entry: Partial<LedgerEntry> = d.entry ?? {};
  const legacy = ledgerOf(e.type);
  const legacyRef = "ref" in d ? d.ref : "bet_id" in d ? d.bet_id : undefined;
  return {
    event_id: e.id,
    user_id: str(d.user_id) ?? aggregateId(e, "wallet"),
    entry_id: str(entry.id),
    ledger_seq: int(entry.seq, d.ledger_seq),
    kind: entry.kind ?? legacy.kind,
    balance: entry.balance ?? legacy.balance,
    amount_cents: int(entry.amount_cents) ?? (d.amount_cents === undefined ? null : legacy.sign * Math.abs(d.amount_cents)),
    balance_after_cents: int(
      entry.balance_after_cents,
      legacy.balance === "bonus" ? d.bonus_posted_cents : d.cash_posted_cents,
    ),
    ref: entry.id ? (entry.ref ?? null) : str(legacyRef),
    created_at: time(e, entry.created_at),
  };
};

export const toOfferAward = (e: Envelope): typeof offerAwards.$inferInsert => {
  const d = fields(e, "offer.awarded");
  return {
    award_id: str(d.award_id) ?? e.id,
    event_id: e.id,
    user_id: str(d.user_id) ?? aggregateId(e, "wallet"),
    offer_id: str(d.offer_id),
    offer_version: int(d.offer_version),
    bet_key: str(d.bet_key),
    event_ref: str(d.event_id),
    stake_cents: int(d.stake_cents),
    bonus_cents: int(d.bonus_cents),
    ledger_seq: int(d.ledger_seq),
    awarded_at: time(e, d.awarded_at),
  };
};

export const toBetQualification = (e: Envelope): typeof betQualifications.$inferInsert => {
  const d = fields(e, "bet.qualified");
  return {
    event_id: e.id,
    user_id: str(d.user_id) ?? aggregateId(e, "wallet"),
    bet_key: str(d.bet_key),
    event_ref: str(d.event_id),
    market: str(d.market),
    stake_cents: int(d.stake_cents),
    bet_ts: time(e, d.ts),
    window_start: time(e, d.window_start),
    window_sum_cents: int(d.window_sum_cents),
    qualified_at: time(e, d.qualified_at),
  };
};

/** bet.placed keeps the original events.bet_placed field names (`stake` in minor units, `ts` epoch ms). */
export const toPlacedBet = (e: Envelope): typeof bets.$inferInsert => {
  const d = fields(e, "bet.placed");
  return {
    bet_id: str(d.bet_id) ?? e.id,
    user_id: str(d.userId) ?? aggregateId(e, "wallet"),
    event_ref: str(d.eventId),
    market: str(d.market),
    selection: str(d.selection),
    stake_cents: int(d.stake),
    currency: str(d.currency),
    odd_value: str(d.odd_value),
    potential_win_cents: int(d.potential_win_cents),
    status: "placed",
    placed_at: time(e, d.ts),
    placed_event_id: e.id,
  };
};

export const toSettledBet = (e: Envelope): typeof bets.$inferInsert => {
  const d = fields(e, "bet.settled");
  return {
    bet_id: str(d.bet_id) ?? e.id,
    user_id: str(d.user_id) ?? aggregateId(e, "wallet"),
    status: "settled",
    result: str(d.result),
    payout_cents: int(d.payout_cents),
    settled_at: time(e, d.settled_at),
    settled_event_id: e.id,
  };
};

const excluded = (column: string): SQL => sql.raw(`excluded."${column}"`);
const fromExcluded = (columns: string[]): Record<string, SQL> =>
  Object.fromEntries(columns.map((c) => [c, excluded(c)]));
/** One row per key, the last one winning (a multi-row upsert may not touch a row twice). */
const lastByKey = <T>(rows: T[], key: (row: T) => string): T[] => [...new Map(rows.map((r) => [key(r), r])).values()];

/**
 * Writes the typed rows for events that were just inserted into `events`
 * (never for replays, so nothing is applied twice). Other types stay in `events` only.
 */
export async function project(tx: ArchiveTx, fresh: Envelope[]): Promise<void> {
  const of = (type: string) => fresh.filter((e) => e.type === type);
  const ledger = fresh.filter((e): e is Envelope & { type: LedgerEventType } => isLedgerEvent(e.type));
  const inserts: [PgTable, Record<string, unknown>[]][] = [
    [couponClaims, of("coupon.claimed").map(toCouponClaim)],
    [claimLog, of("campaign.packet_opened").map(toClaimLog)],
    [ledgerEntries, ledger.map(toLedgerEntry)],
    [offerAwards, of("offer.awarded").map(toOfferAward)],
    [betQualifications, of("bet.qualified").map(toBetQualification)],
  ];
  for (const [table, rows] of inserts) {
    for (const part of chunksFor(table, rows)) await tx.insert(table).values(part).onConflictDoNothing();
  }

  // A settlement may arrive before its placement (it then creates the row);
  // placement never resets status, and settling twice writes the same values.
  const placed = lastByKey(of("bet.placed").map(toPlacedBet), (b) => b.bet_id);
  for (const part of chunksFor(bets, placed)) {
    await tx
      .insert(bets)
      .values(part)
      .onConflictDoUpdate({
        target: bets.bet_id,
        set: {
          ...fromExcluded(["event_ref", "market", "selection", "stake_cents", "currency", "odd_value"]),
          ...fromExcluded(["potential_win_cents", "placed_at", "placed_event_id"]),
          user_id: sql`coalesce(${excluded("user_id")}, ${bets.user_id})`,
        },
      });
  }
  const settled = lastByKey(of("bet.settled").map(toSettledBet), (b) => b.bet_id);
  for (const part of chunksFor(bets, settled)) {
    await tx
      .insert(bets)
      .values(part)
      .onConflictDoUpdate({
        target: bets.bet_id,
        set: {
          ...fromExcluded(["status", "result", "payout_cents", "settled_at", "settled_event_id"]),
          user_id: sql`coalesce(${bets.user_id}, ${excluded("user_id")})`,
        },
      });
  }
}
