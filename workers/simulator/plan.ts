// The stream: everything the run will send, and when, computed from the
// scenario and its seed before anything is sent. Same seed, same plan.
import { rng, type Rng, zipf } from "./rng.ts";
import { arrivals, scheduleSeconds } from "./schedule.ts";
import type { Scenario } from "./scenario.ts";

export type Selection = "HOME" | "DRAW" | "AWAY";

export type PlannedBet = {
  n: number;
  /** Intended send time, ms from the start of the load. */
  at: number;
  user: string;
  via: "http" | "kafka";
  /** The sports event (a live odds event) and the bet on it. */
  event_id: string;
  market: string;
  selection: Selection;
  stake_cents: number;
  odds: string;
  /** Kafka bets: a unique event id (dedupe key) and event time = send time + ts_shift_ms. */
  kafka_event_id?: string;
  ts_shift_ms?: number;
  /** Faults and later actions on this bet. */
  fault?: "late" | "out_of_order";
  duplicate_at?: number;
  retry_at?: number;
  settle?: { at: number; result: "WON" | "LOST" | "VOID" };
};

export type OddsUpdate = {
  n: number;
  at: number;
  via: "http" | "kafka";
  event_id: string;
  market: string;
  version: number;
  odds: { home: string; draw: string | null; away: string };
  /** A re-send of an old version: must be ignored. */
  stale: boolean;
};

export type Claim = { n: number; at: number; user: string };
export type Opening = { n: number; at: number; user: string };

export type Plan = {
  run: string;
  seed: number;
  users: string[];
  events: { event_id: string; home_team: string; away_team: string; via: "http" | "kafka" }[];
  /** Odds at version 1 for every (event, market), sent before the load starts. */
  initialOdds: OddsUpdate[];
  odds: OddsUpdate[];
  bets: PlannedBet[];
  flash: { coupon: string; stock: number; claims: Claim[] } | null;
  rain: { at: number; window_ms: number; inventory: Record<string, number>; shards: number; openings: Opening[] } | null;
  /** Odds subscribers: the events each follows. */
  oddsSubscribers: string[][];
  /** Deposit per HTTP bettor: what their bets can stake, so no bet is refused for funds. */
  deposits: Map<string, number>;
  /** When the load ends, ms. */
  length: number;
};

const TEAMS = ["Rovers", "United", "City", "Athletic", "Wanderers", "Albion", "Town", "Rangers", "Villa", "Forest"];

/** Decimal odds text with 2 decimals in [1.05, 12]. */
const oddsText = (r: Rng) => (1.05 + r.next() * 10.95).toFixed(2);
const priced = (r: Rng, market: string) => ({ home: oddsText(r), draw: market === "1X2" ? oddsText(r) : null, away: oddsText(r) });

