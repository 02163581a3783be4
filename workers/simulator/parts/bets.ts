// Bets: each user funded first, then sessions of bets over HTTP (POST /api/bets)
// or Kafka (events.bet_placed), with the faults asked for (retried HTTP with
// the same Idempotency-Key, duplicated Kafka bets, late and out-of-order
// timestamps, bets settled or voided later). Its check is the wallets.
import { compareWallet, expectedBalances } from "../oracle/wallets.ts";
import type { PlannedBet } from "../plan.ts";
import { check, type Check, type Context, type Part, pool, type Task, type TaskResult } from "../run.ts";

const key = (ctx: Context, what: string) => `sim-${ctx.plan.run}-${what}`;

function betBody(b: PlannedBet) {
  return { user_id: b.user, event_id: b.event_id, market: b.market, selection: b.selection, stake_cents: b.stake_cents, odd_value: b.odds };
}

/** The original events.bet_placed message (stake in minor units, ts epoch ms), plus the odds. */
export function kafkaBet(b: PlannedBet, ts: number) {
  return { eventId: b.kafka_event_id!, ts, userId: b.user, market: b.market, stake: b.stake_cents, currency: "GBP", odds: Number(b.odds) };
}

async function placeHttp(ctx: Context, b: PlannedBet): Promise<TaskResult> {
  const rec = { placed: null as boolean | null, sent_at: Date.now() } as import("../records.ts").HttpBetRecord;
  ctx.records.http.set(b.n, rec);
  const out = await ctx.target.call("POST", "/api/bets", { body: betBody(b), as: b.user, key: key(ctx, `bet-${b.n}`) });
  ctx.counters.of("bet.http").retries += out.tries - 1;
  rec.answered_at = Date.now();
  if (!out.reply) {
    ctx.counters.error("bet.http", `no answer: ${out.error}`);
    return "error";
  }
  rec.status = out.reply.status;
  if (out.reply.status === 201) {
    rec.placed = true;
    rec.bet_id = out.reply.body.bet_id;
    return "ok";
  }
  rec.placed = false;
  ctx.counters.error("bet.http", `${out.reply.status} ${JSON.stringify(out.reply.body).slice(0, 200)}`);
  return "error";
}

