// npm run bench:feeds — the odds feed hub under many sockets, on `workerd serve`
// (lib/servers.ts). The sockets live in FEED_CLIENTS forked Node processes
// (lib/feed-client.ts): each process has its own descriptor limit, and their
// JSON parsing spreads over the cores.
//
// 1. Holds FEED_SOCKETS (10,000) sockets on one event of /ws/odds; each round
//    waits until the hub has hibernated, posts one update (the hub wakes for
//    it), then a second while it is awake; times until the first and the last
//    socket has each (end to end: POST → Odds actor → outbox alarm → relay →
//    hub → sockets). Counts workerd's file descriptors and RSS per socket.
// 2. One hub and 1,000 sockets: FEED_UPDATES updates end to end, one at a time
//    (each POST answered before the next) and FEED_CONCURRENCY at a time; the
//    hops of each update, timed inside workerd (probe below); and the hub's own
//    fan-out with the pipeline bypassed (items published by the hub itself),
//    with workerd's CPU per message sent.
import { type ChildProcess, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { root } from "../workers/lib/workerd-config.ts";
import { cpuMicros, rssMiB } from "./lib/procs.ts";
import { median, table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const SOCKETS = Number(process.env.FEED_SOCKETS ?? 10_000);
const FANOUT_SOCKETS = Number(process.env.FEED_FANOUT_SOCKETS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const UPDATES = Number(process.env.FEED_UPDATES ?? 200);
const CONCURRENCY = Number(process.env.FEED_CONCURRENCY ?? 16);
const CLIENTS = Number(process.env.FEED_CLIENTS ?? 4);
// workerd evicts an idle object whose sockets are all hibernatable after about 10 s.
const IDLE_MS = Number(process.env.FEED_IDLE_MS ?? 12_000);

// The benchmark's main module (bench-only): the bundle, with the odds hub and
// the relay noting when each odds version reaches them (workerd's Date.now(),
// which is the start of the event: timers do not advance during execution),
// how many times the hub was constructed (once more after every hibernation),
// and a route that has the hub publish items itself, bypassing the pipeline.
const probe = `import * as app from "./index.js";
export * from "./index.js";
let built = 0;
const seen = { relay: [], hub: [] };
const note = (where, entries) => {
  const t = Date.now();
  for (const e of entries) if (e.type === "odds.updated") seen[where].push([e.data.version, t]);
};
export class OddsFeed extends app.OddsFeed {
  constructor(ctx, env) { super(ctx, env); built++; }
  deliver(source, entries) { note("hub", entries.map((e) => e.event)); return super.deliver(source, entries); }
  benchPublish(eventId, from, k) {
    for (let v = from; v < from + k; v++) this.publish([{ topic: eventId, body: { type: "update", eventId, payload: { version: v } } }]);
  }
  probe() { return { built, relay: seen.relay.splice(0), hub: seen.hub.splice(0) }; }
}
export class Relay extends app.Relay {
  append(events) { note("relay", events); return super.append(events); }
}
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const hub = env.ODDS_FEED.getByName("odds");
    if (url.pathname === "/bench/probe") return Response.json(await hub.probe());
    if (url.pathname === "/bench/publish") {
      const q = url.searchParams;
      await hub.benchPublish(q.get("event"), Number(q.get("from")), Number(q.get("k")));
      return Response.json({ ok: true });
    }
    return app.default.fetch(request, env, ctx);
  },
};
`;

const app = await servers.startRushgate({ name: "rushgate-feeds", probe: { file: "feeds-probe.js", source: probe } });
// The baseline: the least a hibernating hub can be on the same runtime (lib/servers.ts).
const minimal = await servers.startMinimalHub();
const workerd = app.procs[0]!.pid;
const minimalPid = minimal.procs[0]!.pid;
const wsUrl = (server: servers.Server, path: string) => {
  const u = new URL(path, server.url);
  u.protocol = "ws:";
  return u.href;
};
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
type Probe = { built: number; relay: [number, number][]; hub: [number, number][] };
const readProbe = async () => (await (await fetch(new URL("/bench/probe", app.url))).json()) as Probe;

// --- client processes ---
type Got = { first: number; last: number };
/** FEED_CLIENTS forked client processes holding the sockets of one hub. */
class Clients {
  private procs: { child: ChildProcess; n: number }[] = [];
  private reports = new Map<number, Got[]>();
  private waiters = new Map<number, ((g: Got) => void)[]>();
  private replies: (() => void)[] = [];
  slowClosed = 0;
  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const child = fork(join(root, "bench/lib/feed-client.ts"), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child.on("message", (m: { type: string; version: number; first: number; last: number }) => {
        if (m.type === "slow-closed") this.slowClosed++;
        else if (m.type === "got") {
          this.reports.set(m.version, [...(this.reports.get(m.version) ?? []), { first: m.first, last: m.last }]);
          this.settle(m.version);
        } else this.replies.shift()?.();
      });
      this.procs.push({ child, n: 0 });
    }
  }
  get pids(): number[] {
    return this.procs.map((p) => p.child.pid!);
  }
  private settle(version: number): void {
    const list = this.reports.get(version);
    const done = this.waiters.get(version);
    if (!list || !done || list.length < this.procs.filter((p) => p.n > 0).length) return;
    this.reports.delete(version);
    this.waiters.delete(version);
    for (const f of done) f({ first: Math.min(...list.map((g) => g.first)), last: Math.max(...list.map((g) => g.last)) });
  }
  /** Resolves when every socket has `version`: the first and the last socket's arrival (wall-clock ms). */
  arrival(version: number): Promise<Got> {
    return new Promise<Got>((resolve) => {
      this.waiters.set(version, [...(this.waiters.get(version) ?? []), resolve]);
      this.settle(version);
    });
  }
  /** Sends a command to every client and waits until each has replied. */
  private async all(cmd: (i: number) => Record<string, unknown>): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p, i) =>
          new Promise<void>((resolve) => {
            this.replies.push(resolve);
            p.child.send(cmd(i));
          }),
      ),
    );
  }
  /** Opens `total` more sockets, spread evenly over the processes. */
  async open(url: string, total: number): Promise<void> {
    const k = this.procs.length;
    const share = (i: number) => Math.floor(total / k) + (i < total % k ? 1 : 0);
    for (const [i, p] of this.procs.entries()) p.n += share(i);
    await this.all((i) => ({ cmd: "open", url, n: share(i) }));
  }
  async close(): Promise<void> {
    await this.all(() => ({ cmd: "close" }));
    for (const p of this.procs) p.n = 0;
  }
  kill(): void {
    for (const p of this.procs) p.child.kill();
  }
}
const clients = new Clients(CLIENTS);

