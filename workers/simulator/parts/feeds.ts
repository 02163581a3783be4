// WebSocket subscribers (issue 10, docs/feeds.md): odds subscribers following a
// few events each, awards subscribers (a service ticket: every award), stats
// and rain subscribers. Each counts what it receives; the oracle checks every
// odds subscriber got every applied update of its events once and in version
// order, every awards subscriber every award of this run once, and that the
// stats and rain feeds add up.
import { appliedVersions, oddsAvailable } from "./odds.ts";
import { check, type Check, type Context, type Part } from "../run.ts";

type Sub = {
  name: string;
  url: string;
  ws?: WebSocket;
  last: number;
  received: number;
  resets: number;
  closed: boolean;
  onItem: (m: any) => void;
  errors: string[];
};

const subs: Sub[] = [];
const wsBase = (ctx: Context) => ctx.target.o.url.replace(/^http/, "ws").replace(/\/$/, "");

/** Connects, resuming with ?after= on a drop (the hub's bounded buffer gives what was missed). */
function connect(s: Sub): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(s.url);
    if (s.last) url.searchParams.set("after", String(s.last));
    const ws = new WebSocket(url);
    s.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      resolve();
    };
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (typeof m.seq === "number" && m.seq > s.last) s.last = m.seq;
      if (m.type === "hello" && m.reset) s.resets++;
      if (m.type === "error") s.errors.push(`${m.error}: ${m.message}`);
      s.received++;
      s.onItem(m);
      if (s.received % 50 === 0) ws.send(JSON.stringify({ type: "ack", seq: s.last }));
    };
    ws.onclose = () => {
      if (!opened) resolve();
      if (!s.closed) setTimeout(() => void connect(s), 500);
    };
    ws.onerror = () => {};
  });
}

function subscriber(ctx: Context, name: string, path: string, onItem: (m: any) => void): Sub {
  const s: Sub = { name, url: `${wsBase(ctx)}${path}`, last: 0, received: 0, resets: 0, closed: false, onItem, errors: [] };
  subs.push(s);
  return s;
}

// Per odds subscriber: per "event market", the latest snapshot version and the update versions after it.
const oddsSeen: { events: string[]; markets: Map<string, { floor: number; versions: number[] }> }[] = [];
const awardsSeen: Map<string, number>[] = [];
const statsTicks: number[] = [];
const rainSeen: { last?: any; openedNow: number }[] = [];
let statsBefore: any;

