// The sports-bet system's odds message, as both `POST /api/odds` and the Kafka
// topic `odds_updates` carry it. Shared by the HTTP route and the bridge ingest.
import { z } from "zod";

/** An event id names an actor and appears in URLs, so it is a plain token. */
export const oddsEventId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1–64 letters, digits, _ . : or -");

const DECIMAL = /^\d{1,4}(?:\.\d{1,4})?$/;

/**
 * Decimal odds, kept as the exact text that was sent (a JSON number becomes its
 * shortest decimal text, which is the literal's value). Above 1, at most 1000,
 * at most 4 decimals: the same range a bet's `odd_value` accepts.
 */
export const decimalOdds = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = typeof v === "number" ? String(v) : v;
  const ticks = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(ticks > 1 && ticks <= 1000)) {
    ctx.addIssue({ code: "custom", message: "decimal odds above 1 and at most 1000, with at most 4 decimals" });
    return z.NEVER;
  }
  return text;
});

const name = z.string().refine((s) => s.length >= 1 && s.length <= 128 && s.isWellFormed(), "1–128 characters");

/** The message. Not strict: the producer is another system, which may add fields; only these are kept. */
export const oddsMessage = z.object({
  event_id: oddsEventId,
  home_team: name,
  away_team: name,
  market: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "1–64 letters, digits, _ . : or -"),
  odds: z.object({ home: decimalOdds, draw: decimalOdds.nullable(), away: decimalOdds }),
  updated_at: z.iso.datetime({ offset: true, message: "an ISO-8601 date-time" }),
  source: name,
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type OddsMessage = z.output<typeof oddsMessage>;

/** What an odds actor answers to an update. */
export type OddsOutcome =
  | { status: "APPLIED"; event_id: string; market: string; version: number }
  | { status: "STALE"; event_id: string; market: string; version: number; current_version: number };

/** One market's current odds, exactly as sent. */
export type MarketOdds = {
  market: string;
  odds: { home: string; draw: string | null; away: string };
  version: number;
  updated_at: string;
  source: string;
};

export type EventSummary = { event_id: string; home_team: string; away_team: string; first_seen_at: string };

export type EventOdds = {
  event_id: string;
  home_team: string;
  away_team: string;
  markets: MarketOdds[];
  /** Updates ignored because their version was not above the stored one. */
  stale_ignored: number;
};
