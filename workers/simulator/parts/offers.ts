// Offers and the stake gate (issue 9). Creates the scenario's offers, then,
// after every window has closed, computes which windows qualified and which
// awards were due (oracle/gate.ts) and compares them with the wallets' windows
// (GET /api/wallets/{id}/windows) and awards (GET /api/awards), lists phantom,
// missing and wrong awards, and checks no budget was exceeded.
import { type ActualAward, closesAt, e4, expected, type GateBet, type GateConfig, judge, type OfferTerms, windowStart } from "../oracle/gate.ts";
import { check, type Check, type Context, type Part, pool } from "../run.ts";

const state = { available: false, gate: false, offers: [] as OfferTerms[], created: [] as string[] };

const terms = (o: any, seq: number): OfferTerms => ({
  id: o.id,
  seq,
  active: o.active,
  min_stake_cents: o.min_stake_cents,
  bonus_e4: Math.round(o.bonus_pct * 10_000),
  max_bonus_cents: o.max_bonus_cents ?? null,
  markets: o.markets ?? null,
  min_odds_e4: o.min_odds == null ? null : Math.round(o.min_odds * 10_000),
  starts_at: o.starts_at ? Date.parse(o.starts_at) : null,
  ends_at: o.ends_at ? Date.parse(o.ends_at) : null,
  budget_cents: o.budget_cents ?? null,
  max_awards_per_user: o.max_awards_per_user ?? null,
});

async function pages<T>(ctx: Context, path: string, field: string): Promise<T[] | null> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await ctx.target.call("GET", `${path}${sep}limit=${field === "windows" ? 100 : 1000}${cursor ? `&cursor=${cursor}` : ""}`);
    if (res.reply?.status !== 200) return null;
    out.push(...(res.reply.body[field] as T[]));
    cursor = res.reply.body.next_cursor;
  } while (cursor);
  return out;
}

export const gateConfig = (ctx: Context): GateConfig => ({
  windowMs: ctx.scenario.gate.window_s * 1000,
  latenessMs: ctx.scenario.gate.lateness_s * 1000,
  minWindowStakeCents: ctx.scenario.gate.min_window_stake_cents,
});

/** Every bet that entered a stake gate, as the oracle sees it. */
async function gateBets(ctx: Context): Promise<GateBet[]> {
  const c = gateConfig(ctx);
  const out: GateBet[] = [];
  const straddling: { bet: GateBet; id: string }[] = [];
  for (const b of ctx.plan.bets) {
    if (b.via === "http") {
      const rec = ctx.records.http.get(b.n);
      if (!rec?.placed || !rec.bet_id) continue;
      // The wallet stamps the bet somewhere between our send and its answer.
      const bet: GateBet = { user: b.user, key: rec.bet_id, stake_cents: b.stake_cents, market: b.market, odds_e4: e4(b.odds), ts: rec.sent_at, arrived: rec.sent_at };
      if (windowStart(rec.sent_at, c) !== windowStart(rec.answered_at!, c)) straddling.push({ bet, id: rec.bet_id });
      out.push(bet);
    } else {
      const rec = ctx.records.kafka.get(b.n);
      if (!rec?.produced) continue;
      // Copies share the eventId, the engine's dedupe key: one bet, arriving with the first copy.
      out.push({ user: b.user, key: b.kafka_event_id!, stake_cents: b.stake_cents, market: b.market, odds_e4: e4(b.odds), ts: rec.ts, arrived: rec.sent_at });
    }
  }
  // Only for a bet whose send and answer fall in different windows, ask when it was placed.
  await pool(straddling, 8, async ({ bet, id }) => {
    const res = await ctx.target.call("GET", `/api/bets/${id}`);
    if (res.reply?.status === 200) bet.ts = bet.arrived = Date.parse(res.reply.body.placed_at);
  });
  return out;
}

/**
 * Waits until the bridge has delivered every Kafka bet: one last bet on each
 * partition of events.bet_placed, for a user of its own; partitions are
 * delivered in order, so once all of them are in a wallet, so is everything
 * produced before them.
 */
