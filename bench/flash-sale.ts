// npm run bench:flash-sale — issue 16's flash sale on `workerd serve`: 1,000
// units against a crowd of distinct users far larger than that, at the highest
// rate wrk sends, with the sold-out answer at the edge on and off (interleaved
// rounds, same run). Each round: a rush phase until the coupon is sold out (a
// poller stops wrk), then an after phase of fresh users. wrk's Lua counts the
// `Rushgate-Answered-By: edge` answers and logs every CLAIMED user id to a file,
// which is checked against the coupon's claimant list afterwards.
// First, a sweep of COUPON_MAX_IN_FLIGHT: claims/s, 503s and p99 at two offered loads.
// Requests carry the service token (not rate limited; a user token would be
// one per user and rate limited per user).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCoupon } from "./lib/coupon-check.ts";
import { median, table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const STOCK = 1_000;
const THREADS = 2;
const connections = Number(process.env.FLASH_CONNECTIONS ?? 256);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const afterSeconds = Number(process.env.FLASH_AFTER_SECONDS ?? 4);
const bounds = (process.env.FLASH_BOUNDS ?? "16,64,256,1024").split(",").map(Number);
const sweepLoads = [64, 512];
const sweepSeconds = 3;

type Run = {
  total: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
  edge: number;
  status: Record<string, number>;
};

/** wrk with a Lua script: distinct user per request, edge answers counted, CLAIMED ids logged. */
async function crowd(url: URL, coupon: string, prefix: string, conns: number, opts: { seconds?: number; until?: Promise<unknown>; log?: string }): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "rushgate-flash-"));
  const file = join(dir, "crowd.lua");
  const headers = { "content-type": "application/json", ...servers.adminHeaders };
  writeFileSync(
    file,
    `
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  i = 0
  counts = {}
  edge = 0
  ${opts.log ? `log = io.open(${JSON.stringify(opts.log)} .. "/claimed-" .. tid .. ".txt", "a")` : ""}
end
local headers = { ${Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(", ")} }
function request()
  local n = i * ${THREADS} + tid
  i = i + 1
  return wrk.format("POST", "/api/coupons/claim", headers, '{"user_id":"${prefix}' .. n .. '","coupon_name":"${coupon}"}')
end
function response(status, hs, body)
  counts[status] = (counts[status] or 0) + 1
  if (hs["rushgate-answered-by"] or hs["Rushgate-Answered-By"]) == "edge" then edge = edge + 1 end
  ${opts.log ? `if status == 200 then
    local u = string.match(body, '"user_id":"([^"]+)"')
    if u then log:write(u, "\\n") log:flush() end
  end` : ""}
end
function done(summary, latency, requests)
  local status = {}
  local edges = 0
  for _, t in ipairs(threads) do
    edges = edges + t:get("edge")
    for code, n in pairs(t:get("counts")) do status[tostring(code)] = (status[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(status) do table.insert(parts, string.format('"%s":%d', code, n)) end
  local e = summary.errors
  io.write(string.format('RESULT {"total":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d,"edge":%d,"status":{%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, edges, table.concat(parts, ",")))
end
`,
  );
  const args = ["-t", String(THREADS), "-c", String(conns), "-d", `${opts.seconds ?? 60}s`, "--timeout", "10s", "-s", file, url.href];
  const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  void opts.until?.then(() => child.kill("SIGINT"));
  await new Promise((r) => child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
  const line = /^RESULT (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line) as Omit<Run, "seconds"> & { us: number };
  return { ...r, seconds: r.us / 1e6, p50: r.p50 / 1000, p99: r.p99 / 1000 };
}

const create = async (s: servers.Server, name: string, amount: number) => {
  const res = await fetch(new URL("/api/coupons", s.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...servers.adminHeaders },
    body: JSON.stringify({ name, amount }),
  });
  if (res.status !== 201) throw new Error(`create ${name} on ${s.name}: ${res.status} ${await res.text()}`);
};

