// npm run bench:claims — claims on one hot coupon, every request a new user (a
// real write), beside the baselines measured in the same interleaved rounds:
// the constant-JSON Worker, a no-op Durable Object RPC, the minimal claim object
// (one commit per claim, and the same writes coalesced), the Postgres and
// Redis + Lua designs rushgate replaces, and Miniflare for reference.
// BENCH_TMPFS=1 adds the minimal object and rushgate with storage on tmpfs.
import { claimInvariant, readCoupon } from "./lib/coupon-check.ts";
import type { LoadSpec } from "./lib/load.ts";
import { interleave, ratio, rows, table, type Trial } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const connections = 32;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const slice = Math.max(1, Math.round(seconds / rounds));
const tmpfs = process.env.BENCH_TMPFS === "1";
const coupon = "BENCH_HOT";
// Far more stock than a run can take, so every request is a claim by a new user.
const stock = 10_000_000;
const claim = (s: servers.Server, headers: Record<string, string> = {}) => (round: number): LoadSpec => ({
  url: s.url.href,
  method: "POST",
  path: "/api/coupons/claim",
  body: `{"user_id":"r${round}-u{i}","coupon_name":"${coupon}"}`,
  headers,
  connections,
  seconds: slice,
});

const names = {
  constant: "constant-JSON Worker",
  rpc: "no-op RPC to one Durable Object",
  minimal: "minimal claim object, one transactionSync per claim",
  coalesced: "minimal claim object, writes coalesced by the output gate",
  grouped: "minimal claim object, group commit (a batch per timer tick, a savepoint per claim)",
  groupedMicrotask: "minimal claim object, group commit flushed on a microtask",
  claims: "rushgate claims, one hot coupon",
  held: "rushgate claims, event delivery held back",
  pg: "peer: Postgres transaction (pg pool)",
  redis: "peer: Redis + Lua (nothing durable)",
  miniflare: "Miniflare, constant-JSON Worker",
  minimalTmpfs: "minimal claim object, one transactionSync per claim, tmpfs",
  claimsTmpfs: "rushgate claims, tmpfs",
};

const started: Record<string, servers.Server> = {
  constant: await servers.startConstant(),
  rpc: await servers.startRpcFloor(),
  minimal: await servers.startMinimal("transaction"),
  coalesced: await servers.startMinimal("coalesced"),
  grouped: await servers.startMinimal("grouped"),
  groupedMicrotask: await servers.startMinimal("grouped-microtask"),
  claims: await servers.startRushgate(),
  held: await servers.startRushgate({ held: true }),
  pg: await servers.startPgPeer(),
  redis: await servers.startRedisPeer(),
  miniflare: await servers.startMiniflareConstant(),
  ...(tmpfs ? { minimalTmpfs: await servers.startMinimal("transaction", true), claimsTmpfs: await servers.startRushgate({ tmpfs: true }) } : {}),
};
const rushgates = ["claims", "held", "claimsTmpfs"].filter((k) => started[k]);
const create = async (s: servers.Server) => {
  const res = await fetch(new URL("/api/coupons", s.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...servers.adminHeaders },
    body: JSON.stringify({ name: coupon, amount: stock }),
  });
  if (res.status !== 201) throw new Error(`create on ${s.name}: ${res.status} ${await res.text()}`);
};
for (const k of [...rushgates, "pg", "redis"]) await create(started[k]!);

const trials: Trial[] = Object.entries(started).map(([k, s]) => ({
  name: names[k as keyof typeof names],
  procs: s.procs,
  spec: claim(s, rushgates.includes(k) ? servers.adminHeaders : {}),
}));
const measured = await interleave(trials, rounds);

// Invariants after the load.
const checks: { ok: boolean; line: string }[] = [];
for (const k of rushgates) {
  const c = await readCoupon(started[k]!.url, coupon, servers.adminHeaders);
  checks.push(claimInvariant(names[k as keyof typeof names], c.sold, c.listed, c.distinct, measured.get(names[k as keyof typeof names])!.runs, connections));
}
for (const k of ["minimal", "coalesced", "grouped", "groupedMicrotask"]) {
  const { claims } = (await (await fetch(started[k]!.url)).json()) as { claims: number };
  checks.push(claimInvariant(names[k as keyof typeof names], claims, claims, claims, measured.get(names[k as keyof typeof names])!.runs, connections));
}
for (const k of ["pg", "redis"]) {
  const c = (await (await fetch(new URL(`/api/coupons/${coupon}`, started[k]!.url))).json()) as { amount: number; remaining: number; claimed: number };
  checks.push(claimInvariant(names[k as keyof typeof names], c.amount - c.remaining, c.claimed, c.claimed, measured.get(names[k as keyof typeof names])!.runs, connections));
}
for (const s of Object.values(started)) await s.stop();
servers.cleanup();

const r = (a: keyof typeof names, b: keyof typeof names) => ratio(measured, names[a], names[b]);
console.log(`### Claims on one hot coupon (\`npm run bench:claims\`)

wrk, ${connections} connections, ${rounds} interleaved rounds of ${slice} s; medians. Stock ${stock.toLocaleString("en-US")}, every request a new user.

${table(rows(measured, names.constant))}

| ratio (median of per-round ratios) | measured | target |
| --- | --- | --- |
| claims ÷ minimal claim object with one commit per claim (same storage, on disk) | ${r("claims", "minimal").toFixed(2)} | ≥ 0.9; ≥ 2 beats one commit per claim |
| claims ÷ Postgres-transaction peer | ${r("claims", "pg").toFixed(2)} | ≥ 4 |
| claims ÷ Redis + Lua peer (Redis persists nothing before replying) | ${r("claims", "redis").toFixed(2)} | report |
| minimal object: writes coalesced ÷ one transactionSync per claim | ${r("coalesced", "minimal").toFixed(2)} | ≥ 2 to adopt it |
| minimal object: group commit ÷ one transactionSync per claim | ${r("grouped", "minimal").toFixed(2)} | (what sharing a commit can give) |
| minimal object: group commit flushed on a microtask ÷ on a timer | ${r("groupedMicrotask", "grouped").toFixed(2)} | (picks the flush) |
| claims (group commit) ÷ minimal group-commit object | ${r("claims", "grouped").toFixed(2)} | — |
| claims, event delivery on ÷ held back | ${r("claims", "held").toFixed(2)} | ≥ 0.85 |
| no-op Durable Object RPC ÷ constant JSON | ${r("rpc", "constant").toFixed(2)} | — |
| \`workerd serve\` ÷ Miniflare, constant JSON | ${r("constant", "miniflare").toFixed(2)} | — |
${tmpfs ? `| minimal object: tmpfs ÷ disk | ${r("minimalTmpfs", "minimal").toFixed(2)} | — |\n| claims: tmpfs ÷ disk | ${r("claimsTmpfs", "claims").toFixed(2)} | — |\n| claims ÷ minimal object, both on tmpfs | ${r("claimsTmpfs", "minimalTmpfs").toFixed(2)} | — |\n` : ""}
Invariants after the load:
${checks.map((c) => `- ${c.line}`).join("\n")}
`);
if (!checks.every((c) => c.ok)) process.exit(1);
