// npm run bench:rain — one red-packet campaign of 1,000,000 packets per shard
// count (1 and 16), opened by a new user per request under 32 connections, on
// `workerd serve`, beside the constant-JSON Worker in the same interleaved
// rounds of BENCH_SECONDS / BENCH_ROUNDS seconds each (lib/rounds.ts).
// BENCH_TMPFS=1 adds the same trials with storage on tmpfs, where a commit costs
// no fsync: what sharding costs when the disk is not the limit.
import { interleave, ratio, rows, table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const slice = Math.max(1, Math.round(seconds / rounds));
const shardCounts = (process.env.BENCH_SHARDS ?? "1,16").split(",").map(Number);
const inventory: Record<string, number> = { "1": 600_000, "5": 300_000, "20": 90_000, "100": 9_000, "888": 1_000 };
const packets = Object.values(inventory).reduce((a, b) => a + b, 0);
// A new user per request: `{i}` restarts in every load process, so each round has its own prefix.
const openBody = (round: number) => `{"user_id":"r${round}-user-{i}"}`;

type View = { opened: number; remaining: number; shards: number; inventory: Record<string, { total: number; opened: number }> };

const tmpfs = process.env.BENCH_TMPFS === "1";
const ceiling = await servers.startConstant();
type Store = { label: string; app: servers.Server };
const stores: Store[] = [
  { label: "", app: await servers.startRushgate() },
  ...(tmpfs ? [{ label: ", tmpfs", app: await servers.startRushgate({ tmpfs: true }) }] : []),
];
const headers = { "content-type": "application/json", ...servers.adminHeaders };

async function createCampaign(app: servers.Server, shards: number): Promise<string> {
  const now = Date.now();
  const res = await fetch(new URL("/api/campaigns", app.url), {
    method: "POST",
    headers,
    body: JSON.stringify({
      name: `bench ${shards}`,
      start_time: new Date(now - 3_600_000).toISOString(),
      end_time: new Date(now + 86_400_000).toISOString(),
      inventory,
      shards,
    }),
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

const trials = stores.flatMap((store) => shardCounts.map((shards) => ({ store, shards, name: `opens, ${shards} shard${shards > 1 ? "s" : ""}${store.label}` })));
const ids = new Map<string, string>();
for (const t of trials) ids.set(t.name, await createCampaign(t.store.app, t.shards));
const nameOf = (shards: number, store = stores[0]!) => trials.find((t) => t.shards === shards && t.store === store)!.name;

const open = (url: URL, path: string, round: number) => ({
  url: url.href,
  method: "POST" as const,
  path,
  body: openBody(round),
  headers: servers.adminHeaders,
  connections,
  seconds: slice,
});
const constant = "constant-JSON Worker";
const measured = await interleave(
  [
    { name: constant, procs: ceiling.procs, spec: (round) => open(ceiling.url, "/api/campaigns/x/open", round) },
    ...trials.map((t) => ({
      name: t.name,
      procs: t.store.app.procs,
      spec: (round: number) => open(t.store.app.url, `/api/campaigns/${ids.get(t.name)}/open`, round),
    })),
  ],
  rounds,
);
await ceiling.stop();

// After the load: every campaign's counts agree with what the clients saw.
const checks: string[] = [];
let allOk = true;
for (const { name, shards, store } of trials) {
  const runs = measured.get(name)!.runs;
  const view = (await (await fetch(new URL(`/api/campaigns/${ids.get(name)}`, store.app.url), { headers })).json()) as View;
  const status: Record<string, number> = {};
  let errors = 0;
  for (const result of runs) {
    errors += result.errors;
    for (const [code, n] of Object.entries(result.status)) status[code] = (status[code] ?? 0) + n;
  }
  // wrk stops counting at each deadline with up to one request per connection
  // still in flight; those opens land in the store but their 200s go unread.
  const ok200 = status["200"] ?? 0;
  const slack = connections * rounds;
  const lines = Object.entries(view.inventory);
  const perAmount =
    lines.length === Object.keys(inventory).length &&
    lines.every(([a, l]) => l.total === inventory[a] && l.opened >= 0 && l.opened <= l.total) &&
    lines.reduce((s, [, l]) => s + l.opened, 0) === view.opened;
  const ok =
    view.shards === shards &&
    ok200 <= view.opened &&
    view.opened <= ok200 + slack &&
    view.opened + view.remaining === packets &&
    perAmount &&
    Object.keys(status).every((code) => code === "200") &&
    errors === 0;
  allOk &&= ok;
  checks.push(
    `${name}: status ${JSON.stringify(status)}, errors ${errors}; opened ${view.opened} ≥ 200s read ${ok200} (≤ ${slack} in flight at the deadlines); ` +
      `opened + remaining = ${view.opened + view.remaining} of ${packets}; per-amount totals ${perAmount ? "consistent" : "INCONSISTENT"} → ${ok ? "OK" : "VIOLATED"}`,
  );
}
for (const { app } of stores) await app.stop();
servers.cleanup();

const most = Math.max(...shardCounts);
console.log(`### Red-packet rain (\`npm run bench:rain\`)

wrk, ${connections} connections, ${packets.toLocaleString("en-US")} packets per campaign, a new user per open, ${rounds} interleaved rounds of ${slice} s; medians.

${table(rows(measured, constant, "opens/s"))}

| ratio (median of per-round ratios) | measured | target |
| --- | --- | --- |
| opens/s, ${most} shards ÷ 1 shard | ${ratio(measured, nameOf(most), nameOf(1)).toFixed(2)} | ≥ 0.8 |
${stores
  .slice(1)
  .map((st) => `| opens/s, ${most} shards ÷ 1 shard${st.label} | ${ratio(measured, nameOf(most, st), nameOf(1, st)).toFixed(2)} | (storage not the limit) |\n| opens/s, 1 shard${st.label} ÷ on disk | ${ratio(measured, nameOf(1, st), nameOf(1)).toFixed(2)} | — |\n`)
  .join("")}
Invariants after the load:
${checks.map((c) => `- ${c}`).join("\n")}
`);
if (!allOk) process.exit(1);
