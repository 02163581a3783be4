// The stake-gate and award oracle, written from the engine's documented rules
// (issue 9, docs/offers.md), not from its code:
// - Windows are [k·W, (k+1)·W) of the bet's own time, per user. A window closes
//   at its end plus the allowed lateness; a bet arriving at or after its
//   window's close is late: listed, never summed, never qualifying.
// - A bet (user, key) counts once, however often it arrives.
// - At the close, a window whose on-time stake sum ≥ the threshold qualifies
//   every on-time bet in it.
// - A qualified bet earns the best matching offer's bonus: matching = active at
//   the bet's time, stake ≥ min stake, market and odds allowed (unknown odds
//   never meet a minimum), budget left; bonus = floor(stake × pct) capped by
//   max_bonus; the larger bonus wins, a tie goes to the older offer. A bonus of
//   0 is no award. An exhausted budget (or a user's award limit) passes the bet
//   to the next-best offer.
// Budgets are spent in whatever order windows close across wallets, so the
// oracle cannot say which bet got the last of a budget; it checks instead that
// each award (or its absence) is justified by the final spend (see judge()).

export type GateConfig = { windowMs: number; latenessMs: number; minWindowStakeCents: number };

export type OfferTerms = {
  id: string;
  /** Age order: lower is older. */
  seq: number;
  active: boolean;
  min_stake_cents: number;
  /** bonus_pct × 10^4. */
  bonus_e4: number;
  max_bonus_cents: number | null;
  markets: string[] | null;
  min_odds_e4: number | null;
  starts_at: number | null;
  ends_at: number | null;
  budget_cents: number | null;
  max_awards_per_user: number | null;
};

export type GateBet = {
  user: string;
  /** Unique per user: the bet id, or an inbound bet's event id. */
  key: string;
  stake_cents: number;
  market: string;
  odds_e4: number | null;
  /** Event time, ms. */
  ts: number;
  /** The wallet's clock when the bet arrived, ms. */
  arrived: number;
};

export type Window = { user: string; start: number; sum_cents: number; state: "qualified" | "not_qualified"; bets: string[]; late: string[] };
export type Candidate = { offer_id: string; bonus_cents: number };
export type Expected = { windows: Window[]; qualified: { bet: GateBet; candidates: Candidate[] }[] };

export const windowStart = (ts: number, c: GateConfig) => Math.floor(ts / c.windowMs) * c.windowMs;
export const closesAt = (start: number, c: GateConfig) => start + c.windowMs + c.latenessMs;

/** Decimal odds text as an integer ×10^4, or null. */
export function e4(odds: string | number): number | null {
  const m = /^(\d{1,4})(?:\.(\d{1,4}))?$/.exec(String(odds));
  return m ? Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0")) : null;
}

/** The offers that would pay this bet, best first. */
export function candidates(offers: readonly OfferTerms[], bet: GateBet): Candidate[] {
  const out: (Candidate & { seq: number })[] = [];
  for (const o of offers) {
    if (!o.active) continue;
    if (o.starts_at !== null && bet.ts < o.starts_at) continue;
    if (o.ends_at !== null && bet.ts >= o.ends_at) continue;
    if (bet.stake_cents < o.min_stake_cents) continue;
    if (o.markets && !o.markets.includes(bet.market)) continue;
    if (o.min_odds_e4 !== null && (bet.odds_e4 === null || bet.odds_e4 < o.min_odds_e4)) continue;
    let bonus = Math.floor((bet.stake_cents * o.bonus_e4) / 10_000);
    if (o.max_bonus_cents !== null) bonus = Math.min(bonus, o.max_bonus_cents);
    if (bonus <= 0) continue;
    out.push({ offer_id: o.id, bonus_cents: bonus, seq: o.seq });
  }
  return out.sort((a, b) => b.bonus_cents - a.bonus_cents || a.seq - b.seq).map(({ offer_id, bonus_cents }) => ({ offer_id, bonus_cents }));
}