// --- posting odds ---
let version = 0;
async function postOdds(eventId: string, v: number, market = "1X2"): Promise<number> {
  const t0 = now();
  const res = await fetch(new URL("/api/odds", app.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...servers.adminHeaders },
    body: JSON.stringify({
      event_id: eventId,
      home_team: "H",
      away_team: "A",
      market,
      odds: { home: (1 + (v % 900) / 100).toFixed(2), draw: "3.30", away: "2.95" },
      updated_at: new Date().toISOString(),
      source: "bench",
      version: v,
    }),
  });
  if (res.status !== 201) throw new Error(`POST /api/odds: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  return now() - t0;
}


const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const load = [loadavg()[0]!];
/** A process's soft limit on open files (workerd keeps what it was started with). */
const fdLimit = (pid: number) => Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1]);

// --- 1. one update to SOCKETS hibernated sockets ---
// Warm the hub and the Odds actor first, so the rounds time what a live feed does.
await postOdds("BENCH_BIG", ++version);
const fdsBefore = fds(workerd);
const rssBefore = rssMiB(workerd);
const clientFdsBefore = clients.pids.reduce((n, pid) => n + fds(pid), 0);
// workerd holds two descriptors per socket (a dup of each connection's; the
// minimal hub below does the same), so its descriptor limit may hold fewer
// than SOCKETS: open a first thousand, measure, and open only what fits.
const bigUrl = wsUrl(app, "/ws/odds?events=BENCH_BIG");
const probeCount = Math.min(1000, SOCKETS);
await clients.open(bigUrl, probeCount);
const perSocket = (fds(workerd) - fdsBefore) / probeCount;
const limit = fdLimit(workerd);
const fit = Math.floor((limit - fdsBefore - 64) / perSocket); // 64 spare for storage files and requests
const held = Math.min(SOCKETS, fit);
await clients.open(bigUrl, held - probeCount);
const fdsOpen = fds(workerd);
const rssOpen = rssMiB(workerd);
const clientFdsPerSocket = (clients.pids.reduce((n, pid) => n + fds(pid), 0) - clientFdsBefore) / held;
console.error(`${held} sockets open (asked ${SOCKETS}, ${fit} fit under workerd's limit of ${limit}); fds ${fdsBefore} → ${fdsOpen}, RSS ${rssBefore.toFixed(0)} → ${rssOpen.toFixed(0)} MiB`);
const cold = { first: [] as number[], last: [] as number[] };
const warm = { first: [] as number[], last: [] as number[] };
let hibernated = 0;
let rssIdle = 0;
for (let round = 0; round < ROUNDS; round++) {
  const before = (await readProbe()).built;
  await sleep(IDLE_MS);
  rssIdle = Math.max(rssIdle, rssMiB(workerd));
  for (const sample of [cold, warm]) {
    const v = ++version;
    const t0 = now();
    const got = clients.arrival(v);
    await postOdds("BENCH_BIG", v);
    const { first, last } = await got;
    sample.first.push(first - t0);
    sample.last.push(last - t0);
  }
  // The hub was built again for the first update: it had been evicted, its sockets kept.
  if ((await readProbe()).built > before) hibernated++;
  console.error(`round ${round + 1}/${ROUNDS}: after idle, last socket ${cold.last.at(-1)!.toFixed(0)} ms; awake ${warm.last.at(-1)!.toFixed(0)} ms`);
}
await clients.close();
// workerd lets go of a socket's descriptors as its close completes: wait for
// that, or the next sockets find none left ("dup(): Too many open files").
for (let i = 0; i < 600 && fds(workerd) > fdsBefore + 64; i++) await sleep(100);
load.push(loadavg()[0]!);

// --- 2. updates per second, one hub, FANOUT_SOCKETS sockets ---
await postOdds("BENCH_FANOUT", ++version);
await clients.open(wsUrl(app, "/ws/odds?events=BENCH_FANOUT"), FANOUT_SOCKETS);
// The baseline hub's sockets, in their own client processes; its memory and descriptors per socket.
const base = { fds: fds(minimalPid), rss: rssMiB(minimalPid) };
const baseClients = new Clients(CLIENTS);
await baseClients.open(wsUrl(minimal, "/ws"), FANOUT_SOCKETS);
const baseFdsPerSocket = (fds(minimalPid) - base.fds) / FANOUT_SOCKETS;
const baseRssPerSocket = ((rssMiB(minimalPid) - base.rss) * 1024) / FANOUT_SOCKETS;
await readProbe(); // clears the probe's notes

type Run = { seconds: number; cpu: { workerd: number; clients: number }; posts: number[] };
async function timed(pool: Clients, pid: number, versions: number[], drive: () => Promise<number[]>): Promise<Run> {
  const clientCpu = () => pool.pids.reduce((s, p) => s + cpuMicros(p), 0);
  const cpu0 = { workerd: cpuMicros(pid), clients: clientCpu() };
  const t0 = now();
  const lastArrival = pool.arrival(Math.max(...versions));
  const posts = await drive();
  await lastArrival;
  return {
    seconds: (now() - t0) / 1000,
    posts,
    cpu: { workerd: cpuMicros(pid) - cpu0.workerd, clients: clientCpu() - cpu0.clients },
  };
}
const range = (from: number, k: number) => Array.from({ length: k }, (_, i) => from + i);

// a. One update at a time, each POST answered before the next; every version's arrival kept for the hops.
const seqVersions = range(version + 1, UPDATES);
version += UPDATES;
const seqArrivals = new Map<number, { t0: number; posted: number } & Partial<Got>>();
for (const v of seqVersions) void clients.arrival(v).then((g) => Object.assign(seqArrivals.get(v)!, g));
const sequential = await timed(clients, workerd, seqVersions, async () => {
  const posts: number[] = [];
  for (const v of seqVersions) {
    const t0 = now();
    seqArrivals.set(v, { t0, posted: 0 });
    posts.push(await postOdds("BENCH_FANOUT", v));
    seqArrivals.get(v)!.posted = now();
  }
  return posts;
});
const seqProbe = await readProbe();

// b. FEED_CONCURRENCY updates in flight (each on its own market, so none is stale by arriving early).
const conVersions = range(version + 1, UPDATES);
version += UPDATES;
const concurrent = await timed(clients, workerd, conVersions, async () => {
  const posts: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < conVersions.length) {
        const v = conVersions[next++]!;
        posts.push(await postOdds("BENCH_FANOUT", v, `M${v}`));
      }
    }),
  );
  return posts;
});
await readProbe();

