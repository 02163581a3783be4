// npm run bench:wallet — bets/s against one wallet and across 1,000 wallets, each
// under 32 connections, on `workerd serve`, beside claims on one hot coupon, the
// constant-JSON Worker and Miniflare's (the old ceiling) in the same interleaved
// rounds (lib/rounds.ts). Every request is a new bet (a unique Idempotency-Key), a write.
import type { LoadSpec } from "./lib/load.ts";
import { interleave, ratio, rows, table, total } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const slice = Math.max(1, Math.round(seconds / rounds));
const wallets = 1000;
const stake = 100;
// Far more than a run can stake: every bet is accepted, none is refused for funds.
const hotFunds = 1_000_000_000_000;
const walletFunds = 100_000_000;

const betBody = (user: string) =>
  `{"user_id":"${user}","event_id":"evt_{i}","market":"1X2","selection":"HOME","stake_cents":${stake},"odd_value":"2.5"}`;
const bets = (url: URL, user: string, keyPrefix: string): LoadSpec => ({
  url: url.href,
  method: "POST",
  path: "/api/bets",
  body: betBody(user),
  headers: { "idempotency-key": `${keyPrefix}{i}`, ...servers.adminHeaders },
  connections,
  seconds: slice,
});

const ceiling = await servers.startConstant();
const miniflare = await servers.startMiniflareConstant();
const app = await servers.startRushgate();
const api = (path: string, init: RequestInit = {}) =>
  fetch(new URL(path, app.url), { ...init, headers: { ...servers.adminHeaders, ...(init.headers as Record<string, string>) } });
async function fund(user: string, amount_cents: number): Promise<void> {
  const res = await api(`/api/wallets/${user}/deposits`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `seed-${user}` },
    body: JSON.stringify({ amount_cents }),
  });
  if (res.status !== 201) throw new Error(`deposit to ${user} failed: ${res.status} ${await res.text()}`);
}
type Cash = { posted: number; held: number; available: number };
const cash = async (user: string) => ((await (await api(`/api/wallets/${user}`)).json()) as { cash: Cash }).cash;

const users = Array.from({ length: wallets }, (_, i) => `user_${i}`);
await fund("hot", hotFunds);
for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => fund(u, walletFunds)));

const created = await api("/api/coupons", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: "BENCH_HOT", amount: 10_000_000 }),
});
if (created.status !== 201) throw new Error(`create failed: ${created.status}`);

const constant = "constant-JSON Worker";
const oldCeiling = "Miniflare, constant-JSON Worker (the old ceiling)";
const claimsRun = "claims on one hot coupon";
const hotRun = `bets on one wallet`;
const spreadRun = `bets across ${wallets} wallets`;
const measured = await interleave(
  [
    { name: constant, procs: ceiling.procs, spec: (round) => bets(ceiling.url, "user_{i%1000}", `c${round}-`) },
    { name: oldCeiling, procs: miniflare.procs, spec: (round) => bets(miniflare.url, "user_{i%1000}", `m${round}-`) },
    {
      name: claimsRun,
      procs: app.procs,
      spec: (round) => ({
        url: app.url.href,
        method: "POST",
        path: "/api/coupons/claim",
        body: `{"user_id":"r${round}-u{i}","coupon_name":"BENCH_HOT"}`,
        headers: servers.adminHeaders,
        connections,
        seconds: slice,
      }),
    },
    { name: hotRun, procs: app.procs, spec: (round) => bets(app.url, "hot", `a${round}-`) },
    { name: spreadRun, procs: app.procs, spec: (round) => bets(app.url, "user_{i%1000}", `b${round}-`) },
  ],
  rounds,
);
await ceiling.stop();
await miniflare.stop();
const results = new Map([...measured].map(([k, m]) => [k, m.runs]));

// Invariants after the load: held = stake × bets accepted (none is settled),
// posted untouched, available ≥ 0; and bets accepted = the 201s read, give or take
// the requests in flight at the deadline (they land, their 201s go unread).
type Check = { name: string; ok: boolean; detail: string };
function check(name: string, run: string, accounts: Cash[], funds: number): Check {
  const accepted = accounts.reduce((n, c) => n + c.held / stake, 0);
  const { read, replies, errors } = total(results.get(run)!, "201");
  const ok =
    accounts.every((c) => c.posted === funds && c.available === c.posted - c.held && c.available >= 0 && c.held % stake === 0) &&
    read <= accepted &&
    accepted <= read + connections * rounds &&
    errors === 0 &&
    read === replies;
  return { name, ok, detail: `bets held ${accepted}, 201s read ${read} of ${replies} replies, errors ${errors}` };
}
const checks = [
  check("one wallet", hotRun, [await cash("hot")], hotFunds),
  check(`${wallets} wallets`, spreadRun, await Promise.all(users.map(cash)), walletFunds),
];
await app.stop();
servers.cleanup();

console.log(`### Bets (\`npm run bench:wallet\`)

wrk, ${connections} connections, ${rounds} interleaved rounds of ${slice} s; medians. Every bet a new Idempotency-Key, stake ${stake} at 2.5; wallets funded far beyond what a run stakes.

${table(rows(measured, constant))}

| ratio (median of per-round ratios) | measured | target |
| --- | --- | --- |
| bets on one wallet ÷ claims on one coupon | ${ratio(measured, hotRun, claimsRun).toFixed(2)} | ≥ 0.5 |
| bets across ${wallets} wallets ÷ bets on one wallet | ${ratio(measured, spreadRun, hotRun).toFixed(2)} | report |
| bets across ${wallets} wallets ÷ Miniflare constant JSON (the old ceiling) | ${ratio(measured, spreadRun, oldCeiling).toFixed(2)} | > 0.06 |

Invariants after the load:
${checks.map((c) => `- (${c.name}) held = stake × bets, available ≥ 0, bets = 201s ± in flight: ${c.detail} → ${c.ok ? "OK" : "VIOLATED"}`).join("\n")}
`);
if (!checks.every((c) => c.ok)) process.exit(1);