/** Every window and every qualified bet with its candidates, once all windows have closed. */
export function expected(bets: readonly GateBet[], offers: readonly OfferTerms[], c: GateConfig): Expected {
  const seen = new Set<string>();
  const byWindow = new Map<string, { w: Window; onTime: GateBet[] }>();
  for (const bet of [...bets].sort((a, b) => a.arrived - b.arrived)) {
    const id = `${bet.user}\u0000${bet.key}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const start = windowStart(bet.ts, c);
    const k = `${bet.user}\u0000${start}`;
    let entry = byWindow.get(k);
    if (!entry) byWindow.set(k, (entry = { w: { user: bet.user, start, sum_cents: 0, state: "not_qualified", bets: [], late: [] }, onTime: [] }));
    if (bet.arrived >= closesAt(start, c)) entry.w.late.push(bet.key);
    else {
      entry.w.sum_cents += bet.stake_cents;
      entry.w.bets.push(bet.key);
      entry.onTime.push(bet);
    }
  }
  const out: Expected = { windows: [], qualified: [] };
  for (const { w, onTime } of byWindow.values()) {
    if (w.bets.length && w.sum_cents >= c.minWindowStakeCents) {
      w.state = "qualified";
      for (const bet of onTime) out.qualified.push({ bet, candidates: candidates(offers, bet) });
    }
    out.windows.push(w);
  }
  return out;
}

export type ActualAward = { award_id: string; user: string; bet: string; offer_id: string; bonus_cents: number };
export type Verdict = { phantom: string[]; missing: string[]; wrong: string[]; budgets: string[]; matched: number; expectedAwards: number };

/**
 * Compares the awards rushgate made with the expected qualifications:
 * - phantom: an award for a bet that did not qualify, or a second award for one bet;
 * - wrong: an award from an offer that does not match, with another bonus, or
 *   one that passed over a better offer that still had room;
 * - missing: no award for a qualified bet with a candidate that had room.
 * "Had room" is judged by the final spend: a budget spends only upwards, so an
 * offer whose final spend + this bonus fits its budget had room all along.
 */
export function judge(exp: Expected, actual: readonly ActualAward[], offers: readonly OfferTerms[], reserved?: Map<string, number>): Verdict {
  const v: Verdict = { phantom: [], missing: [], wrong: [], budgets: [], matched: 0, expectedAwards: 0 };
  const terms = new Map(offers.map((o) => [o.id, o]));
  const spent = new Map<string, number>();
  const perUser = new Map<string, number>();
  const byBet = new Map<string, ActualAward[]>();
  for (const a of actual) {
    spent.set(a.offer_id, (spent.get(a.offer_id) ?? 0) + a.bonus_cents);
    perUser.set(`${a.offer_id}\u0000${a.user}`, (perUser.get(`${a.offer_id}\u0000${a.user}`) ?? 0) + 1);
    const k = `${a.user}\u0000${a.bet}`;
    byBet.set(k, [...(byBet.get(k) ?? []), a]);
  }
  const final = (offer: string) => Math.max(spent.get(offer) ?? 0, reserved?.get(offer) ?? 0);
  const hadRoom = (c: Candidate, user: string) => {
    const o = terms.get(c.offer_id)!;
    const budgetOk = o.budget_cents === null || final(c.offer_id) + c.bonus_cents <= o.budget_cents;
    const userOk = o.max_awards_per_user === null || (perUser.get(`${c.offer_id}\u0000${user}`) ?? 0) < o.max_awards_per_user;
    return budgetOk && userOk;
  };
  const label = (user: string, bet: string) => `${user} bet ${bet}`;

  for (const { bet, candidates: cands } of exp.qualified) {
    const k = `${bet.user}\u0000${bet.key}`;
    const got = byBet.get(k) ?? [];
    byBet.delete(k);
    if (cands.length) v.expectedAwards++;
    for (const extra of got.slice(1)) v.phantom.push(`${label(bet.user, bet.key)}: a second award ${extra.award_id}`);
    const a = got[0];
    if (!a) {
      const roomy = cands.find((c) => hadRoom(c, bet.user));
      if (roomy) v.missing.push(`${label(bet.user, bet.key)}: no award, expected ${roomy.offer_id} ${roomy.bonus_cents}`);
      continue;
    }
    const i = cands.findIndex((c) => c.offer_id === a.offer_id);
    if (i < 0) {
      v.wrong.push(`${label(bet.user, bet.key)}: award from ${a.offer_id}, which does not match (expected ${cands[0]?.offer_id ?? "none"})`);
      continue;
    }
    if (cands[i]!.bonus_cents !== a.bonus_cents) {
      v.wrong.push(`${label(bet.user, bet.key)}: bonus ${a.bonus_cents} from ${a.offer_id}, expected ${cands[i]!.bonus_cents}`);
      continue;
    }
    const skipped = cands.slice(0, i).find((c) => hadRoom(c, bet.user));
    if (skipped) v.wrong.push(`${label(bet.user, bet.key)}: award from ${a.offer_id}, but ${skipped.offer_id} (${skipped.bonus_cents}) ranks higher and had room`);
    else v.matched++;
  }
  for (const rest of byBet.values()) for (const a of rest) v.phantom.push(`${label(a.user, a.bet)}: award ${a.award_id} for a bet that did not qualify`);
  for (const o of offers) {
    if (o.budget_cents !== null && final(o.id) > o.budget_cents) v.budgets.push(`${o.id}: spent ${final(o.id)} of a budget of ${o.budget_cents}`);
    if (o.max_awards_per_user !== null) {
      for (const [k, n] of perUser) if (k.startsWith(`${o.id}\u0000`) && n > o.max_awards_per_user) v.budgets.push(`${o.id}: ${n} awards to ${k.split("\u0000")[1]} (limit ${o.max_awards_per_user})`);
    }
  }
  return v;
}