async function drainKafka(ctx: Context): Promise<void> {
  const topic = "events.bet_placed";
  const n = await ctx.target.partitions(topic);
  const user = `${ctx.plan.run}-drain`;
  const started = Date.now();
  const messages = Array.from({ length: n }, (_, p) => ({
    key: user,
    partition: p,
    value: JSON.stringify({ eventId: `${ctx.plan.run}-drain-${p}`, ts: Date.now(), userId: user, market: "drain", stake: 1, currency: "GBP" }),
  }));
  await ctx.target.produce(topic, messages);
  while (Date.now() - started < 180_000) {
    const windows = await pages<any>(ctx, `/api/wallets/${encodeURIComponent(user)}/windows`, "windows");
    const arrived = (windows ?? []).reduce((a, w) => a + w.bets + w.late_bets.length, 0);
    if (arrived >= n) return ctx.log(`offers: every Kafka bet delivered (${((Date.now() - started) / 1000).toFixed(1)} s to drain ${n} partitions)`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the bridge did not deliver events.bet_placed within 180 s");
}

export const offers: Part = {
  name: "offers",

  async setup(ctx) {
    const probe = await ctx.target.call("GET", "/api/offers?limit=1");
    state.available = probe.reply?.status === 200;
    if (!state.available) return ctx.log("offers: this target has no offers engine (GET /api/offers); stake windows and awards are not checked");
    const awards = await ctx.target.call("GET", `/api/awards?user_id=${encodeURIComponent(`${ctx.plan.run}-probe`)}&limit=1`);
    state.gate = awards.reply?.status === 200;
    // Offers already active on the target pay this run's bets too: the oracle takes them in, oldest first.
    const existing = (await pages<any>(ctx, "/api/offers?active=true", "offers")) ?? [];
    for (const spec of ctx.scenario.offers) {
      const res = await ctx.target.call("POST", "/api/offers", { body: { ...spec, name: `${spec.name} (${ctx.plan.run})` } });
      if (res.reply?.status !== 201) throw new Error(`cannot create offer ${spec.name}: ${res.reply?.status} ${JSON.stringify(res.reply?.body)}`);
      existing.push(res.reply.body);
      state.created.push(res.reply.body.id);
    }
    state.offers = existing.map((o, i) => terms(o, i));
    ctx.log(`offers: ${state.created.length} created, ${state.offers.length} active in all${state.gate ? "" : "; no stake gate on this target (GET /api/awards)"}`);
  },

  async check(ctx) {
    if (!state.available || !state.gate) return [];
    const c = gateConfig(ctx);
    const bets = await gateBets(ctx);
    if (ctx.target.kafka && ctx.records.kafka.size) await drainKafka(ctx);
    // Wait until every window has closed (by our clock) and its awards had time to be paid.
    const last = Math.max(0, ...bets.map((b) => closesAt(windowStart(b.ts, c), c)));
    const wait = last + 3000 - Date.now();
    if (wait > 0) {
      ctx.log(`offers: waiting ${(wait / 1000).toFixed(0)} s for the last stake window to close`);
      await new Promise((r) => setTimeout(r, wait));
    }
    const users = [...new Set(bets.map((b) => b.user))];
    const httpIds = new Set(bets.filter((b) => b.key.includes(".")).map((b) => b.key));
    const problems: string[] = [];
    const windowProblems: string[] = [];
    const awardsOf = new Map<string, any[]>();
    const windowsOf = new Map<string, any[]>();
    await pool(users, 8, async (user) => {
      const list = await pages<any>(ctx, `/api/awards?user_id=${encodeURIComponent(user)}`, "awards");
      if (!list) problems.push(`${user}: GET /api/awards failed`);
      else awardsOf.set(user, list);
      const windows = await pages<any>(ctx, `/api/wallets/${encodeURIComponent(user)}/windows`, "windows");
      if (!windows) windowProblems.push(`${user}: GET windows failed`);
      else windowsOf.set(user, windows);
    });

    // When a Kafka bet reached its wallet only the wallet knows: it is at least when we
    // produced it. A bet the wallet lists as late carries its arrival; the oracle takes
    // that (after checking it is after the send and at or after the window's close).
    const kafkaBets = new Map<string, GateBet[]>();
    for (const b of bets) {
      if (httpIds.has(b.key)) continue;
      const k = `${b.user} ${b.key.split("#")[0]} ${b.ts}`;
      kafkaBets.set(k, [...(kafkaBets.get(k) ?? []), b]);
    }
    for (const [user, windows] of windowsOf) {
      for (const w of windows) {
        for (const late of w.late_bets ?? []) {
          const mine = kafkaBets.get(`${user} ${late.event_id} ${Date.parse(late.ts)}`)?.find((b) => b.arrived <= Date.parse(late.arrived_at) && !("seen" in b));
          if (!mine) continue;
          const arrived = Date.parse(late.arrived_at);
          if (arrived < closesAt(windowStart(mine.ts, c), c)) windowProblems.push(`${user}: ${late.event_id} listed late, but arrived ${late.arrived_at}, before its window closed`);
          mine.arrived = Math.max(mine.arrived, arrived);
          Object.assign(mine, { seen: true });
        }
      }
    }

    const exp = expected(bets, state.offers, c);
    const actual: ActualAward[] = [];
    const byUser = new Map<string, typeof exp.windows>();
    for (const w of exp.windows) byUser.set(w.user, [...(byUser.get(w.user) ?? []), w]);
    let windowsRight = 0;
    for (const user of users) {
      // A bet over HTTP is keyed by its bet id; one from Kafka by its eventId.
      for (const a of awardsOf.get(user) ?? []) {
        const bet = httpIds.has(a.bet_key) ? a.bet_key : a.event_id;
        actual.push({ award_id: a.award_id, user, bet, offer_id: a.offer_id, bonus_cents: a.bonus_cents });
      }
      const windows = windowsOf.get(user);
      if (!windows) continue;
      const seen = new Map(windows.map((w) => [Date.parse(w.start), w]));
      for (const w of byUser.get(user) ?? []) {
        const got = seen.get(w.start);
        const want = `${w.state} sum ${w.sum_cents} late ${w.late.length}`;
        const have = got ? `${got.state} sum ${got.sum_cents} late ${got.late_bets.length}` : "missing";
        if (want !== have) windowProblems.push(`${user} window ${new Date(w.start).toISOString()}: ${have} (expected ${want})`);
        else windowsRight++;
        seen.delete(w.start);
      }
      for (const w of seen.values()) windowProblems.push(`${user} window ${w.start}: not expected (${w.state} sum ${w.sum_cents})`);
    }
    const reserved = new Map<string, number>();
    for (const id of state.created) {
      const res = await ctx.target.call("GET", `/api/offers/${id}`);
      if (res.reply?.status === 200 && res.reply.body.usage) reserved.set(id, res.reply.body.usage.reserved_cents);
    }
    const v = judge(exp, actual, state.offers, reserved);
    // The wallets' bonus must equal the awards: exactly the oracle's when no budget or limit makes the order matter.
    const exact = state.offers.every((o) => o.budget_cents === null && o.max_awards_per_user === null);
    const bonus = new Map<string, number>();
    if (exact) {
      for (const q of exp.qualified) if (q.candidates[0]) bonus.set(q.bet.user, (bonus.get(q.bet.user) ?? 0) + q.candidates[0].bonus_cents);
    } else {
      for (const a of actual) bonus.set(a.user, (bonus.get(a.user) ?? 0) + a.bonus_cents);
    }
    ctx.records.expectedBonus = bonus;
    ctx.records.awards = actual.map((a) => a.award_id);

    const checks: Check[] = [
      check("gate", "stake windows as the oracle closed them (state, sum, late bets)", exp.windows.length, windowsRight, windowProblems),
      check("awards", "phantom awards", 0, v.phantom.length, v.phantom),
      check("awards", "missing awards", 0, v.missing.length, v.missing),
      check("awards", "wrong awards", 0, v.wrong.length, v.wrong),
      check("awards", `awards as expected (${exp.qualified.length} qualified bets)`, v.expectedAwards, v.matched, problems),
      check("budgets", "no budget or per-user limit exceeded", 0, v.budgets.length, v.budgets),
    ];
    return checks;
  },

  async close(ctx) {
    // This run's offers stop here, so a later run's oracle is not paying for them.
    for (const id of state.created) await ctx.target.call("DELETE", `/api/offers/${id}`).catch(() => {});
  },
};
