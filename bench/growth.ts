// npm run bench:growth — does a claim cost more once a coupon has many claims?
// Claims on one coupon of 1,000,000 (BENCH_GROWTH_CLAIMS) until it sells out,
// in chunks of a few seconds, each followed by a 1 s constant-JSON probe so the
// machine's drift can be divided out. Compares the first 10% of claims with the
// last 10%: claims/s, CPU µs per claim, p99, and workerd's RSS. Storage on
// tmpfs by default (BENCH_GROWTH_STORAGE=disk for disk): on disk a million
// claims take over an hour here, and the question is the data structures' growth.
import { statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { load } from "./lib/load.ts";
import { cpuMicros, rssMiB } from "./lib/procs.ts";
import { median, table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const claims = Number(process.env.BENCH_GROWTH_CLAIMS ?? 1_000_000);
const tmpfs = process.env.BENCH_GROWTH_STORAGE !== "disk";
const chunk = Number(process.env.BENCH_GROWTH_CHUNK_SECONDS ?? 5);
const connections = 32;
const coupon = "GROWTH";

const constant = await servers.startConstant();
const app = await servers.startRushgate({ tmpfs });
const pid = app.procs[0]!.pid;
const created = await fetch(new URL("/api/coupons", app.url), {
  method: "POST",
  headers: { "content-type": "application/json", ...servers.adminHeaders },
  body: JSON.stringify({ name: coupon, amount: claims }),
});
if (created.status !== 201) throw new Error(`create failed: ${created.status}`);
const sold = async () => {
  const s = (await (await fetch(new URL(`/api/coupons/${coupon}?limit=1`, app.url), { headers: servers.adminHeaders })).json()) as { amount: number; remaining_amount: number };
  return s.amount - s.remaining_amount;
};

type Chunk = { from: number; to: number; rps: number; p99: number; cpu: number; probe: number; rss: number };
const chunks: Chunk[] = [];
let done = 0;
for (let k = 0; done < claims; k++) {
  const cpu0 = cpuMicros(pid);
  const r = await load({
    url: app.url.href,
    method: "POST",
    path: "/api/coupons/claim",
    body: `{"user_id":"c${k}-u{i}","coupon_name":"${coupon}"}`,
    headers: servers.adminHeaders,
    connections,
    seconds: chunk,
  });
  const cpu = cpuMicros(pid) - cpu0;
  const now = await sold();
  const ok = r.status["200"] ?? 0;
  const probe = await load({ url: constant.url.href, method: "POST", path: "/", body: "{}", connections, seconds: 1 });
  // Only chunks that sold nothing but claims count (the last one also meets SOLD_OUT).
  if (now < claims) chunks.push({ from: done, to: now, rps: ok / r.seconds, p99: r.p99, cpu: cpu / Math.max(1, now - done), probe: probe.rps, rss: rssMiB(pid) });
  done = now;
  if (k % 20 === 0) console.error(`growth: ${done} of ${claims} claims`);
}
const rss = rssMiB(pid);
await app.stop();
await constant.stop();

const window = (lo: number, hi: number) => chunks.filter((c) => c.from >= lo && c.to <= hi);
const summary = (name: string, cs: Chunk[]) => ({
  claims: name,
  chunks: String(cs.length),
  "claims/s": median(cs.map((c) => c.rps)).toFixed(0),
  "÷ constant JSON (same chunk)": median(cs.map((c) => c.rps / c.probe)).toFixed(3),
  "CPU µs/claim": median(cs.map((c) => c.cpu)).toFixed(0),
  "p99 ms": median(cs.map((c) => c.p99)).toFixed(1),
  "workerd RSS MiB": Math.max(...cs.map((c) => c.rss)).toFixed(0),
});
const tenth = claims / 10;
const first = window(0, tenth);
const last = window(claims - tenth, claims);
const storageBytes = du(servers.storageRoot(tmpfs));
function du(p: string): number {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((n, f) => n + du(join(p, f)), 0) : s.size;
}
servers.cleanup();

const ratio = (a: string, b: string) => (Number(a) / Number(b)).toFixed(2);
const f = summary(`1–${tenth.toLocaleString("en-US")}`, first);
const l = summary(`${(claims - tenth).toLocaleString("en-US")}–${claims.toLocaleString("en-US")}`, last);
console.log(`### Growth: cost per claim vs claims already made (\`npm run bench:growth\`)

One coupon of ${claims.toLocaleString("en-US")} on \`workerd serve\`, storage on ${tmpfs ? "tmpfs" : "disk"}; wrk, ${connections} connections, chunks of ${chunk} s each followed by a 1 s constant-JSON probe; medians over the chunks in each window.

${table([f, l])}

last ÷ first: claims/s normalized ${ratio(l["÷ constant JSON (same chunk)"], f["÷ constant JSON (same chunk)"])}, CPU per claim ${ratio(l["CPU µs/claim"], f["CPU µs/claim"])}. workerd RSS at the end ${rss.toFixed(0)} MiB; SQLite files ${(storageBytes / 2 ** 20).toFixed(0)} MiB (${(storageBytes / claims).toFixed(0)} bytes per claim, outbox delivered and trimmed).
`);
