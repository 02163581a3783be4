// The oracle for the offers engine: a pure function of the bet stream and the
// offer history that gives the expected windows, qualifications and awards. It
// shares only the documented rules (src/lib/offers.ts, src/lib/stake-gate.ts)
// with the implementation, none of its state handling.
import { rankOffers, type StoredOffer } from "../../src/lib/offers";
import { arrival, awardId, closeAt, qualifies, windowStart, type GateConfig } from "../../src/lib/stake-gate";

export type OracleBet = { user: string; key: string; stake: number; market: string; odds_e4: number | null; ts: number };

/** What happens, in order. `advance` moves the clock and closes what is due, user by user (sorted), each user's windows oldest first. */
export type Step =
  | { kind: "bet"; at: number; bet: OracleBet }
  | { kind: "offers"; at: number; active: StoredOffer[] }
  | { kind: "advance"; to: number };

export type Award = { award_id: string; user: string; bet_key: string; offer_id: string; bonus_cents: number };
export type WindowResult = { user: string; start: number; sum_cents: number; state: "open" | "qualified" | "not_qualified"; bets: string[]; late: string[] };

export async function oracle(steps: Step[], c: GateConfig) {
  const seen = new Set<string>(); // user + bet key
  const windows = new Map<string, WindowResult>(); // `${user} ${start}`
  const betsOf = new Map<string, OracleBet[]>(); // on-time bets per window, in arrival order
  let active: StoredOffer[] = [];
  const reserved = new Map<string, number>();
  const perUser = new Map<string, number>(); // `${offer} ${user}`
  const awards: Award[] = [];
  const qualified: string[] = [];
  const rejected: string[] = [];

  const windowOf = (user: string, start: number) => {
    const id = `${user} ${start}`;
    let w = windows.get(id);
    if (!w) windows.set(id, (w = { user, start, sum_cents: 0, state: "open", bets: [], late: [] }));
    return w;
  };

  async function close(w: WindowResult) {
    w.state = qualifies(w.sum_cents, c) ? "qualified" : "not_qualified";
    if (w.state !== "qualified") return;
    for (const bet of betsOf.get(`${w.user} ${w.start}`) ?? []) {
      qualified.push(`${w.user} ${bet.key}`);
      const facts = { stake_cents: bet.stake, market: bet.market, odds_e4: bet.odds_e4 ?? 0, at: bet.ts };
      for (const { offer, bonus } of rankOffers(active, facts)) {
        if (offer.min_odds_e4 !== null && bet.odds_e4 === null) continue; // unknown odds never meet a minimum
        const spent = reserved.get(offer.id) ?? 0;
        if (offer.budget_cents !== null && spent + bonus > offer.budget_cents) continue;
        const count = perUser.get(`${offer.id} ${w.user}`) ?? 0;
        if (offer.max_awards_per_user !== null && count >= offer.max_awards_per_user) continue;
        reserved.set(offer.id, spent + bonus);
        perUser.set(`${offer.id} ${w.user}`, count + 1);
        awards.push({ award_id: await awardId(w.user, bet.key, offer.id), user: w.user, bet_key: bet.key, offer_id: offer.id, bonus_cents: bonus });
        break;
      }
    }
  }

  for (const s of steps) {
    if (s.kind === "offers") active = s.active;
    else if (s.kind === "bet") {
      const { bet } = s;
      const id = `${bet.user} ${bet.key}`;
      if (seen.has(id)) continue;
      const how = arrival(bet.ts, s.at, c);
      if (how === "TOO_FAR_AHEAD") {
        rejected.push(id);
        continue;
      }
      seen.add(id);
      const w = windowOf(bet.user, windowStart(bet.ts, c));
      if (how === "LATE") w.late.push(bet.key);
      else {
        w.sum_cents += bet.stake;
        w.bets.push(bet.key);
        const list = betsOf.get(`${bet.user} ${w.start}`) ?? [];
        list.push(bet);
        betsOf.set(`${bet.user} ${w.start}`, list);
      }
    } else {
      const due = [...windows.values()]
        .filter((w) => w.state === "open" && closeAt(w.start, c) <= s.to)
        .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : a.start - b.start));
      for (const w of due) await close(w);
    }
  }
  return { windows: [...windows.values()], awards, qualified, rejected, reserved };
}