// c. The hub's own fan-out, beside the minimal hub's, in interleaved rounds: each
//    publishes UPDATES items itself (rushgate's hub: one transaction and one send loop each).
const publish = (server: servers.Server, from: number) => async () => {
  const q = new URLSearchParams({ event: "BENCH_FANOUT", from: String(from), k: String(UPDATES) });
  const res = await fetch(new URL(`/bench/publish?${q}`, server.url));
  if (!res.ok) throw new Error(`publish on ${server.name}: ${res.status} ${await res.text()}`);
  return [];
};
const hubRuns: Run[] = [];
const baseRuns: Run[] = [];
for (let round = 0; round < Math.max(3, Math.ceil(ROUNDS / 2)); round++) {
  const from = 1_000_000_000 + round * UPDATES;
  hubRuns.push(await timed(clients, workerd, range(from, UPDATES), publish(app, from)));
  baseRuns.push(await timed(baseClients, minimalPid, range(from, UPDATES), publish(minimal, from)));
}
await clients.close();
await baseClients.close();
load.push(loadavg()[0]!);
clients.kill();
baseClients.kill();
await app.stop();
await minimal.stop();
servers.cleanup();

// Hops of the one-at-a-time run, per update (ms), from the probe's notes (workerd's clock, ms resolution).
const at = (notes: [number, number][]) => new Map(notes.map(([v, t]) => [v, t]));
const relayAt = at(seqProbe.relay);
const hubAt = at(seqProbe.hub);
const hops = { post: [] as number[], relay: [] as number[], hub: [] as number[], first: [] as number[], last: [] as number[], total: [] as number[] };
for (const v of seqVersions) {
  const a = seqArrivals.get(v)!;
  const r = relayAt.get(v);
  const h = hubAt.get(v);
  if (r === undefined || h === undefined || a.first === undefined || a.last === undefined) continue;
  hops.post.push(a.posted - a.t0);
  hops.relay.push(r - a.posted);
  hops.hub.push(h - r);
  hops.first.push(a.first - h);
  hops.last.push(a.last - a.first);
  hops.total.push(a.last - a.t0);
}