/** Resolves with the ms from `t0` at which the coupon reads sold out (polled every 5 ms). */
async function soldOutAt(s: servers.Server, name: string, t0: number): Promise<number> {
  for (;;) {
    const res = await fetch(new URL(`/api/coupons/${name}`, s.url));
    const { remaining_amount } = (await res.json()) as { remaining_amount: number };
    if (remaining_amount === 0) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : "—");

// --- 1. The in-flight bound: which value keeps p99 flat as offered load grows.
const sweep = new Map<number, servers.Server>();
for (const b of bounds) sweep.set(b, await servers.startRushgate({ name: `flash-bound-${b}`, vars: { COUPON_MAX_IN_FLIGHT: String(b) } }));
for (const s of sweep.values()) await create(s, "SWEEP", 10_000_000);
const sweepRuns = new Map<string, Run[]>();
for (let round = 0; round < 2; round++) {
  for (const [b, s] of sweep) {
    for (const c of sweepLoads) {
      const key = `${b}/${c}`;
      const run = await crowd(s.url, "SWEEP", `s${round}c${c}-`, c, { seconds: sweepSeconds });
      sweepRuns.set(key, [...(sweepRuns.get(key) ?? []), run]);
    }
  }
}
for (const s of sweep.values()) await s.stop();
const sweepRows = [...sweepRuns].map(([key, runs]) => {
  const [b, c] = key.split("/");
  const m = (f: (r: Run) => number) => median(runs.map(f));
  return {
    "COUPON_MAX_IN_FLIGHT": b!,
    connections: c!,
    "claims/s (200)": m((r) => (r.status["200"] ?? 0) / r.seconds).toFixed(0),
    "503 share": pct(m((r) => r.status["503"] ?? 0), m((r) => r.total)),
    "p50 ms (all answers)": fmt(m((r) => r.p50)),
    "p99 ms (all answers)": fmt(m((r) => r.p99)),
    "socket errors": String(runs.reduce((n, r) => n + r.errors, 0)),
  };
});

// --- 2. The flash sale, edge answer on and off.
const modes = {
  on: await servers.startRushgate({ name: "flash-edge-on" }),
  off: await servers.startRushgate({ name: "flash-edge-off", vars: { COUPON_EDGE_SOLD_OUT: "off" } }),
};
type SaleRound = { sellout: number; rush: Run; after: Run; checks: string[]; ok: boolean };
const sales: Record<keyof typeof modes, SaleRound[]> = { on: [], off: [] };
const logs = mkdtempSync(join(tmpdir(), "rushgate-flash-logs-"));
for (let round = 0; round < rounds; round++) {
  for (const [mode, s] of Object.entries(modes) as [keyof typeof modes, servers.Server][]) {
    const coupon = `FLASH_${mode}_${round}`;
    await create(s, coupon, STOCK);
    const log = join(logs, coupon);
    rmSync(log, { recursive: true, force: true });
    mkdirSync(log);
    const t0 = performance.now();
    const sold = soldOutAt(s, coupon, t0);
    const rush = await crowd(s.url, coupon, `r${round}a-`, connections, { until: sold, log });
    const sellout = await sold;
    const after = await crowd(s.url, coupon, `r${round}b-`, connections, { seconds: afterSeconds, log });
    // Invariants: exactly STOCK claims, nobody twice, every CLAIMED answer is a claimant.
    const c = await readCoupon(s.url, coupon, servers.adminHeaders);
    const claimants = c.users;
    const answered = readdirSync(log).flatMap((f) => readFileSync(join(log, f), "utf8").split("\n").filter(Boolean));
    const strangers = answered.filter((u) => !claimants.has(u));
    const ok = c.sold === STOCK && c.listed === STOCK && c.distinct === STOCK && strangers.length === 0 && new Set(answered).size === answered.length;
    sales[mode].push({
      sellout,
      rush,
      after,
      ok,
      checks: [
        `${coupon}: sold ${c.sold}, listed ${c.listed}, distinct ${c.distinct} (want ${STOCK}); CLAIMED answers read ${answered.length} (the rest were in flight when wrk stopped), all distinct ${new Set(answered).size === answered.length}, not in the claimant list ${strangers.length} → ${ok ? "OK" : "VIOLATED"}`,
      ],
    });
  }
}
for (const s of Object.values(modes)) await s.stop();
rmSync(logs, { recursive: true, force: true });
servers.cleanup();

const saleRows = (Object.entries(sales) as [string, SaleRound[]][]).map(([mode, rs]) => {
  const m = (f: (r: SaleRound) => number) => median(rs.map(f));
  // The object answers whatever the Worker neither answered itself nor turned away (503).
  const objectCalls = (r: Run) => r.total - r.edge - (r.status["503"] ?? 0);
  return {
    "edge sold-out": mode,
    "sellout ms": fmt(m((r) => r.sellout)),
    "rush req/s": m((r) => r.rush.total / r.rush.seconds).toFixed(0),
    "rush p50 / p99 ms": `${fmt(m((r) => r.rush.p50))} / ${fmt(m((r) => r.rush.p99))}`,
    "rush 503s": m((r) => r.rush.status["503"] ?? 0).toFixed(0),
    "after req/s": m((r) => r.after.total / r.after.seconds).toFixed(0),
    "after p50 / p99 ms": `${fmt(m((r) => r.after.p50))} / ${fmt(m((r) => r.after.p99))}`,
    "after: answered at the edge": pct(m((r) => r.after.edge), m((r) => r.after.total)),
    "object requests (rush + after)": `${m((r) => objectCalls(r.rush)).toFixed(0)} + ${m((r) => objectCalls(r.after)).toFixed(0)}`,
    "socket errors": String(rs.reduce((n, r) => n + r.rush.errors + r.after.errors, 0)),
  };
});

console.log(`### Flash sale (\`npm run bench:flash-sale\`)

wrk (${THREADS} threads, ${connections} connections, unpaced: as fast as wrk sends) on \`workerd serve\`, storage on disk; every request a new user, with the service token (not rate limited). ${STOCK.toLocaleString("en-US")} units; ${rounds} interleaved rounds, medians. Rush: from the first request until a poller (GET every 5 ms) reads the coupon sold out, then wrk is stopped; after: ${afterSeconds} s of fresh users. Object requests = answers neither marked \`Rushgate-Answered-By: edge\` nor 503.

${table(saleRows)}

Invariants after each round:
${Object.values(sales).flat().flatMap((r) => r.checks).map((l) => `- ${l}`).join("\n")}

#### COUPON_MAX_IN_FLIGHT (claims in flight to one coupon from one isolate)

Stock 10,000,000 (never sold out), ${sweepSeconds} s per run, 2 interleaved rounds, medians; p50/p99 over every answer, fast 503s included.

${table(sweepRows)}
`);
if (!Object.values(sales).flat().every((r) => r.ok)) process.exit(1);
