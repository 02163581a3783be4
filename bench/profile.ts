// npm run bench:profile — where a hot path's CPU goes inside workerd: rushgate on
// `workerd serve` with the V8 inspector open, a wrk load on one path, and a CPU
// profile (Chrome DevTools Protocol, Profiler domain) taken during it. Prints the
// functions with the most self time, grouped by where they are defined.
// PROFILE_PATH=claims,bets,wallets (the default: all three; wallets = bets over
// 1,000 wallets), PROFILE_SECONDS (default 8).
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join, relative } from "node:path";
import { freePort, root } from "../workers/lib/workerd-config.ts";
import { load } from "./lib/load.ts";
import { table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const paths = (process.env.PROFILE_PATH ?? "claims,bets,wallets").split(",");
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const inspector = `127.0.0.1:${await freePort()}`;
process.env.WORKERD_INSPECTOR = inspector;
const app = await servers.startRushgate({ name: "rushgate-profile" });
const headers = { "content-type": "application/json", ...servers.adminHeaders };
const api = async (path: string, body: unknown, key?: string) => {
  const res = await fetch(new URL(path, app.url), { method: "POST", headers: { ...headers, ...(key ? { "idempotency-key": key } : {}) }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
};

/** The load for one path; with tag "warm" (the first call) it creates what the path needs (deposits replay). */
async function loadFor(what: string, tag: string): Promise<Parameters<typeof load>[0]> {
  if (what === "wallets") {
    // Bets spread over 1,000 wallets, each funded first (so most bets meet a wallet that is already running).
    for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => api(`/api/wallets/prof-${i + j}/deposits`, { amount_cents: 100_000_000 }, `seed-${i + j}`)));
    return {
      url: app.url.href,
      method: "POST",
      path: "/api/bets",
      headers: { ...servers.adminHeaders, "idempotency-key": `${tag}-w-{i}` },
      body: `{"user_id":"prof-{i%1000}","event_id":"E1","market":"1X2","selection":"HOME","stake_cents":100,"odd_value":2.5}`,
      connections: 32,
      seconds,
    };
  }
  if (what === "bets") {
    await api("/api/wallets/prof-user/deposits", { amount_cents: 1_000_000_000 }, "seed");
    return {
      url: app.url.href,
      method: "POST",
      path: "/api/bets",
      headers: { ...servers.adminHeaders, "idempotency-key": `${tag}-{i}` },
      body: `{"user_id":"prof-user","event_id":"E1","market":"1X2","selection":"HOME","stake_cents":100,"odd_value":2.5}`,
      connections: 32,
      seconds,
    };
  }
  if (what !== "claims") throw new Error(`PROFILE_PATH: claims, bets or wallets, not ${what}`);
  if (tag === "warm") await api("/api/coupons", { name: "PROF", amount: 10_000_000 });
  return { url: app.url.href, method: "POST", path: "/api/coupons/claim", headers: servers.adminHeaders, body: `{"user_id":"${tag}-u-{i}","coupon_name":"PROF"}`, connections: 32, seconds };
}

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const targets = (await (await fetch(`http://${inspector}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener("open", r, { once: true }));
let id = 0;
const pending = new Map<number, (v: any) => void>();
ws.addEventListener("message", (e) => {
  const m = JSON.parse(String(e.data));
  if (m.id) pending.get(m.id)?.(m.result);
});
const send = (method: string, params: unknown = {}) =>
  new Promise<any>((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });

// Bundle positions → source files, through wrangler's source map.
const map = new SourceMap(JSON.parse(readFileSync(join(servers.bundleDir(), "index.js.map"), "utf8")));
const source = (f: Node["callFrame"]) => {
  if (!f.url.endsWith("index.js")) return f.url.split("/").pop() ?? "";
  const e = map.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number };
  if (!e.originalSource) return `index.js:${f.lineNumber + 1}`;
  const file = relative(root, e.originalSource.replace(/^file:\/\//, "")).replace(/^.*node_modules\//, "");
  return `${file}:${(e.originalLine ?? 0) + 1}`;
};

const out: string[] = [];
for (const what of paths) {
  await load({ ...(await loadFor(what, "warm")), seconds: 2 }); // warm up, with ids of its own
  const spec = await loadFor(what, "run");
  await send("Profiler.start");
  const result = await load(spec);
  const { profile } = (await send("Profiler.stop")) as { profile: Profile };

  // Self time per function: each sample's time delta, to the function on top of the stack.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((node, i) => selfUs.set(node, (selfUs.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    total += us;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url ? source(f) : ""}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const busy = total - (byFn.get("(idle)") ?? 0);
  out.push(`#### ${what}: ${Math.round(result.rps)} req/s while profiled (statuses ${JSON.stringify(result.status)}), ${(busy / result.total).toFixed(0)} µs of isolate CPU per request (busy ${(busy / 1000).toFixed(0)} of ${(total / 1000).toFixed(0)} ms sampled)

${table(
  [...byFn]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, us]) => ({ "function (self time)": fn, "% of busy": ((100 * us) / busy).toFixed(1), "µs per request": (us / result.total).toFixed(1) })),
)}`);
}
ws.close();
await app.stop();
servers.cleanup();

console.log(`### CPU profiles (\`npm run bench:profile\`)

rushgate on \`workerd serve\` with the V8 inspector open; wrk, 32 connections, ${seconds} s per path, service token; V8's sampling profiler every 200 µs inside the isolate: JavaScript and the runtime calls it makes, not workerd's own C++ (I/O, SQLite's commit). Self time by function, mapped through wrangler's source map; \`(program)\` is native work outside JavaScript, \`(anonymous)\` without a file is runtime glue.

${out.join("\n\n")}
`);
process.exit(0);