const rate = (r: Run) => UPDATES / r.seconds;
const perMsg = (r: Run, who: "workerd" | "clients") => r.cpu[who] / (UPDATES * FANOUT_SOCKETS);
const medianRun = (runs: Run[]) => runs.slice().sort((a, b) => rate(a) - rate(b))[Math.floor(runs.length / 2)]!;
const row = (name: string, r: Run) => ({
  run: name,
  "updates/s": fmt(rate(r)),
  "messages/s": fmt(rate(r) * FANOUT_SOCKETS),
  "workerd CPU µs/message": fmt(perMsg(r, "workerd")),
  "messages/s per workerd CPU-second": fmt(1e6 / perMsg(r, "workerd")),
  "clients CPU µs/message": fmt(perMsg(r, "clients")),
});
const p = (xs: number[]) => ({ p50: fmt(median(xs)), p99: fmt(pct(xs, 99)) });
const hubOnly = medianRun(hubRuns);
const baseOnly = medianRun(baseRuns);
const rateRatio = median(hubRuns.map((r, i) => rate(r) / rate(baseRuns[i]!)));
const cpuRatio = median(hubRuns.map((r, i) => perMsg(r, "workerd") / perMsg(baseRuns[i]!, "workerd")));
const n = (x: number) => x.toLocaleString("en-US");

