// npm run bench:claims — one hot coupon under 32 connections, against the
// runtime's ceiling and the floor under any Durable Object endpoint (a no-op
// RPC), both measured the same way in the same run (interleaved rounds, see
// lib/rounds.ts).
import { build, cores, startCeiling, startRpcFloor, startRushgate, table } from "./lib/runtime.ts";
import { interleave, total } from "./lib/rounds.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const slice = Math.max(1, Math.round(seconds / rounds));
const coupon = "BENCH_HOT";
// Stock far above what a run can take, so every request is a real claim (a write)
// by a new user; `{i}` restarts in every load process, hence the round prefix.
const stock = 10_000_000;
const claim = (url: URL, round: number) => ({
  url: url.href,
  method: "POST" as const,
  path: "/api/coupons/claim",
  body: `{"user_id":"r${round}-user-{i}","coupon_name":"${coupon}"}`,
  connections,
  seconds: slice,
});

build();
const ceiling = await startCeiling();
const floor = await startRpcFloor();
const app = await startRushgate();
const created = await fetch(new URL("/api/coupons", app.url), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: coupon, amount: stock }),
});
if (created.status !== 201) throw new Error(`create failed: ${created.status}`);

const { rows, results } = await interleave(
  { name: "ceiling: constant-JSON Worker", spec: (round) => claim(ceiling.url, round) },
  [
    { name: "floor: no-op RPC to one Durable Object", spec: (round) => claim(floor.url, round) },
    { name: "claims on one hot coupon", spec: (round) => claim(app.url, round) },
  ],
  rounds,
);
await ceiling.stop();
await floor.stop();

// Invariant after the load: amount − remaining = the claimants listed = the 200s
// the clients read, give or take the requests in flight at each deadline (they
// land, but autocannon stops reading).
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

const seen = total(results.get("claims on one hot coupon")!, "200");
const sold = snapshot.amount - snapshot.remaining_amount;
const slack = connections * rounds;
console.log(
  `\nbench:claims — workerd via Miniflare, request logging off, ${cores()} cores, ${connections} connections, ` +
    `median of ${rounds} interleaved rounds of ${slice} s (ratio: median of each round's claims/s ÷ that round's ceiling)\n`,
);
console.log(table(rows));
const floorRatio = Number(rows[1]!.ratio);
console.log(`\nclaims ÷ no-op Durable Object RPC: ${(Number(rows[2]!.ratio) / floorRatio).toFixed(2)}`);
const ok = sold === listed && seen.read <= sold && sold <= seen.read + slack && seen.errors === 0 && seen.read === seen.replies;
console.log(
  `\ninvariant amount − remaining = claims listed: ${sold} = ${listed}; 200s read ${seen.read} of ${seen.replies} replies ` +
    `(≤ ${slack} in flight at the deadlines), errors ${seen.errors} → ${ok ? "OK" : "VIOLATED"}`,
);
if (!ok) process.exit(1);
