// npm run bench:wallet — bets/s against one wallet and across 1,000 wallets, each
// under 32 connections, against the runtime's ceiling measured the same way in the
// same run (interleaved rounds, lib/rounds.ts). Every request is a new bet (a
// unique Idempotency-Key), a write.
import type { LoadSpec } from "./lib/load.ts";
import { interleave, total } from "./lib/rounds.ts";
import { build, cores, startCeiling, startRushgate, table } from "./lib/runtime.ts";

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
  headers: { "idempotency-key": `${keyPrefix}{i}` },
  connections,
  seconds: slice,
});

build();
const ceiling = await startCeiling();
const app = await startRushgate();
const api = (path: string, init?: RequestInit) => fetch(new URL(path, app.url), init);
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

const hotRun = `bets on one wallet`;
const spreadRun = `bets across ${wallets} wallets`;
const { rows, results } = await interleave(
  { name: "ceiling: constant-JSON Worker", spec: (round) => bets(ceiling.url, "user_{i%1000}", `c${round}-`) },
  [
    { name: hotRun, spec: (round) => bets(app.url, "hot", `a${round}-`) },
    { name: spreadRun, spec: (round) => bets(app.url, "user_{i%1000}", `b${round}-`) },
  ],
  rounds,
);
await ceiling.stop();

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

console.log(
  `\nbench:wallet — workerd via Miniflare, request logging off, ${cores()} cores, ${connections} connections, ` +
    `median of ${rounds} interleaved rounds of ${slice} s (ratio: median of each round's bets/s ÷ that round's ceiling)\n`,
);
console.log(table(rows));
console.log("");
for (const c of checks) console.log(`invariant (${c.name}) held = stake × bets, available ≥ 0, bets = 201s ± in flight: ${c.detail} → ${c.ok ? "OK" : "VIOLATED"}`);
if (!checks.every((c) => c.ok)) process.exit(1);
