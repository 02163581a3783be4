// npm run bench:wallet — bets/s against one wallet and across 1,000 wallets, each
// 32 connections for 10 s, against the runtime's ceiling measured the same way in
// the same run. Every request is a new bet (a unique Idempotency-Key), a write.
import { load, type LoadResult, type LoadSpec } from "./lib/load.ts";
import { build, cores, startCeiling, startRushgate, table } from "./lib/runtime.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
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
  seconds,
});

build();

const ceiling = await startCeiling();
const base = await load(bets(ceiling.url, "user_{i%1000}", "c"));
await ceiling.stop();

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

const hot = await load(bets(app.url, "hot", "a"));
const spread = await load(bets(app.url, "user_{i%1000}", "b"));

// Invariants after the load: held = stake × bets accepted (none is settled),
// posted untouched, available ≥ 0; and bets accepted = the 201s read, give or take
// the requests in flight at the deadline (they land, their 201s go unread).
type Check = { name: string; ok: boolean; detail: string };
function check(name: string, result: LoadResult, accounts: Cash[], funds: number): Check {
  const accepted = accounts.reduce((n, c) => n + c.held / stake, 0);
  const read = result.status["201"] ?? 0;
  const ok =
    accounts.every((c) => c.posted === funds && c.available === c.posted - c.held && c.available >= 0 && c.held % stake === 0) &&
    read <= accepted &&
    accepted <= read + connections &&
    result.errors === 0 &&
    read === result.total;
  return { name, ok, detail: `bets held ${accepted}, 201s read ${read} of ${result.total} replies, errors ${result.errors}` };
}
const checks = [
  check("one wallet", hot, [await cash("hot")], hotFunds),
  check(`${wallets} wallets`, spread, await Promise.all(users.map(cash)), walletFunds),
];
await app.stop();

const row = (run: string, r: LoadResult) => ({
  run,
  "req/s": r.rps.toFixed(0),
  "p50 ms": r.p50,
  "p99 ms": r.p99,
  ratio: (r.rps / base.rps).toFixed(2),
});
console.log(`\nbench:wallet — workerd via Miniflare, request logging off, ${cores()} cores, ${connections} connections, ${seconds} s each\n`);
console.log(
  table([
    row("ceiling: constant-JSON Worker", base),
    row("bets on one wallet", hot),
    row(`bets across ${wallets} wallets`, spread),
  ]),
);
console.log(`\nstatus codes: one wallet ${JSON.stringify(hot.status)}; ${wallets} wallets ${JSON.stringify(spread.status)}`);
for (const c of checks) console.log(`invariant (${c.name}) held = stake × bets, available ≥ 0, bets = 201s ± in flight: ${c.detail} → ${c.ok ? "OK" : "VIOLATED"}`);
if (!checks.every((c) => c.ok)) process.exit(1);
