/**
 * Bonus offers: their terms, how the API writes them, and the pure rules that
 * decide which offer pays a qualified bet and how much. The catalogue actor,
 * the wallet and the test oracle all use these functions, so they cannot
 * disagree.
 *
 * Fractions are stored exactly as integers: `bonus_pct` and `min_odds` have at
 * most 4 decimals, so they are kept ×10^4 (`bonus_e4`, `min_odds_e4`) and a
 * bonus is computed in integer arithmetic.
 */
import { z } from "zod";

export const MAX_CENTS = 1_000_000_000_000;
const E4 = 10_000;

/** An offer's terms as stored: every field present, optional ones null. */
export type OfferTerms = {
  name: string;
  min_stake_cents: number;
  /** bonus_pct × 10^4: 1..10,000. */
  bonus_e4: number;
  active: boolean;
  max_bonus_cents: number | null;
  markets: string[] | null;
  /** min_odds × 10^4, or null for any odds. */
  min_odds_e4: number | null;
  starts_at: string | null;
  ends_at: string | null;
  budget_cents: number | null;
  max_awards_per_user: number | null;
};

/** An offer in the catalogue: its terms plus identity. `seq` orders offers by age (ties go to the older). */
export type StoredOffer = OfferTerms & { id: string; seq: number; version: number; created_at: string; updated_at: string };

/** The fields as the HTTP API and events show them. */
export type OfferFields = Omit<OfferTerms, "bonus_e4" | "min_odds_e4"> & { bonus_pct: number; min_odds: number | null };
export type Offer = OfferFields & { id: string; version: number; created_at: string; updated_at: string };

export const FIELD_NAMES = [
  "name",
  "min_stake_cents",
  "bonus_pct",
  "active",
  "max_bonus_cents",
  "markets",
  "min_odds",
  "starts_at",
  "ends_at",
  "budget_cents",
  "max_awards_per_user",
] as const satisfies readonly (keyof OfferFields)[];

/** A decimal with at most 4 fractional digits, as an integer ×10^4; null if it has more. */
export function toE4(x: number): number | null {
  const n = Math.round(x * E4);
  return Number.isSafeInteger(n) && n / E4 === x ? n : null;
}
export const fromE4 = (n: number): number => n / E4;

export function fieldsOf(t: OfferTerms): OfferFields {
  const { bonus_e4, min_odds_e4, ...rest } = t;
  return { ...rest, bonus_pct: fromE4(bonus_e4), min_odds: min_odds_e4 === null ? null : fromE4(min_odds_e4) };
}

export const publicOffer = (o: StoredOffer): Offer => {
  const { seq: _, ...rest } = o;
  const { bonus_e4, min_odds_e4, ...fields } = rest;
  return { ...fields, bonus_pct: fromE4(bonus_e4), min_odds: min_odds_e4 === null ? null : fromE4(min_odds_e4) };
};

// ---- validation (the HTTP API and the Kafka rule mapping both end here) ----

const cents = (min: number) => z.number().int().min(min).max(MAX_CENTS, `at most ${MAX_CENTS}`);
const time = z.iso.datetime({ offset: true, message: "an ISO-8601 date-time, e.g. 2025-01-01T00:00:00Z" });
const market = z
  .string()
  .refine((s) => s.length >= 1 && s.length <= 128 && s.isWellFormed(), "1–128 characters of well-formed Unicode");

const bonusPct = z.number().refine((x) => x > 0 && x <= 1 && toE4(x) !== null, "a fraction above 0 and at most 1, with at most 4 decimals");
const minOdds = z.number().refine((x) => x > 1 && x <= 1000 && toE4(x) !== null, "decimal odds above 1 and at most 1000, with at most 4 decimals");

/** Every field, each optional: a PUT keeps what it leaves out; null clears an optional field. */
export const offerPatch = z.strictObject({
  name: market.optional(),
  min_stake_cents: cents(0).optional(),
  bonus_pct: bonusPct.optional(),
  active: z.boolean().optional(),
  max_bonus_cents: cents(1).nullable().optional(),
  markets: z
    .array(market)
    .min(1, "at least one market (null for any)")
    .max(100, "at most 100 markets")
    .refine((m) => new Set(m).size === m.length, "no duplicates")
    .nullable()
    .optional(),
  min_odds: minOdds.nullable().optional(),
  starts_at: time.nullable().optional(),
  ends_at: time.nullable().optional(),
  budget_cents: cents(1).nullable().optional(),
  max_awards_per_user: z.number().int().min(1).max(1_000_000).nullable().optional(),
});
export type OfferPatch = z.infer<typeof offerPatch>;