export function plan(s: Scenario, run: string): Plan {
  const root = rng(s.seed);
  const users = Array.from({ length: s.users }, (_, i) => `${run}-u${i}`);
  const popular = zipf(s.users, s.zipf_s);
  const loadMs = scheduleSeconds(s.bets.schedule) * 1000;

  // ---- odds: events, their markets at version 1, then updates with rising versions ----
  const o = root.fork("odds");
  const events = Array.from({ length: s.odds.events }, (_, i) => ({
    event_id: `${run}-E${i}`,
    home_team: `${o.pick(TEAMS)} ${i}`,
    away_team: `${o.pick(TEAMS)} ${i + 1}`,
    via: (o.chance(s.odds.kafka_share) ? "kafka" : "http") as "http" | "kafka",
  }));
  const current = new Map<string, { version: number; odds: OddsUpdate["odds"] }>();
  const initialOdds: OddsUpdate[] = [];
  let on = 0;
  for (const e of events) {
    for (const market of s.odds.markets) {
      const odds = priced(o, market);
      current.set(`${e.event_id} ${market}`, { version: 1, odds });
      initialOdds.push({ n: on++, at: 0, via: e.via, event_id: e.event_id, market, version: 1, odds, stale: false });
    }
  }
  const oddsUpdates: OddsUpdate[] = [];
  if (events.length && s.odds.rate > 0) {
    for (const at of arrivals([{ kind: "constant", rate: s.odds.rate, seconds: Math.max(loadMs, 1) / 1000 }], o)) {
      const e = o.pick(events);
      const market = o.pick(s.odds.markets);
      const key = `${e.event_id} ${market}`;
      const cur = current.get(key)!;
      if (cur.version > 1 && o.chance(s.faults.stale_odds_share)) {
        const version = o.int(1, cur.version - 1);
        oddsUpdates.push({ n: on++, at, via: e.via, event_id: e.event_id, market, version, odds: priced(o, market), stale: true });
        continue;
      }
      const next = { version: cur.version + o.int(1, 2), odds: priced(o, market) };
      current.set(key, next);
      oddsUpdates.push({ n: on++, at, via: e.via, event_id: e.event_id, market, version: next.version, odds: next.odds, stale: false });
    }
  }
  // The odds a bettor sees at time t: the latest planned version sent before t.
  const oddsAt = (event: string, market: string, t: number) => {
    let odds = initialOdds.find((u) => u.event_id === event && u.market === market)!.odds;
    for (const u of oddsUpdates) {
      if (u.at > t) break;
      if (!u.stale && u.event_id === event && u.market === market) odds = u.odds;
    }
    return odds;
  };

  // ---- bets: sessions of several bets by one Zipf-popular user ----
  const b = root.fork("bets");
  const bets: PlannedBet[] = [];
  const markets = s.odds.markets;
  const kafkaEvents = new Set<string>();
  for (const start of arrivals(s.bets.schedule, b.fork("arrivals"))) {
    const user = users[popular(b)]!;
    const via = b.chance(s.bets.kafka_share) ? "kafka" : "http";
    const count = b.int(s.bets.session_bets.min, Math.max(s.bets.session_bets.min, s.bets.session_bets.max));
    let at = start;
    for (let i = 0; i < count; i++) {
      if (i > 0) at += b.int(s.bets.session_gap_ms.min, Math.max(s.bets.session_gap_ms.min, s.bets.session_gap_ms.max));
      const event = events.length ? b.pick(events).event_id : `${run}-MATCH`;
      const market = b.pick(markets);
      const selection: Selection = b.pick(market === "1X2" ? ["HOME", "DRAW", "AWAY"] : ["HOME", "AWAY"]);
      const odds = events.length ? oddsAt(event, market, at) : { home: "2.5", draw: "3.1", away: "2.9" };
      const bet: PlannedBet = {
        n: bets.length,
        at,
        user,
        via,
        event_id: event,
        market,
        selection,
        stake_cents: b.int(s.bets.stake_cents.min, Math.max(s.bets.stake_cents.min, s.bets.stake_cents.max)),
        odds: selection === "HOME" ? odds.home : selection === "AWAY" ? odds.away : (odds.draw ?? odds.home),
      };
      if (via === "kafka") {
        bet.kafka_event_id = `${run}-K${bets.length}`;
        kafkaEvents.add(bet.kafka_event_id);
        bet.ts_shift_ms = 0;
        const W = s.gate.window_s * 1000;
        const L = s.gate.lateness_s * 1000;
        if (b.chance(s.faults.late_share)) {
          // Its window closed at least 5 s before it is sent: late on any clock within 5 s of ours.
          bet.fault = "late";
          bet.ts_shift_ms = -(W + L + 5000 + b.int(0, W));
        } else if (i > 0 && L > 4000 && b.chance(s.faults.out_of_order_share)) {
          // Earlier than the session's previous bet, but at least 2 s before its window closes.
          bet.fault = "out_of_order";
          bet.ts_shift_ms = -b.int(Math.min(at - bets[bets.length - 1]!.at + 1, L - 2000), L - 2000);
        }
        if (b.chance(s.faults.duplicate_share)) bet.duplicate_at = at + b.int(0, 2000);
      } else {
        if (b.chance(s.faults.retry_share)) bet.retry_at = at + b.int(0, 1500);
        if (b.chance(s.bets.settle_share)) {
          const result = b.chance(s.faults.void_share) ? "VOID" : b.pick(["WON", "LOST"] as const);
          bet.settle = { at: at + b.int(s.bets.settle_after_ms.min, Math.max(s.bets.settle_after_ms.min, s.bets.settle_after_ms.max)), result };
        }
      }
      bets.push(bet);
    }
  }
  bets.sort((x, y) => x.at - y.at || x.n - y.n);

  const deposits = new Map<string, number>();
  for (const bet of bets) if (bet.via === "http") deposits.set(bet.user, (deposits.get(bet.user) ?? 0) + bet.stake_cents);

  // ---- flash sale: thousands of users at once ----
  const f = root.fork("flash");
  // `count` distinct users in a seeded random order: bettors first, then newcomers if the crowd is larger.
  const crowd = (count: number, r: Rng, tag: string) => {
    const all = Array.from({ length: Math.max(count, users.length) }, (_, i) => (i < users.length ? users[i]! : `${run}-${tag}${i}`));
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, count);
  };
  let flash: Plan["flash"] = null;
  if (s.flash_sale) {
    const fs = s.flash_sale;
    const claims: Claim[] = [];
    for (const user of crowd(fs.users, f, "f")) {
      const at = fs.at_s * 1000 + f.next() * fs.spread_ms;
      claims.push({ n: claims.length, at, user });
      if (f.chance(s.faults.double_claim_share)) claims.push({ n: claims.length, at: at + f.next() * 50, user });
    }
    claims.sort((x, y) => x.at - y.at);
    flash = { coupon: `${run}-FLASH`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64), stock: fs.stock, claims };
  }

  // ---- rain: a campaign window with users opening packets ----
  const rr = root.fork("rain");
  let rain: Plan["rain"] = null;
  if (s.rain) {
    const ra = s.rain;
    const openings: Opening[] = [];
    // Openings start 1 s into the window, so a clock a little behind ours still has it open.
    for (const user of crowd(ra.users, rr, "r")) {
      const at = ra.at_s * 1000 + 1000 + rr.next() * ra.spread_s * 1000;
      openings.push({ n: openings.length, at, user });
      if (rr.chance(s.faults.double_claim_share)) openings.push({ n: openings.length, at: at + rr.next() * 200, user });
    }
    openings.sort((x, y) => x.at - y.at);
    rain = { at: ra.at_s * 1000, window_ms: ra.window_s * 1000, inventory: ra.inventory, shards: ra.shards, openings };
  }

  const fe = root.fork("feeds");
  const oddsSubscribers = events.length
    ? Array.from({ length: s.feeds.odds_subscribers }, () => {
        const mine = new Set<string>();
        while (mine.size < Math.min(s.feeds.odds_events_each, events.length)) mine.add(fe.pick(events).event_id);
        return [...mine];
      })
    : [];

  const ends = [
    loadMs,
    bets.at(-1)?.at ?? 0,
    ...bets.map((x) => Math.max(x.settle?.at ?? 0, x.retry_at ?? 0, x.duplicate_at ?? 0)),
    flash?.claims.at(-1)?.at ?? 0,
    rain?.openings.at(-1)?.at ?? 0,
  ];
  return {
    run,
    seed: s.seed,
    users,
    events,
    initialOdds,
    odds: oddsUpdates,
    bets,
    flash,
    rain,
    oddsSubscribers,
    deposits,
    length: Math.max(...ends),
  };
}
