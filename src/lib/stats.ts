// Live stats: counters kept by each relay shard, counted from the events it
// appends (each event is appended exactly once, in the transaction that logs
// it), so they agree with the log the archive is written from. Readers merge
// the shards: no counter is one object every bet has to pass through.
import type { Envelope } from "./envelope";
import type { Migration } from "./migrations";
import { shardOf } from "./hash";
import { relayShard, relayShards } from "./relays";

export const COUNTERS = [
  "bets_placed",
  "bet_stake_cents",
  "coupon_claims",
  "packets_opened",
  "packet_amount_cents",
  "awards",
  "award_bonus_cents",
  "odds_updates",
  "failures_http_5xx",
  "failures_retries",
  "failures_dlq",
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;
export const FAILURE_KINDS = ["http_5xx", "retries", "dlq"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** What `GET /api/stats` and the stats feed show. */
export type Stats = {
  at: string;
  totals: Counts;
  /** Counts in the last complete second, [second_start, second_start + 1 s). */
  per_second: Counts;
  second_start: string;
};

export const zero = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

const int = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : 0);

/** What one committed event adds to the counters. */
export function countsOf(e: Pick<Envelope, "type" | "data">): Partial<Counts> {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case "bet.placed":
      return { bets_placed: 1, bet_stake_cents: int(d.stake) };
    case "coupon.claimed":
      return { coupon_claims: 1 };
    case "campaign.packet_opened":
      return { packets_opened: 1, packet_amount_cents: int(d.amount) };
    case "offer.awarded":
      // The offers engine's field (issue 9: `bonusAmount` in the original shape, minor units).
      return { awards: 1, award_bonus_cents: int(d.bonus_cents ?? d.bonusAmount ?? d.amount_cents) };
    case "odds.updated":
      return { odds_updates: 1 };
    default:
      return {};
  }
}

export const statsMigration: Migration = {
  id: "relay-stats-1",
  sql: `
    CREATE TABLE stat_totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE stat_seconds (second INTEGER NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (second, name));
  `,
};

/** How many seconds of per-second counts a shard keeps. */
const KEEP_SECONDS = 120;

/** Adds counts at `nowMs` (call inside the transaction that logs the events). */
export function addCounts(sql: SqlStorage, add: Partial<Counts>, nowMs: number): void {
  const second = Math.floor(nowMs / 1000);
  for (const [name, value] of Object.entries(add)) {
    if (!value) continue;
    sql.exec(
      "INSERT INTO stat_totals (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
      name,
      value,
    );
    sql.exec(
      "INSERT INTO stat_seconds (second, name, value) VALUES (?, ?, ?) ON CONFLICT (second, name) DO UPDATE SET value = value + excluded.value",
      second,
      name,
      value,
    );
  }
  sql.exec("DELETE FROM stat_seconds WHERE second < ?", second - KEEP_SECONDS);
}

/** Sums what a batch of events adds. */
export function sumCounts(events: Pick<Envelope, "type" | "data">[]): Partial<Counts> {
  const sum: Partial<Counts> = {};
  for (const e of events) for (const [k, v] of Object.entries(countsOf(e)) as [Counter, number][]) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** One shard's totals and its counts in the second before `nowMs`. */
export function readCounts(sql: SqlStorage, nowMs: number): { totals: Counts; per_second: Counts } {
  const totals = zero();
  const per_second = zero();
  for (const r of sql.exec<{ name: string; value: number }>("SELECT name, value FROM stat_totals")) {
    if (r.name in totals) totals[r.name as Counter] = r.value;
  }
  const last = Math.floor(nowMs / 1000) - 1;
  for (const r of sql.exec<{ name: string; value: number }>("SELECT name, value FROM stat_seconds WHERE second = ?", last)) {
    if (r.name in per_second) per_second[r.name as Counter] = r.value;
  }
  return { totals, per_second };
}

/** Merges every relay shard's counters. */
export async function mergedStats(env: Env, nowMs = Date.now()): Promise<Stats> {
  const shards = await Promise.all(Array.from({ length: relayShards(env) }, (_, n) => relayShard(env, n).stats(nowMs)));
  const totals = zero();
  const per_second = zero();
  for (const s of shards) {
    for (const c of COUNTERS) {
      totals[c] += s.totals[c];
      per_second[c] += s.per_second[c];
    }
  }
  const second = (Math.floor(nowMs / 1000) - 1) * 1000;
  return { at: new Date(nowMs).toISOString(), totals, per_second, second_start: new Date(second).toISOString() };
}

/**
 * Counts the bridge's retries or dead letters by message id. Each id goes to the
 * shard its id hashes to, so a report sent again meets its first copy there.
 */
export async function countFailures(env: Env, kind: "retries" | "dlq", ids: string[]): Promise<number> {
  const byShard = new Map<number, string[]>();
  for (const id of ids) {
    const n = shardOf(id, relayShards(env));
    if (!byShard.has(n)) byShard.set(n, []);
    byShard.get(n)!.push(id);
  }
  const counted = await Promise.all([...byShard].map(([n, mine]) => relayShard(env, n).countFailures(kind, mine)));
  return counted.reduce((a, b) => a + b, 0);
}

/** Counts a failure on a shard picked at random (failures are rare; any shard will do). */
export function countFailure(env: Env, kind: FailureKind, n = 1): Promise<void> {
  return relayShard(env, Math.floor(Math.random() * relayShards(env))).countFailure(kind, n);
}

const HELP: Record<Counter, string> = {
  bets_placed: "Bets placed (committed bet.placed events).",
  bet_stake_cents: "Stake of bets placed, in minor units.",
  coupon_claims: "Coupons claimed.",
  packets_opened: "Red packets opened.",
  packet_amount_cents: "Amount of red packets opened, in minor units.",
  awards: "Bonus awards (committed offer.awarded events).",
  award_bonus_cents: "Bonus awarded, in minor units.",
  odds_updates: "Odds updates applied.",
  failures_http_5xx: "Worker responses with a 5xx status.",
  failures_retries: "Inbound Kafka messages the bridge parked for a retry.",
  failures_dlq: "Inbound Kafka messages the bridge dead-lettered.",
};

/** The counters in Prometheus text format (version 0.0.4). */
export function prometheus(stats: Stats): string {
  return COUNTERS.map((c) => {
    const name = `rushgate_${c}_total`;
    return `# HELP ${name} ${HELP[c]}\n# TYPE ${name} counter\n${name} ${stats.totals[c]}\n`;
  }).join("");
}