/** A new offer needs a name, a minimum stake and a bonus; `active` defaults to true. */
export const offerCreate = offerPatch.required({ name: true, min_stake_cents: true, bonus_pct: true });

const EMPTY: OfferTerms = {
  name: "",
  min_stake_cents: 0,
  bonus_e4: E4,
  active: true,
  max_bonus_cents: null,
  markets: null,
  min_odds_e4: null,
  starts_at: null,
  ends_at: null,
  budget_cents: null,
  max_awards_per_user: null,
};

const iso = (t: string | null | undefined) => (t == null ? t : new Date(t).toISOString());

/**
 * The terms after applying a validated patch to `base` (a new offer when
 * undefined), or an error naming the field when the result is inconsistent.
 */
export function applyPatch(base: OfferTerms | undefined, p: OfferPatch): { ok: true; terms: OfferTerms } | { ok: false; message: string } {
  const t: OfferTerms = { ...(base ?? EMPTY), markets: base?.markets ? [...base.markets] : null };
  if (p.name !== undefined) t.name = p.name;
  if (p.min_stake_cents !== undefined) t.min_stake_cents = p.min_stake_cents;
  if (p.bonus_pct !== undefined) t.bonus_e4 = toE4(p.bonus_pct)!;
  if (p.active !== undefined) t.active = p.active;
  if (p.max_bonus_cents !== undefined) t.max_bonus_cents = p.max_bonus_cents;
  if (p.markets !== undefined) t.markets = p.markets && [...p.markets];
  if (p.min_odds !== undefined) t.min_odds_e4 = p.min_odds === null ? null : toE4(p.min_odds)!;
  if (p.starts_at !== undefined) t.starts_at = iso(p.starts_at)!;
  if (p.ends_at !== undefined) t.ends_at = iso(p.ends_at)!;
  if (p.budget_cents !== undefined) t.budget_cents = p.budget_cents;
  if (p.max_awards_per_user !== undefined) t.max_awards_per_user = p.max_awards_per_user;
  if (t.starts_at && t.ends_at && Date.parse(t.ends_at) <= Date.parse(t.starts_at)) {
    return { ok: false, message: "ends_at: must be after starts_at" };
  }
  return { ok: true, terms: t };
}

/** What changed between two versions, field by field, in API units (every field for a new offer). */
export function changesBetween(before: OfferTerms | undefined, after: OfferTerms): Record<string, { from: unknown; to: unknown }> {
  const a = before ? fieldsOf(before) : undefined;
  const b = fieldsOf(after);
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const f of FIELD_NAMES) {
    const from = a ? a[f] : null;
    if (JSON.stringify(from) !== JSON.stringify(b[f]) || !a) changes[f] = { from, to: b[f] };
  }
  return changes;
}

// ---- the award rules ----

/** What an offer needs to know about a bet. `odds_e4` is the decimal odds ×10^4; `at` is the bet's time (ms). */
export type BetFacts = { stake_cents: number; market: string; odds_e4: number; at: number };

/** Whether the offer's terms allow the bet (budget aside: that is the budget object's answer). */
export function allows(o: OfferTerms, bet: BetFacts): boolean {
  if (!o.active) return false;
  if (bet.stake_cents < o.min_stake_cents) return false;
  if (o.markets && !o.markets.includes(bet.market)) return false;
  if (o.min_odds_e4 !== null && bet.odds_e4 < o.min_odds_e4) return false;
  if (o.starts_at && bet.at < Date.parse(o.starts_at)) return false;
  if (o.ends_at && bet.at >= Date.parse(o.ends_at)) return false;
  return bonusFor(o, bet.stake_cents) > 0;
}

/** floor(stake × bonus_pct), capped by max_bonus_cents; exact (stake ≤ 10^12, bonus_e4 ≤ 10^4 fit a double). */
export function bonusFor(o: Pick<OfferTerms, "bonus_e4" | "max_bonus_cents">, stake: number): number {
  const raw = Math.floor((stake * o.bonus_e4) / E4);
  return o.max_bonus_cents === null ? raw : Math.min(raw, o.max_bonus_cents);
}

/**
 * The offers that allow the bet, best first: the larger bonus wins and a tie
 * goes to the older offer. The caller walks this list until one has budget.
 */
export function rankOffers<O extends OfferTerms & { seq: number }>(offers: readonly O[], bet: BetFacts): { offer: O; bonus: number }[] {
  return offers
    .filter((o) => allows(o, bet))
    .map((offer) => ({ offer, bonus: bonusFor(offer, bet.stake_cents) }))
    .sort((a, b) => b.bonus - a.bonus || a.offer.seq - b.offer.seq);
}