console.log(`### Live feeds (\`npm run bench:feeds\`)

\`workerd serve\`; the clients are Node's WebSocket in ${CLIENTS} forked processes per hub, on the same ${navigator.hardwareConcurrency} cores as workerd. Load average ${load.map((l) => l.toFixed(1)).join(" → ")} over the run.

**One update to ${n(held)} sockets on one hub**${held < SOCKETS ? ` (${n(SOCKETS)} asked: workerd holds ${perSocket.toFixed(2)} descriptors per socket and its limit is ${n(limit)}, so ${n(fit)} fit)` : ""}, end to end (POST → Odds actor → outbox alarm → relay → hub → sockets), ${ROUNDS} rounds, ms from sending the POST:

${table([
  { update: `after ${IDLE_MS / 1000} s idle, first socket (the hub had hibernated in ${hibernated} of ${ROUNDS} rounds)`, ...p(cold.first) },
  { update: "after idle, last socket", ...p(cold.last) },
  { update: "hub awake, first socket", ...p(warm.first) },
  { update: "hub awake, last socket", ...p(warm.last) },
])}

${table([
  { measure: "workerd file descriptors per socket", rushgate: ((fdsOpen - fdsBefore) / held).toFixed(2), "minimal hub": baseFdsPerSocket.toFixed(2), note: `${n(fdsBefore)} → ${n(fdsOpen)} with ${n(held)} sockets; limit ${n(limit)}; each client socket holds ${clientFdsPerSocket.toFixed(2)}` },
  { measure: "workerd RSS per socket (open)", rushgate: `${(((rssOpen - rssBefore) * 1024) / held).toFixed(1)} KiB`, "minimal hub": `${baseRssPerSocket.toFixed(1)} KiB`, note: `${rssBefore.toFixed(0)} → ${rssOpen.toFixed(0)} MiB; ${rssIdle.toFixed(0)} MiB at most while hibernated (RSS is not given back)` },
])}

**One hub fanning out to ${n(FANOUT_SOCKETS)} sockets**, ${UPDATES} updates a run:

${table([
  row("end to end, one POST at a time", sequential),
  row(`end to end, ${CONCURRENCY} POSTs in flight`, concurrent),
  row("rushgate's hub alone (it publishes: no POST, actor or relay), median round", hubOnly),
  row("minimal hibernating hub (no storage, a bare send loop), median round", baseOnly),
])}

| ratio (median of ${hubRuns.length} interleaved rounds) | measured |
| --- | --- |
| rushgate's hub ÷ minimal hub, updates/s | ${rateRatio.toFixed(2)} |
| rushgate's hub ÷ minimal hub, workerd CPU per message | ${cpuRatio.toFixed(2)} |

Hops of an update, one POST at a time (ms; the relay and hub times are workerd's clock, ms resolution):

${table([
  { hop: "POST answered (Odds actor committed)", ...p(hops.post) },
  { hop: "→ relay append (the outbox alarm, which gathers for up to 25 ms; RPC)", ...p(hops.relay) },
  { hop: "→ hub deliver (relay commit, forward RPC)", ...p(hops.hub) },
  { hop: "→ first socket (hub commit, the send loop, a client reads)", ...p(hops.first) },
  { hop: "→ last socket (the clients read the rest)", ...p(hops.last) },
  { hop: "POST sent → last socket", ...p(hops.total) },
])}

POST latency with ${CONCURRENCY} in flight: p50 ${fmt(median(concurrent.posts))} ms, p99 ${fmt(pct(concurrent.posts, 99))} ms. Sockets closed as slow clients: ${clients.slowClosed}.
`);
process.exit(0);
