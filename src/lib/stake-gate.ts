/**
 * The stake gate's rules, as pure functions: event-time tumbling windows per
 * user, when they close, and when a bet is late or too far in the future. The
 * wallet applies them; the test oracle uses the same ones.
 *
 * A window is `[k·W, (k+1)·W)` of event time (the bet's own timestamp). It
 * closes at its end plus the allowed lateness, by the wallet object's clock. A
 * bet that arrives at or after its window's close is late: counted, reported,
 * never qualifying. Lateness is decided by the object's clock at arrival, so
 * whether a bet is late never depends on when an alarm happened to run.
 */

export type GateConfig = {
  windowMs: number;
  latenessMs: number;
  minWindowStakeCents: number;
  maxSkewMs: number;
};

const positiveInt = (raw: unknown, fallback: number, min = 0): number => {
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n >= min ? n : fallback;
};

/** From the Worker's vars: WINDOW_SECONDS (120), ALLOWED_LATENESS_SECONDS (10), MIN_WINDOW_STAKE_CENTS (5000), MAX_CLOCK_SKEW_SECONDS (30). */
type GateVars = { WINDOW_SECONDS?: string; ALLOWED_LATENESS_SECONDS?: string; MIN_WINDOW_STAKE_CENTS?: string; MAX_CLOCK_SKEW_SECONDS?: string };
export function gateConfig(env: GateVars): GateConfig {
  return {
    windowMs: positiveInt(env.WINDOW_SECONDS, 120, 1) * 1000,
    latenessMs: positiveInt(env.ALLOWED_LATENESS_SECONDS, 10) * 1000,
    minWindowStakeCents: positiveInt(env.MIN_WINDOW_STAKE_CENTS, 5000, 1),
    maxSkewMs: positiveInt(env.MAX_CLOCK_SKEW_SECONDS, 30) * 1000,
  };
}

export const windowStart = (tsMs: number, c: GateConfig): number => Math.floor(tsMs / c.windowMs) * c.windowMs;
export const closeAt = (start: number, c: GateConfig): number => start + c.windowMs + c.latenessMs;

export type Arrival = "ON_TIME" | "LATE" | "TOO_FAR_AHEAD";

/** How a bet with event time `tsMs` arriving at object time `nowMs` enters the gate. */
export function arrival(tsMs: number, nowMs: number, c: GateConfig): Arrival {
  if (tsMs > nowMs + c.maxSkewMs) return "TOO_FAR_AHEAD";
  return nowMs >= closeAt(windowStart(tsMs, c), c) ? "LATE" : "ON_TIME";
}

/** A window qualifies when its on-time stake sum reaches the threshold. */
export const qualifies = (sumCents: number, c: GateConfig): boolean => sumCents >= c.minWindowStakeCents;

/**
 * The award id of a bet and an offer: deterministic, so no replay, retry or
 * second close can make a second award for the pair. `betKey` is unique per
 * user (a bet id, or an inbound bet's event id), so the user is hashed in too:
 * `aw_` + 40 hex digits of SHA-256 (160 bits), short enough for every store.
 */
export async function awardId(userId: string, betKey: string, offerId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify([userId, betKey, offerId])));
  return `aw_${[...new Uint8Array(digest).slice(0, 20)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Decimal odds text ("2.5") as an integer ×10^4, or null. */
export function oddsE4(odds: string | number): number | null {
  const m = /^(\d{1,4})(?:\.(\d{1,4}))?$/.exec(String(odds));
  if (!m) return null;
  return Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"));
}
