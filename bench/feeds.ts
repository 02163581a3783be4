// npm run bench:feeds — the odds feed hub under many sockets, on workerd via
// Miniflare (lib/runtime.ts; `npm run start` on `workerd serve` was not on
// main when this was written).
//
// 1. Holds FEED_SOCKETS (10,000) sockets on one event of /ws/odds, posts one
//    update per round, and times until the first and the last socket has it
//    (end to end: POST → Odds actor → outbox alarm → relay → hub → sockets).
// 2. One hub fanning out to 1,000 sockets: FEED_UPDATES updates, posted
//    back to back; updates per second until every socket has every update.
// 3. Memory: workerd's RSS before and after opening the sockets, per socket.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { median } from "./lib/rounds.ts";
import { build, startRushgate, table } from "./lib/runtime.ts";

// workerd holds two file descriptors per socket: 10,000 sockets need a
// descriptor limit above 20,000 (`ulimit -n`); this machine's hard limit is 20,000.
const SOCKETS = Number(process.env.FEED_SOCKETS ?? 10_000);
const FANOUT_SOCKETS = Number(process.env.FEED_FANOUT_SOCKETS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const UPDATES = Number(process.env.FEED_UPDATES ?? 200);
const ADMIN = "bench-admin-token";

build();
const app = await startRushgate({ ADMIN_TOKEN: ADMIN });
const wsUrl = (path: string) => {
  const u = new URL(path, app.url);
  u.protocol = "ws:";
  return u;
};

let version = 0;
async function postOdds(eventId: string): Promise<void> {
  version++;
  const res = await fetch(new URL("/api/odds", app.url), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({
      event_id: eventId,
      home_team: "H",
      away_team: "A",
      market: "1X2",
      odds: { home: (1 + (version % 900) / 100).toFixed(2), draw: "3.30", away: "2.95" },
      updated_at: new Date().toISOString(),
      source: "bench",
      version,
    }),
  });
  if (res.status !== 201) throw new Error(`POST /api/odds: ${res.status} ${await res.text()}`);
}

/** The workerd processes Miniflare started. */
function workerdPids(): string[] {
  const pids = execFileSync("pgrep", ["-P", String(process.pid)]).toString().trim().split(/\s+/).filter(Boolean);
  return pids.filter((pid) => /^Name:\s*workerd/m.test(readFileSync(`/proc/${pid}/status`, "utf8")));
}

/** Open file descriptors of workerd: each socket costs some, and the process limit bounds how many sockets fit. */
const workerdFds = () => workerdPids().reduce((n, pid) => n + readdirSync(`/proc/${pid}/fd`).length, 0);

/** workerd's resident memory (kB): the runtime processes Miniflare started. */
function workerdRssKb(): number {
  const pids = execFileSync("pgrep", ["-P", String(process.pid)]).toString().trim().split(/\s+/).filter(Boolean);
  let kb = 0;
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    if (!/^Name:\s*workerd/m.test(status)) continue;
    kb += Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return kb;
}

type Sock = { ws: WebSocket; seen: number; onVersion: (v: number) => void };

/** Opens `n` sockets following `eventId`, in batches, and waits for each snapshot. */
async function open(n: number, eventId: string, onUpdate: (s: Sock, v: number) => void): Promise<Sock[]> {
  const socks: Sock[] = [];
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(wsUrl(`/ws/odds?events=${eventId}`));
          const s: Sock = { ws, seen: 0, onVersion: () => {} };
          ws.addEventListener("message", (e) => {
            const m = JSON.parse(String(e.data));
            if (m.type === "snapshot") resolve();
            if (m.type === "update") {
              s.seen = m.seq;
              onUpdate(s, m.payload.version);
              // Ack now and then, as a client must, so the hub's slow-client bound never trips.
              if (m.seq % 50 === 0) ws.send(JSON.stringify({ type: "ack", seq: m.seq }));
            }
          });
          ws.addEventListener("error", () => reject(new Error("socket error")));
          socks.push(s);
        }),
      ),
    );
  }
  return socks;
}

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

// --- 1. one update to 10,000 sockets ---
const rssBefore = workerdRssKb();
const fdsBefore = workerdFds();
let waiting: { version: number; left: number; first?: number; done: (t: number) => void } | null = null;
const big = await open(SOCKETS, "BENCH_BIG", (_s, v) => {
  if (!waiting || v !== waiting.version) return;
  waiting.first ??= performance.now();
  if (--waiting.left === 0) waiting.done(performance.now());
});
const rssAfter = workerdRssKb();
const fdsPerSocket = (workerdFds() - fdsBefore) / SOCKETS;
console.error(`${SOCKETS} sockets open; workerd fds per socket: ${fdsPerSocket.toFixed(2)}`);
// Let the hub go idle (it may hibernate) before the rounds.
await new Promise((r) => setTimeout(r, 2000));
const firsts: number[] = [];
const lasts: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  const done = new Promise<number>((resolve) => (waiting = { version: version + 1, left: big.length, done: resolve }));
  await postOdds("BENCH_BIG");
  const last = await done;
  firsts.push(waiting!.first! - t0);
  lasts.push(last - t0);
  await new Promise((r) => setTimeout(r, 200));
}

// workerd holds two descriptors per socket, so close these before opening more.
for (const s of big) s.ws.close();

// --- 2. updates per second to 1,000 sockets ---
let remaining = 0;
let allDone: () => void = () => {};
const small = await open(FANOUT_SOCKETS, "BENCH_FANOUT", () => {
  if (--remaining === 0) allDone();
});
remaining = FANOUT_SOCKETS * UPDATES;
const finished = new Promise<void>((r) => (allDone = r));
const t0 = performance.now();
for (let i = 0; i < UPDATES; i++) await postOdds("BENCH_FANOUT");
await finished;
const fanoutSeconds = (performance.now() - t0) / 1000;

for (const s of small) s.ws.close();
await app.stop();

console.log(`\nbench:feeds — Miniflare (workerd), ${navigator.hardwareConcurrency} cores, ${ROUNDS} rounds\n`);
console.log(
  table([
    { measure: `one update → ${SOCKETS} sockets, first socket (ms)`, p50: median(firsts).toFixed(1), p99: pct(firsts, 99).toFixed(1) },
    { measure: `one update → ${SOCKETS} sockets, last socket (ms)`, p50: median(lasts).toFixed(1), p99: pct(lasts, 99).toFixed(1) },
  ]),
);
console.log(
  table([
    {
      measure: `updates/s one hub fans out to ${FANOUT_SOCKETS} sockets`,
      value: Math.round(UPDATES / fanoutSeconds),
      "messages/s": Math.round((UPDATES * FANOUT_SOCKETS) / fanoutSeconds),
    },
    {
      measure: `workerd RSS per socket (${SOCKETS} sockets)`,
      value: `${(((rssAfter - rssBefore) * 1024) / SOCKETS / 1024).toFixed(1)} KiB`,
      "messages/s": "",
    },
  ]),
);
process.exit(0);
