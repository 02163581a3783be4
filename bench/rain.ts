// npm run bench:rain — one red-packet campaign of 1,000,000 packets, opened by a
// new user per request under 32 connections for 10 s, with 1, 4 and 16 shards in
// one run, against the runtime's ceiling measured the same way in the same run.
import { load } from "./lib/load.ts";
import { build, cores, startCeiling, startRushgate, table } from "./lib/runtime.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const shardCounts = [1, 4, 16];
const inventory: Record<string, number> = { "1": 600_000, "5": 300_000, "20": 90_000, "100": 9_000, "888": 1_000 };
const packets = Object.values(inventory).reduce((a, b) => a + b, 0);
const openBody = `{"user_id":"user_{i}"}`;

type View = { opened: number; remaining: number; shards: number; inventory: Record<string, { total: number; opened: number }> };

build();

const ceiling = await startCeiling();
const base = await load({ url: ceiling.url.href, method: "POST", path: "/api/campaigns/x/open", body: openBody, connections, seconds });
await ceiling.stop();

const rows: Record<string, string | number>[] = [
  { run: "ceiling: constant-JSON Worker", "opens/s": base.rps.toFixed(0), "p50 ms": base.p50, "p99 ms": base.p99, ratio: "1.00" },
];
const checks: string[] = [];
let allOk = true;

const app = await startRushgate();
const api = (path: string) => new URL(path, app.url);
for (const shards of shardCounts) {
  const now = Date.now();
  const created = await fetch(api("/api/campaigns"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: `bench ${shards}`,
      start_time: new Date(now - 3_600_000).toISOString(),
      end_time: new Date(now + 86_400_000).toISOString(),
      inventory,
      shards,
    }),
  });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };

  const opens = await load({ url: app.url.href, method: "POST", path: `/api/campaigns/${id}/open`, body: openBody, connections, seconds });
  const view = (await (await fetch(api(`/api/campaigns/${id}`))).json()) as View;

  // autocannon stops counting at the deadline with up to one request per connection
  // still in flight; those opens land in the store but their 200s go unread.
  const ok200 = opens.status["200"] ?? 0;
  const amounts = Object.entries(view.inventory);
  const perAmount =
    amounts.length === Object.keys(inventory).length &&
    amounts.every(([a, line]) => line.total === inventory[a] && line.opened >= 0 && line.opened <= line.total) &&
    amounts.reduce((s, [, line]) => s + line.opened, 0) === view.opened;
  const ok =
    view.shards === shards &&
    ok200 <= view.opened &&
    view.opened <= ok200 + connections &&
    view.opened + view.remaining === packets &&
    perAmount &&
    Object.keys(opens.status).every((code) => code === "200") &&
    opens.errors === 0;
  allOk &&= ok;
  rows.push({
    run: `opens, ${shards} shard${shards > 1 ? "s" : ""}`,
    "opens/s": opens.rps.toFixed(0),
    "p50 ms": opens.p50,
    "p99 ms": opens.p99,
    ratio: (opens.rps / base.rps).toFixed(2),
  });
  checks.push(
    `${shards} shard(s): status codes ${JSON.stringify(opens.status)}, errors ${opens.errors}; opened ${view.opened} (200s read ${ok200}, ≤ ${connections} in flight at the deadline), opened + remaining = ${view.opened + view.remaining} of ${packets}; per-amount totals ${perAmount ? "consistent" : "INCONSISTENT"} → ${ok ? "OK" : "VIOLATED"}`,
  );
}
await app.stop();

console.log(
  `\nbench:rain — workerd via Miniflare, request logging off, ${cores()} cores, ${connections} connections, ${seconds} s per run, ${packets.toLocaleString("en-US")} packets per campaign\n`,
);
console.log(table(rows));
console.log("");
for (const line of checks) console.log(line);
if (!allOk) process.exit(1);