export const feeds: Part = {
  name: "feeds",

  async setup(ctx) {
    const f = ctx.scenario.feeds;
    const probe = await ctx.target.call("GET", "/api/stats");
    if (probe.reply?.status !== 200) return ctx.log("feeds: this target has no live feeds (GET /api/stats); feed checks are skipped");
    statsBefore = probe.reply.body;
    const pending: Promise<void>[] = [];
    if (oddsAvailable.value) {
      for (const [i, events] of ctx.plan.oddsSubscribers.entries()) {
        const seen = { events, markets: new Map<string, { floor: number; versions: number[] }>() };
        oddsSeen.push(seen);
        const s = subscriber(ctx, `odds#${i}`, `/ws/odds?events=${events.join(",")}`, (m) => {
          if (m.type === "snapshot") {
            for (const mk of m.markets ?? []) seen.markets.set(`${m.eventId} ${mk.market}`, { floor: mk.version, versions: [] });
          } else if (m.type === "update") {
            const k = `${m.eventId} ${m.payload.market}`;
            const entry = seen.markets.get(k) ?? { floor: 0, versions: [] };
            entry.versions.push(m.payload.version);
            seen.markets.set(k, entry);
          }
        });
        pending.push(connect(s));
      }
    }
    for (let i = 0; i < f.awards_subscribers; i++) {
      const ticket = await ctx.target.call("POST", "/api/feeds/awards/tickets");
      if (ticket.reply?.status !== 201) break;
      const got = new Map<string, number>();
      awardsSeen.push(got);
      const s = subscriber(ctx, `awards#${i}`, `/ws/awards?ticket=${encodeURIComponent(ticket.reply.body.ticket)}`, (m) => {
        if (m.type === "award" && String(m.award?.user_id ?? "").startsWith(`${ctx.plan.run}-`)) got.set(m.award.award_id, (got.get(m.award.award_id) ?? 0) + 1);
      });
      pending.push(connect(s));
    }
    for (let i = 0; i < f.stats_subscribers; i++) {
      statsTicks.push(0);
      pending.push(connect(subscriber(ctx, `stats#${i}`, "/ws/stats", (m) => m.type === "stats" && statsTicks[i]!++)));
    }
    if (ctx.records.rainCampaign) {
      for (let i = 0; i < f.rain_subscribers; i++) {
        const seen: { last?: any; openedNow: number } = { openedNow: 0 };
        rainSeen.push(seen);
        pending.push(
          connect(
            subscriber(ctx, `rain#${i}`, `/ws/campaigns/${ctx.records.rainCampaign}`, (m) => {
              if (m.type !== "rain") return;
              seen.last = m;
              seen.openedNow += m.opened_now ?? 0;
            }),
          ),
        );
      }
    }
    await Promise.all(pending);
    ctx.log(`feeds: ${subs.length} subscribers connected`);
  },

  async check(ctx) {
    if (!statsBefore) return [];
    const checks: Check[] = [];
    // Odds: every applied version above the snapshot, once, in order.
    if (oddsSeen.length) {
      const problems: string[] = [];
      let right = 0;
      for (const [i, seen] of oddsSeen.entries()) {
        let ok = true;
        for (const event of seen.events) {
          for (const market of ctx.scenario.odds.markets) {
            const got = seen.markets.get(`${event} ${market}`) ?? { floor: 0, versions: [] };
            const want = appliedVersions(ctx, event, market).filter((v) => v > got.floor);
            if (JSON.stringify(got.versions) !== JSON.stringify(want)) {
              ok = false;
              problems.push(`odds#${i} ${event} ${market}: got [${got.versions.join(",")}] after snapshot v${got.floor}, expected [${want.join(",")}]`);
            }
          }
        }
        if (ok) right++;
      }
      checks.push(check("feeds", "every odds subscriber got every applied update of its events, once, in version order", oddsSeen.length, right, problems));
    }
    // Awards: each subscriber saw exactly this run's awards, each once.
    if (awardsSeen.length && ctx.records.awards) {
      const want = new Set(ctx.records.awards);
      const problems: string[] = [];
      let right = 0;
      for (const [i, got] of awardsSeen.entries()) {
        const missing = [...want].filter((id) => !got.has(id));
        const extra = [...got.keys()].filter((id) => !want.has(id));
        const twice = [...got].filter(([, n]) => n > 1).map(([id]) => id);
        for (const id of missing.slice(0, 5)) problems.push(`awards#${i}: never got ${id}`);
        for (const id of extra.slice(0, 5)) problems.push(`awards#${i}: got ${id}, which no wallet holds`);
        for (const id of twice.slice(0, 5)) problems.push(`awards#${i}: got ${id} more than once`);
        if (!missing.length && !extra.length && !twice.length) right++;
      }
      checks.push(check("feeds", `every awards subscriber got each of the ${want.size} awards once, and no other`, awardsSeen.length, right, problems));
    }
    if (statsTicks.length) {
      checks.push(check("feeds", "stats subscribers received ticks", statsTicks.length, statsTicks.filter((n) => n > 0).length));
    }
    // Rain: the feed's last word agrees with the campaign.
    if (rainSeen.length && ctx.records.rainCampaign) {
      const res = await ctx.target.call("GET", `/api/campaigns/${ctx.records.rainCampaign}`);
      const c = res.reply?.body;
      const problems: string[] = [];
      for (const [i, seen] of rainSeen.entries()) {
        if (seen.last?.remaining !== c?.remaining || seen.last?.opened !== c?.opened) {
          problems.push(`rain#${i}: last message remaining ${seen.last?.remaining} opened ${seen.last?.opened}; campaign ${c?.remaining} / ${c?.opened}`);
        }
      }
      checks.push(check("feeds", "rain subscribers' last message = the campaign's remaining and opened", rainSeen.length, rainSeen.length - problems.length, problems));
    }
    for (const s of subs) if (s.errors.length) checks.push(check("feeds", `${s.name}: error frames`, 0, s.errors.length, s.errors.slice(0, 5)));
    return checks;
  },

  async close() {
    for (const s of subs) {
      s.closed = true;
      s.ws?.close();
    }
  },
};
