// npm run bench:claims — one hot coupon under 32 connections for 10 s, against
// the runtime's ceiling measured the same way in the same run.
import { load } from "./lib/load.ts";
import { build, cores, startCeiling, startRushgate, table } from "./lib/runtime.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const coupon = "BENCH_HOT";
// Stock far above what 10 s can take, so every request is a real claim (a write),
// and a fresh user per request.
const stock = 10_000_000;
const claimBody = `{"user_id":"user_{i}","coupon_name":"${coupon}"}`;

build();

const ceiling = await startCeiling();
const base = await load({ url: ceiling.url.href, method: "POST", path: "/api/coupons/claim", body: claimBody, connections, seconds });
await ceiling.stop();

const app = await startRushgate();
const created = await fetch(new URL("/api/coupons", app.url), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: coupon, amount: stock }),
});
if (created.status !== 201) throw new Error(`create failed: ${created.status}`);
const claims = await load({ url: app.url.href, method: "POST", path: "/api/coupons/claim", body: claimBody, connections, seconds });

// Invariant after the load: amount − remaining = the claims made = the claimants listed.
let listed = 0;
let cursor = "";
let snapshot: { amount: number; remaining_amount: number; claimed_by: string[]; next_cursor?: string };
do {
  const res = await fetch(new URL(`/api/coupons/${coupon}?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, app.url));
  snapshot = (await res.json()) as typeof snapshot;
  listed += snapshot.claimed_by.length;
  cursor = snapshot.next_cursor ?? "";
} while (cursor);
await app.stop();

// autocannon stops counting at the deadline with up to one request per connection
// still in flight; those claims land in the store but their 200s go unread.
const claimed = claims.status["200"] ?? 0;
const sold = snapshot.amount - snapshot.remaining_amount;
console.log(`\nbench:claims — workerd via Miniflare, request logging off, ${cores()} cores, ${connections} connections, ${seconds} s\n`);
console.log(
  table([
    { run: "ceiling: constant-JSON Worker", "req/s": base.rps.toFixed(0), "p50 ms": base.p50, "p99 ms": base.p99, ratio: "1.00" },
    {
      run: "claims on one hot coupon",
      "req/s": claims.rps.toFixed(0),
      "p50 ms": claims.p50,
      "p99 ms": claims.p99,
      ratio: (claims.rps / base.rps).toFixed(2),
    },
  ]),
);
console.log(`\nstatus codes: ${JSON.stringify(claims.status)}; errors: ${claims.errors}`);
const ok = sold === listed && claimed <= sold && sold <= claimed + connections && claims.errors === 0;
console.log(
  `invariant amount − remaining = claims listed: ${sold} = ${listed}; 200s read ${claimed} (≤ ${connections} in flight at the deadline) → ${ok ? "OK" : "VIOLATED"}`,
);
if (!ok) process.exit(1);
