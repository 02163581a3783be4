// The flash sale: one coupon, and at a set moment thousands of users claim it
// at once (some twice). A 503 (the per-isolate bound) or 429 is retried after
// its Retry-After, as a real client would. Oracle: claims = min(stock, users),
// nobody listed twice, and every answer agrees with the list.
import { check, type Check, type Part, type TaskResult } from "../run.ts";

export const flashSale: Part = {
  name: "flash sale",

  async setup(ctx) {
    const f = ctx.plan.flash;
    if (!f) return;
    const out = await ctx.target.call("POST", "/api/coupons", { body: { name: f.coupon, amount: f.stock } });
    if (out.reply?.status !== 201) throw new Error(`cannot create coupon ${f.coupon}: ${out.reply?.status} ${JSON.stringify(out.reply?.body)}`);
    ctx.log(`flash sale: coupon ${f.coupon}, stock ${f.stock}, ${f.claims.length} claims at ${ctx.scenario.flash_sale!.at_s} s`);
  },

  tasks(ctx) {
    const f = ctx.plan.flash;
    if (!f) return [];
    return f.claims.map((c) => ({
      at: c.at,
      kind: "coupon.claim",
      run: async (): Promise<TaskResult> => {
        const out = await ctx.target.call("POST", "/api/coupons/claim", { body: { user_id: c.user, coupon_name: f.coupon }, as: c.user });
        ctx.counters.of("coupon.claim").retries += out.tries - 1;
        if (!out.reply) {
          ctx.records.claimUnknown++;
          ctx.counters.error("coupon.claim", `no answer: ${out.error}`);
          return "error";
        }
        const status = String(out.reply.body?.status ?? out.reply.status);
        const list = ctx.records.claims.get(c.user) ?? [];
        list.push(status);
        ctx.records.claims.set(c.user, list);
        if (status === "CLAIMED") return "ok";
        if (status === "SOLD_OUT" || status === "ALREADY_CLAIMED") return "rejected";
        ctx.counters.error("coupon.claim", `${out.reply.status} ${JSON.stringify(out.reply.body).slice(0, 200)}`);
        return "error";
      },
    }));
  },

  async check(ctx) {
    const f = ctx.plan.flash;
    if (!f) return [];
    // The claimants, as the coupon lists them (service read, paged).
    const listed: string[] = [];
    let cursor: string | undefined;
    let snapshot: any;
    do {
      const out = await ctx.target.call("GET", `/api/coupons/${f.coupon}?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
      if (out.reply?.status !== 200) return [check("coupons", "read the coupon", 200, out.reply?.status ?? out.error)];
      snapshot ??= out.reply.body;
      listed.push(...out.reply.body.claimed_by);
      cursor = out.reply.body.next_cursor;
    } while (cursor);

    const users = new Set(f.claims.map((c) => c.user));
    const expected = Math.min(f.stock, users.size);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const u of listed) {
      if (seen.has(u)) problems.push(`${u} listed twice`);
      seen.add(u);
      if (!users.has(u)) problems.push(`${u} listed but never claimed`);
    }
    for (const [user, answers] of ctx.records.claims) {
      const claimed = answers.filter((a) => a === "CLAIMED").length;
      if (claimed > 1) problems.push(`${user} answered CLAIMED ${claimed} times`);
      if ((claimed || answers.includes("ALREADY_CLAIMED")) && !seen.has(user)) problems.push(`${user} was told it claimed, but is not listed`);
      if (!claimed && !answers.includes("ALREADY_CLAIMED") && answers.includes("SOLD_OUT") && seen.has(user)) {
        problems.push(`${user} was told SOLD_OUT, but is listed`);
      }
    }
    const amountLeft = snapshot.amount - snapshot.remaining_amount;
    if (amountLeft !== listed.length) problems.push(`amount − remaining = ${amountLeft}, but ${listed.length} claimants are listed`);
    const checks: Check[] = [check("coupons", `claims = min(stock ${f.stock}, users ${users.size}), no user twice`, expected, listed.length, problems)];
    if (ctx.records.claimUnknown) checks.push(check("coupons", "claims that got no answer", 0, ctx.records.claimUnknown));
    return checks;
  },
};
