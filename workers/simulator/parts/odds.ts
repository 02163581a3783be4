// Odds: every (event, market) priced at version 1 before the load, then
// updates with rising versions over HTTP (POST /api/odds) or Kafka
// (odds_updates, keyed by event so one event's updates stay in order), some
// re-sent with an old version (must be ignored). Oracle: each market ends at
// its highest version with exactly the odds sent, and the stale ones counted.
import type { OddsUpdate } from "../plan.ts";
import { check, type Check, type Context, type Part, pool, type TaskResult } from "../run.ts";

export function oddsMessage(ctx: Context, u: OddsUpdate) {
  const e = ctx.plan.events.find((x) => x.event_id === u.event_id)!;
  return {
    event_id: u.event_id,
    home_team: e.home_team,
    away_team: e.away_team,
    market: u.market,
    odds: u.odds,
    updated_at: new Date().toISOString(),
    source: "simulator",
    version: u.version,
  };
}

async function send(ctx: Context, u: OddsUpdate): Promise<TaskResult> {
  if (u.via === "kafka") {
    await ctx.target.produce("odds_updates", [{ key: u.event_id, value: JSON.stringify(oddsMessage(ctx, u)) }]);
    ctx.records.odds.set(u.n, null);
    return "ok";
  }
  const out = await ctx.target.call("POST", "/api/odds", { body: oddsMessage(ctx, u) });
  if (!out.reply || (out.reply.status !== 201 && out.reply.status !== 200)) {
    ctx.counters.error("odds", `${out.reply?.status ?? out.error} ${JSON.stringify(out.reply?.body ?? "").slice(0, 200)}`);
    return "error";
  }
  const status = out.reply.body.status as "APPLIED" | "STALE";
  ctx.records.odds.set(u.n, status);
  return status === "APPLIED" ? "ok" : "rejected";
}

/** The versions of one (event, market) that should have been applied, ascending. */
export function appliedVersions(ctx: Context, event: string, market: string): number[] {
  const all = [...ctx.plan.initialOdds, ...ctx.plan.odds].filter((u) => u.event_id === event && u.market === market);
  const out: number[] = [];
  let top = 0;
  for (const u of all) {
    const answer = ctx.records.odds.get(u.n);
    if (u.via === "http") {
      if (answer === "APPLIED") out.push(u.version);
    } else if (answer !== undefined && u.version > top) {
      out.push(u.version); // one ordered partition: applied iff above every earlier version
    }
    if (u.via === "kafka" && answer !== undefined) top = Math.max(top, u.version);
  }
  return out.sort((x, y) => x - y);
}

export const oddsAvailable = { value: false };

export const odds: Part = {
  name: "odds",

  async setup(ctx) {
    if (!ctx.plan.events.length) return;
    const probe = await ctx.target.call("GET", "/api/events?limit=1");
    oddsAvailable.value = probe.reply?.status === 200;
    if (!oddsAvailable.value) return ctx.log("odds: this target has no odds API (GET /api/events); odds and the odds feed are skipped");
    if (!ctx.target.kafka && ctx.plan.events.some((e) => e.via === "kafka")) {
      ctx.log("odds: no Kafka brokers: the odds meant for odds_updates go over HTTP");
      for (const u of [...ctx.plan.initialOdds, ...ctx.plan.odds]) u.via = "http";
    }
    await pool(ctx.plan.initialOdds, 8, (u) => send(ctx, u));
    ctx.log(`odds: ${ctx.plan.events.length} events priced (${ctx.plan.initialOdds.length} markets at version 1)`);
  },

  tasks(ctx) {
    if (!oddsAvailable.value) return [];
    return ctx.plan.odds.map((u) => ({ at: u.at, kind: u.via === "kafka" ? "odds.kafka" : "odds.http", run: () => send(ctx, u) }));
  },

  async check(ctx) {
    if (!oddsAvailable.value) return [];
    const problems: string[] = [];
    let right = 0;
    await pool(ctx.plan.events, 8, async (e) => {
      const out = await ctx.target.call("GET", `/api/events/${e.event_id}/odds`);
      if (out.reply?.status !== 200) return void problems.push(`${e.event_id}: GET odds ${out.reply?.status}`);
      const body = out.reply.body as { markets: { market: string; version: number; odds: Record<string, string | null> }[]; stale_ignored: number };
      let ok = true;
      let stale = 0;
      for (const market of ctx.scenario.odds.markets) {
        const versions = appliedVersions(ctx, e.event_id, market);
        const top = versions.at(-1);
        const sent = [...ctx.plan.initialOdds, ...ctx.plan.odds].filter((u) => u.event_id === e.event_id && u.market === market);
        stale += sent.filter((u) => ctx.records.odds.has(u.n)).length - versions.length;
        const m = body.markets.find((x) => x.market === market);
        const want = sent.find((u) => u.version === top && !u.stale);
        if (!m || m.version !== top) {
          ok = false;
          problems.push(`${e.event_id} ${market}: version ${m?.version} (expected ${top})`);
        } else if (want && JSON.stringify(m.odds) !== JSON.stringify(want.odds)) {
          ok = false;
          problems.push(`${e.event_id} ${market}: odds ${JSON.stringify(m.odds)} (expected ${JSON.stringify(want.odds)})`);
        }
      }
      // Kafka is at least once: a redelivered update is ignored and counted too, so over Kafka it is a floor.
      if (e.via === "kafka" ? body.stale_ignored < stale : body.stale_ignored !== stale) {
        ok = false;
        problems.push(`${e.event_id}: stale_ignored ${body.stale_ignored} (expected ${stale})`);
      }
      if (ok) right++;
    });
    const checks: Check[] = [check("odds", "every market at its highest version, exact odds, stale updates ignored", ctx.plan.events.length, right, problems)];
    return checks;
  },
};
