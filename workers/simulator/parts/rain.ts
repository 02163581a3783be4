// The red-packet rain: a campaign whose window opens during the run, and users
// opening packets in it (some twice). Oracle: opened + remaining = total,
// opened = the users who got a packet, nobody twice, amounts add up.
import { check, type Check, type Part, pool, type TaskResult } from "../run.ts";

export const rain: Part = {
  name: "rain",

  async setup(ctx) {
    const r = ctx.plan.rain;
    if (!r) return;
    // The window is set from the time the load is expected to start (setup ends right after).
    const start = Date.now() + 2000 + r.at;
    const body = {
      name: `simulator ${ctx.plan.run}`,
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + r.window_ms).toISOString(),
      inventory: r.inventory,
      shards: r.shards,
    };
    const out = await ctx.target.call("POST", "/api/campaigns", { body });
    if (out.reply?.status !== 201) throw new Error(`cannot create campaign: ${out.reply?.status} ${JSON.stringify(out.reply?.body)}`);
    ctx.records.rainCampaign = out.reply.body.id;
    ctx.records.rainWindow = { start, end: start + r.window_ms };
    ctx.log(`rain: campaign ${out.reply.body.id}, window ${body.start_time} + ${r.window_ms / 1000} s, ${r.openings.length} openings`);
  },

  tasks(ctx) {
    const r = ctx.plan.rain;
    if (!r) return [];
    return r.openings.map((o) => ({
      at: o.at,
      kind: "rain.open",
      run: async (): Promise<TaskResult> => {
        // Never before the window: the campaign's start was fixed at setup, a little after the planned time.
        const early = ctx.records.rainWindow!.start + 1000 - (ctx.t0 + o.at);
        if (early > 0) await new Promise((res) => setTimeout(res, early));
        const out = await ctx.target.call("POST", `/api/campaigns/${ctx.records.rainCampaign}/open`, { body: { user_id: o.user }, as: o.user });
        ctx.counters.of("rain.open").retries += out.tries - 1;
        if (!out.reply) {
          ctx.records.openUnknown++;
          ctx.counters.error("rain.open", `no answer: ${out.error}`);
          return "error";
        }
        const answer = { status: String(out.reply.body?.status ?? out.reply.status), amount: out.reply.body?.amount, answered_at: Date.now() };
        const list = ctx.records.openings.get(o.user) ?? [];
        list.push(answer);
        ctx.records.openings.set(o.user, list);
        if (answer.status === "OK") return "ok";
        if (answer.status === "ALREADY_OPENED" || answer.status === "SOLD_OUT") return "rejected";
        // ENDED is right only for an answer that came after the window closed (1 s for clocks apart).
        if (answer.status === "ENDED" && answer.answered_at >= ctx.records.rainWindow!.end - 1000) return "rejected";
        ctx.counters.error("rain.open", `${out.reply.status} ${JSON.stringify(out.reply.body).slice(0, 200)}`);
        return "error";
      },
    }));
  },

  async check(ctx) {
    const r = ctx.plan.rain;
    if (!r || !ctx.records.rainCampaign) return [];
    const out = await ctx.target.call("GET", `/api/campaigns/${ctx.records.rainCampaign}`);
    if (out.reply?.status !== 200) return [check("rain", "read the campaign", 200, out.reply?.status ?? out.error)];
    const c = out.reply.body;
    const total = Object.values(r.inventory).reduce((a, b) => a + b, 0);
    // The users who reached the campaign inside its window (the rest were told ENDED, checked above).
    const users = new Set([...ctx.records.openings].filter(([, answers]) => answers.some((x) => x.status !== "ENDED")).map(([u]) => u));
    const problems: string[] = [];
    if (c.opened + c.remaining !== total) problems.push(`opened ${c.opened} + remaining ${c.remaining} ≠ total ${total}`);
    // Each user got at most one packet, and a second open answers the same amount.
    const got = new Map<string, number>();
    for (const [user, answers] of ctx.records.openings) {
      const oks = answers.filter((a) => a.status === "OK");
      if (oks.length > 1) problems.push(`${user} opened ${oks.length} packets`);
      const amounts = new Set(answers.filter((a) => a.status === "OK" || a.status === "ALREADY_OPENED").map((a) => a.amount));
      if (amounts.size > 1) problems.push(`${user} was told different amounts: ${[...amounts].join(", ")}`);
      if (amounts.size) got.set(user, [...amounts][0]!);
    }
    let sum = 0;
    for (const v of got.values()) sum += v;
    let opened = 0;
    for (const [amount, v] of Object.entries(c.inventory as Record<string, { total: number; opened: number }>)) opened += Number(amount) * v.opened;
    if (!ctx.records.openUnknown && sum !== opened) problems.push(`the users were told ${sum} in all, the campaign paid ${opened}`);
    // Every user told they got a packet has that opening on record.
    const sample = [...got].slice(0, 300);
    await pool(sample, 16, async ([user, amount]) => {
      const o = await ctx.target.call("GET", `/api/campaigns/${ctx.records.rainCampaign}/openings/${encodeURIComponent(user)}`);
      if (o.reply?.status !== 200) problems.push(`${user}: opening not found (${o.reply?.status})`);
      else if (o.reply.body.amount !== amount) problems.push(`${user}: opening says ${o.reply.body.amount}, was told ${amount}`);
    });
    const expected = ctx.records.openUnknown ? c.opened : Math.min(total, users.size);
    const checks: Check[] = [check("rain", `opened = min(packets ${total}, users ${users.size}); opened + remaining = total; no user twice`, expected, c.opened, problems)];
    if (got.size !== c.opened && !ctx.records.openUnknown) checks.push(check("rain", "users told they got a packet = packets opened", c.opened, got.size));
    if (ctx.records.openUnknown) checks.push(check("rain", "openings that got no answer", 0, ctx.records.openUnknown));
    return checks;
  },
};