/** Waits for the bet's first answer (its task may still be running). */
async function placedBet(ctx: Context, n: number) {
  for (let i = 0; i < 600; i++) {
    const rec = ctx.records.http.get(n);
    if (rec?.answered_at !== undefined || (rec && rec.placed !== null)) return rec;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ctx.records.http.get(n);
}

async function retryHttp(ctx: Context, b: PlannedBet): Promise<TaskResult> {
  const first = await placedBet(ctx, b.n);
  if (!first?.placed) return "rejected";
  const out = await ctx.target.call("POST", "/api/bets", { body: betBody(b), as: b.user, key: key(ctx, `bet-${b.n}`) });
  if (!out.reply) return "error";
  const replayed = out.reply.headers.get("idempotent-replayed");
  if (out.reply.status !== 201 || out.reply.body.bet_id !== first.bet_id) {
    first.replay_mismatch = `retry answered ${out.reply.status} ${out.reply.body.bet_id ?? ""}, first ${first.bet_id}${replayed ? "" : ""}`;
    return "error";
  }
  return "ok";
}

async function settle(ctx: Context, b: PlannedBet): Promise<TaskResult> {
  const rec = await placedBet(ctx, b.n);
  if (!rec?.placed || !rec.bet_id) return "rejected";
  const result = b.settle!.result;
  rec.settled = { result, applied: null };
  const out = await ctx.target.call("POST", `/api/bets/${rec.bet_id}/settle`, { body: { result }, key: key(ctx, `settle-${b.n}`) });
  if (!out.reply) return "error";
  rec.settled.applied = out.reply.status === 200;
  if (out.reply.status !== 200) {
    ctx.counters.error("bet.settle", `${out.reply.status} ${JSON.stringify(out.reply.body).slice(0, 200)}`);
    return "error";
  }
  return "ok";
}

async function produceBet(ctx: Context, b: PlannedBet, copy: boolean): Promise<TaskResult> {
  let rec = ctx.records.kafka.get(b.n);
  if (!rec) {
    const sent_at = Date.now();
    rec = { produced: false, sent_at, ts: sent_at + (b.ts_shift_ms ?? 0), copies: 0 };
    ctx.records.kafka.set(b.n, rec);
  }
  // A duplicate is the same message again: same event id, same timestamp.
  await ctx.target.produce("events.bet_placed", [{ key: b.user, value: JSON.stringify(kafkaBet(b, rec.ts)) }]);
  rec.copies++;
  if (!copy) rec.produced = true;
  return "ok";
}

/**
 * Waits until a bet produced to events.bet_placed reaches its wallet, so the
 * bridge's consumer group has joined before the load: a Kafka bet's lateness
 * is decided when it arrives, and a group still joining would hold the first
 * seconds of bets back.
 */
async function warmKafka(ctx: Context): Promise<void> {
  const user = `${ctx.plan.run}-probe`;
  const started = Date.now();
  const probe = { eventId: `${ctx.plan.run}-probe`, ts: Date.now(), userId: user, market: "probe", stake: 1, currency: "GBP" };
  await ctx.target.produce("events.bet_placed", [{ key: user, value: JSON.stringify(probe) }]);
  while (Date.now() - started < 90_000) {
    const res = await ctx.target.call("GET", `/api/wallets/${encodeURIComponent(user)}/windows`);
    if (res.reply?.status === 200 && res.reply.body.windows?.length) {
      return ctx.log(`bets: Kafka → bridge → wallet in ${((Date.now() - started) / 1000).toFixed(1)} s (warm-up bet)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("a bet produced to events.bet_placed did not reach its wallet in 90 s: is the bridge running on these brokers?");
}

export const bets: Part = {
  name: "bets",

  async setup(ctx) {
    // Fund every HTTP bettor with what their bets stake (plus a margin), once per run.
    const users = [...ctx.plan.deposits];
    await pool(users, 16, async ([user, stakes]) => {
      const out = await ctx.target.call("POST", `/api/wallets/${encodeURIComponent(user)}/deposits`, {
        body: { amount_cents: stakes + 1000 },
        key: key(ctx, `deposit-${user}`),
      });
      ctx.records.deposits.set(user, out.reply ? out.reply.status === 201 : null);
      if (out.reply?.status !== 201) ctx.counters.error("deposit", `${user}: ${out.reply?.status ?? out.error}`);
    });
    ctx.log(`bets: funded ${users.length} wallets`);
    if (ctx.target.kafka && ctx.plan.bets.some((b) => b.via === "kafka")) await warmKafka(ctx);
  },

  tasks(ctx) {
    const tasks: Task[] = [];
    const kafka = ctx.target.kafka;
    for (const b of ctx.plan.bets) {
      if (b.via === "kafka") {
        if (!kafka) continue;
        tasks.push({ at: b.at, kind: "bet.kafka", run: () => produceBet(ctx, b, false) });
        if (b.duplicate_at !== undefined) tasks.push({ at: b.duplicate_at, kind: "bet.kafka.dup", run: () => produceBet(ctx, b, true) });
      } else {
        tasks.push({ at: b.at, kind: "bet.http", run: () => placeHttp(ctx, b) });
        if (b.retry_at !== undefined) tasks.push({ at: b.retry_at, kind: "bet.http.retry", run: () => retryHttp(ctx, b) });
        if (b.settle) tasks.push({ at: b.settle.at, kind: "bet.settle", run: () => settle(ctx, b) });
      }
    }
    return tasks;
  },

  async check(ctx) {
    const checks: Check[] = [];
    const replays = [...ctx.records.http.values()].filter((r) => r.replay_mismatch).map((r) => r.replay_mismatch!);
    const retried = ctx.plan.bets.filter((b) => b.retry_at !== undefined && ctx.records.http.get(b.n)?.placed).length;
    checks.push(check("bets", "retried HTTP bets replayed their first answer", retried, retried - replays.length, replays));

    // Wallets: every user that was funded or awarded anything.
    const facts = new Map<string, { deposit: number; bets: { stake_cents: number; odds: string; result: "WON" | "LOST" | "VOID" | null }[]; bonus: number }>();
    const unknown = new Set<string>();
    const of = (u: string) => {
      let f = facts.get(u);
      if (!f) facts.set(u, (f = { deposit: 0, bets: [], bonus: ctx.records.expectedBonus?.get(u) ?? 0 }));
      return f;
    };
    for (const [user, applied] of ctx.records.deposits) {
      if (applied === null) unknown.add(user);
      if (applied) of(user).deposit += (ctx.plan.deposits.get(user) ?? 0) + 1000;
    }
    for (const b of ctx.plan.bets) {
      if (b.via !== "http") continue;
      const rec = ctx.records.http.get(b.n);
      if (!rec) continue;
      if (rec.placed === null || rec.settled?.applied === null) unknown.add(b.user);
      if (!rec.placed) continue;
      of(b.user).bets.push({ stake_cents: b.stake_cents, odds: b.odds, result: rec.settled?.applied ? rec.settled.result : null });
    }
    for (const [user] of ctx.records.expectedBonus ?? []) of(user);
    const users = [...facts.keys()].filter((u) => !unknown.has(u));
    const problems: string[] = [];
    let right = 0;
    await pool(users, 16, async (user) => {
      const out = await ctx.target.call("GET", `/api/wallets/${encodeURIComponent(user)}`);
      if (out.reply?.status !== 200) return void problems.push(`${user}: GET wallet ${out.reply?.status ?? out.error}`);
      const w = out.reply.body;
      const diff = compareWallet(user, expectedBalances(facts.get(user)!), { posted: w.cash.posted, held: w.cash.held, bonus: w.bonus.posted });
      if (diff.length) problems.push(...diff);
      else right++;
    });
    checks.push(check("wallets", "every balance equals the oracle's", users.length, right, problems));
    if (unknown.size) {
      checks.push(check("wallets", "wallets with an unanswered request (not checked)", 0, unknown.size, [...unknown].slice(0, 5).map((u) => `${u}: a request got no answer`)));
    }
    return checks;
  },
};
