// npm run bench:offers — the offers engine's cost and speed on `workerd serve`:
// - bets/s across 1,000 wallets with the engine on against off (OFFERS_ENGINE),
//   in the same interleaved rounds (lib/rounds.ts), wrk at 32 connections;
// - windows closed per second with awards: 1,000 users each fill one window
//   past the threshold, and the clock is timed from the windows' close instant
//   until every award is reserved (the offer's usage counts them);
// - the time from a rule change to its first effect: a PUT, then a stream of
//   qualifying bets; the first award paid at the new version, after the PUT.
import { interleave, ratio, rows, table, total } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";
import type { LoadSpec } from "./lib/load.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const slice = Math.max(1, Math.round(seconds / rounds));
const wallets = 1000;
const funds = 100_000_000;

const json = { "content-type": "application/json", ...servers.adminHeaders };
const api = async (base: URL, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(new URL(path, base), { method, headers: { ...json, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function fundAll(base: URL, users: string[]) {
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async (u) => {
        const r = await api(base, "POST", `/api/wallets/${u}/deposits`, { amount_cents: funds }, { "idempotency-key": `seed-${u}` });
        if (r.status !== 201) throw new Error(`deposit ${u}: ${r.status}`);
      }),
    );
  }
}
const bet = (user: string, market: string, stake: number) => ({ user_id: user, event_id: "evt", market, selection: "HOME", stake_cents: stake, odd_value: "2.5" });

// ---- 1. the bet path, engine on against off ----
const on = await servers.startRushgate({ name: "offers-on" });
const off = await servers.startRushgate({ name: "offers-off", vars: { OFFERS_ENGINE: "off" } });
const users = Array.from({ length: wallets }, (_, i) => `user_${i}`);
await Promise.all([fundAll(on.url, users), fundAll(off.url, users)]);
for (const pct of [0.05, 0.1]) await api(on.url, "POST", "/api/offers", { name: `o${pct}`, min_stake_cents: 0, bonus_pct: pct, markets: ["1X2"] });

const bets = (url: URL, prefix: string): LoadSpec => ({
  url: url.href,
  method: "POST",
  path: "/api/bets",
  body: `{"user_id":"user_{i%1000}","event_id":"evt_{i}","market":"1X2","selection":"HOME","stake_cents":100,"odd_value":"2.5"}`,
  headers: { "idempotency-key": `${prefix}{i}`, ...servers.adminHeaders },
  connections,
  seconds: slice,
});
const engineOn = "bets across 1,000 wallets, offers engine on";
const engineOff = "bets across 1,000 wallets, offers engine off";
const measured = await interleave(
  [
    { name: engineOff, procs: off.procs, spec: (round) => bets(off.url, `off${round}-`) },
    { name: engineOn, procs: on.procs, spec: (round) => bets(on.url, `on${round}-`) },
  ],
  rounds,
);
const onErrors = total(measured.get(engineOn)!.runs, "201").errors;
// Invariant: every accepted bet on the engine's side is in a window (sums of the windows = stakes held).
let windowSum = 0;
let held = 0;
for (const u of users.slice(0, 50)) {
  const w = await api(on.url, "GET", `/api/wallets/${u}/windows?limit=100`);
  windowSum += (w.body.windows as { sum_cents: number }[]).reduce((s, x) => s + x.sum_cents, 0);
  held += (await api(on.url, "GET", `/api/wallets/${u}`)).body.cash.held;
}
await on.stop();
await off.stop();

// ---- 2. windows closed per second with awards, and 3. rule change → first effect ----
const W = 60_000;
const fast = await servers.startRushgate({ name: "offers-windows", tmpfs: true, vars: { WINDOW_SECONDS: String(W / 1000), ALLOWED_LATENESS_SECONDS: "0" } });
const closers = Array.from({ length: wallets }, (_, i) => `closer_${i}`);
const offer = (await api(fast.url, "POST", "/api/offers", { name: "w", min_stake_cents: 0, bonus_pct: 0.1, markets: ["W"] })).body.id as string;
// Every user fills one window past the threshold, from events.bet_placed as the
// bridge hands it over (500 messages a call), just after a window boundary, so
// all the windows close at the same instant and the close work is what is timed.
const bridge = { authorization: `Bearer ${servers.secrets.BRIDGE_TOKEN}` };
await sleep(W - (Date.now() % W) + 50);
const windowEnd = Math.ceil(Date.now() / W) * W;
for (let i = 0; i < closers.length; i += 500) {
  const messages = closers.slice(i, i + 500).map((u, j) => ({
    topic: "events.bet_placed",
    id: `bench:${i + j}`,
    value: { eventId: "evt", ts: windowEnd - W + 10, userId: u, market: "W", stake: 6000, currency: "GBP", odds: 2 },
  }));
  const res = await api(fast.url, "POST", "/internal/ingest", { messages }, bridge);
  if (res.status !== 200 || !res.body.results.every((r: { ok: boolean }) => r.ok)) throw new Error(`ingest: ${res.status}`);
}
if (Date.now() >= windowEnd) throw new Error("the bets took longer than one window to place; raise W");
let awards = 0;
let doneAt = 0;
for (let t = 0; t < 2400; t++) {
  awards = (await api(fast.url, "GET", `/api/offers/${offer}`)).body.usage.awards;
  if (awards >= closers.length) {
    doneAt = Date.now();
    break;
  }
  await sleep(50);
}
const closeSeconds = (doneAt - windowEnd) / 1000;
const windowsPerSecond = doneAt ? closers.length / closeSeconds : NaN;

// Rule change: PUT bonus 0.1 → 0.2, then a qualifying bet every 100 ms from fresh
// users (API bets, so their time is the placement time); the effect shows when
// their window closes (≤ 60 s here), so the figure is the award's own record of
// which version it used, not the wall time to its window's close.
const rule = (await api(fast.url, "POST", "/api/offers", { name: "r", min_stake_cents: 0, bonus_pct: 0.1, markets: ["R"] })).body.id as string;
const movers = Array.from({ length: 30 }, (_, i) => `mover_${i}`);
await fundAll(fast.url, movers);
await sleep(1500); // every isolate's snapshot now holds version 1
const changed = await api(fast.url, "PUT", `/api/offers/${rule}`, { bonus_pct: 0.2 });
const changeAt = Date.now();
if (changed.status !== 200) throw new Error(`PUT: ${changed.status}`);
for (const u of movers) {
  await api(fast.url, "POST", "/api/bets", bet(u, "R", 6000), { "idempotency-key": `r-${u}` });
  await sleep(100);
}
await sleep(W - (Date.now() % W) + 3000);
const after: { offer_version: number; awarded_at: string }[] = [];
for (const u of movers) after.push(...(await api(fast.url, "GET", `/api/awards?user_id=${u}`)).body.awards);
const firstNew = Math.min(...after.filter((a) => a.offer_version === 2).map((a) => Date.parse(a.awarded_at)));
// Windows closing more than the snapshot's age (1 s) after the change must use the new version.
const oldAfter = after.filter((a) => a.offer_version === 1 && Date.parse(a.awarded_at) > changeAt + 1000).length;
await fast.stop();
servers.cleanup();

const r = ratio(measured, engineOn, engineOff);
console.log(`### Offers engine (\`npm run bench:offers\`)

wrk, ${connections} connections, ${rounds} interleaved rounds of ${slice} s; medians. Every bet a new Idempotency-Key, stake 100, across ${wallets} funded wallets; two active offers on the engine's side.

${table(rows(measured, engineOff))}

| figure | measured | target |
| --- | --- | --- |
| bets/s, engine on ÷ off (median of per-round ratios) | ${r.toFixed(2)} | ≥ 0.8 |
| windows closed per second, each with an award (${wallets} windows closing at the same instant) | ${windowsPerSecond.toFixed(0)} (${closeSeconds.toFixed(2)} s from the close instant to the last award) | report |
| rule change → first award paid at the new version (includes waiting for its window to close) | ${(firstNew - changeAt).toFixed(0)} ms | report |
| awards at the old version after the change | ${oldAfter} | 0 for windows closing > 1 s after it |

Invariants: engine-side errors ${onErrors}; stakes held = window sums for 50 sampled wallets: ${held} = ${windowSum} → ${held === windowSum ? "OK" : "VIOLATED"}; awards ${awards} of ${wallets} → ${awards === wallets ? "OK" : "VIOLATED"}.
`);
if (held !== windowSum || awards !== wallets || onErrors !== 0 || oldAfter !== 0) process.exit(1);
