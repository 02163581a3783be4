// `npm run simulate`: drives rushgate with an open-model load (bets over HTTP
// and Kafka, odds, a flash sale, a rain, WebSocket subscribers, faults) and
// then checks every outcome against an oracle computed from the stream it sent.
// Exits 1 when anything is off. Usage: docs/simulator.md.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../lib/config-error.ts";
import { readDevVars } from "../lib/dev-vars.ts";
import { feeds } from "./parts/feeds.ts";
import { bets } from "./parts/bets.ts";
import { flashSale } from "./parts/flash-sale.ts";
import { odds } from "./parts/odds.ts";
import { offers } from "./parts/offers.ts";
import { rain } from "./parts/rain.ts";
import { plan } from "./plan.ts";
import { newRecords } from "./records.ts";
import { type Check, type Context, drive, type Part, type Task } from "./run.ts";
import { legacy, type Scenario, scenario } from "./scenario.ts";
import { Counters, summaryTable, table } from "./stats.ts";
import { Target } from "./target.ts";

const { values: a } = parseArgs({
  options: {
    count: { type: "string" },
    "interval-ms": { type: "string" },
    scenario: { type: "string" },
    seed: { type: "string" },
    url: { type: "string" },
    token: { type: "string" },
    brokers: { type: "string" },
    "jwt-secret": { type: "string" },
    "service-users": { type: "boolean", default: false },
    "run-id": { type: "string" },
    "progress-ms": { type: "string", default: "1000" },
    "timeout-ms": { type: "string", default: "10000" },
    connections: { type: "string", default: "256" },
    json: { type: "string" },
    "print-plan": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (a.help) {
  console.log(`npm run simulate -- [--count N --interval-ms M | --scenario FILE] [--seed N]
  [--url URL --token SERVICE_TOKEN] [--jwt-secret SECRET | --service-users] [--brokers host:port,...]
  [--run-id ID] [--progress-ms 1000] [--timeout-ms 10000] [--connections 256] [--json FILE] [--print-plan]
Defaults: the Worker of \`npm run dev\` (http://127.0.0.1:$PORT, 8787) with the tokens in .dev.vars;
brokers from KAFKA_BROKERS. See docs/simulator.md.`);
  process.exit(0);
}

const num = (name: string, raw: string | undefined) => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative number, not ${raw}`);
  return n;
};

// ---- the scenario ----
let s: Scenario;
const seed = num("seed", a.seed);
if (a.count !== undefined || a["interval-ms"] !== undefined) {
  if (a.scenario) throw new ConfigError("--count/--interval-ms is the old simulator's mode; it takes no --scenario");
  s = legacy(num("count", a.count) ?? 1000, num("interval-ms", a["interval-ms"]) ?? 10, seed ?? 1);
} else {
  let raw: unknown = {};
  if (a.scenario) {
    try {
      raw = JSON.parse(readFileSync(a.scenario, "utf8"));
    } catch (err) {
      throw new ConfigError(`cannot read scenario ${a.scenario}: ${(err as Error).message}`);
    }
  }
  const parsed = scenario.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`scenario: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  s = parsed.data;
  if (seed !== undefined) s.seed = seed;
}

// ---- the target ----
const dev = readDevVars();
const url = a.url ?? `http://127.0.0.1:${process.env.PORT || 8787}`;
const serviceToken = a.token ?? process.env.ADMIN_TOKEN ?? (a.url ? undefined : dev.ADMIN_TOKEN);
if (!serviceToken) throw new ConfigError("no service token: pass --token (or run `npm run dev` once to create .dev.vars)");
const jwtSecret = a["service-users"] ? undefined : (a["jwt-secret"] ?? (a.url ? undefined : dev.JWT_SECRET));
const brokers = (a.brokers ?? process.env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
const target = new Target({
  url,
  serviceToken,
  jwtSecret,
  jwtIssuer: process.env.JWT_ISSUER ?? dev.JWT_ISSUER,
  jwtAudience: process.env.JWT_AUDIENCE ?? dev.JWT_AUDIENCE,
  brokers,
  timeoutMs: num("timeout-ms", a["timeout-ms"]) ?? 10_000,
  retryForMs: 60_000,
  maxConnections: num("connections", a.connections) || 256,
});

const run = a["run-id"] ?? `sim${s.seed}-${Date.now().toString(36)}`;
const p = plan(s, run);
if (a["print-plan"]) {
  // Written in full before exiting: process.exit would cut a piped stdout short.
  process.stdout.write(`${JSON.stringify({ ...p, deposits: [...p.deposits] }, null, 1)}\n`, () => process.exit(0));
  await new Promise(() => {});
}

const log = (line: string) => console.log(`simulate: ${line}`);
const ctx: Context = { scenario: s, plan: p, target, counters: new Counters(), records: newRecords(), t0: 0, log };
// Checks run in this order: the offers oracle gives the wallets' expected bonus, and the awards feed's.
const parts: Part[] = [offers, bets, odds, flashSale, rain, feeds];

const health = await fetch(new URL("/health", url)).then((r) => r.status, (e: Error) => e.message);
if (health !== 200) throw new ConfigError(`no rushgate at ${url} (/health: ${health}); start it with \`npm run dev\` or pass --url`);
const kafkaBets = p.bets.filter((b) => b.via === "kafka").length;
log(`run ${run}, seed ${s.seed}: ${p.bets.length} bets (${kafkaBets} over Kafka), ${p.odds.length} odds updates, ` +
  `${p.flash?.claims.length ?? 0} coupon claims, ${p.rain?.openings.length ?? 0} rain openings, over ${(p.length / 1000).toFixed(1)} s`);
log(`target ${url}; users act with ${target.userAuth === "jwt" ? "their own HS256 JWTs (signed with the JWT secret)" : "the service token acting for them"}; ` +
  `Kafka ${brokers.length ? brokers.join(",") : "none"}`);
if (kafkaBets && !target.kafka) log(`no Kafka brokers: the ${kafkaBets} Kafka bets are not sent (pass --brokers)`);

let exitCode = 0;
try {
  for (const part of parts) await part.setup?.(ctx);
  const tasks: Task[] = parts.flatMap((part) => part.tasks?.(ctx) ?? []);
  const seconds = await drive(ctx, tasks, { everyMs: num("progress-ms", a["progress-ms"]) || 1000, print: (l) => console.log(l) });
  if (s.drain_s) {
    log(`load done in ${seconds.toFixed(1)} s; letting events settle for ${s.drain_s} s`);
    await new Promise((r) => setTimeout(r, s.drain_s * 1000));
  }
  const checks: Check[] = [];
  for (const part of parts) checks.push(...((await part.check?.(ctx)) ?? []));

  console.log(`\nLoad (latency from the intended send time; ${target.userAuth === "jwt" ? "user JWTs" : "service token for users"}):`);
  console.log(summaryTable(ctx.counters, seconds));
  console.log("\nOracle:");
  console.log(table(["part", "check", "expected", "actual", "ok"], checks.map((c) => [c.part, c.name, c.expected, c.actual, c.ok ? "yes" : "NO"])));
  for (const c of checks.filter((x) => x.problems.length)) {
    console.log(`\n${c.part} — ${c.name}: ${c.problems.length} problem(s)`);
    for (const line of c.problems.slice(0, 10)) console.log(`  ${line}`);
    if (c.problems.length > 10) console.log(`  … and ${c.problems.length - 10} more`);
  }
  const failed = checks.filter((c) => !c.ok);
  const errors = ctx.counters.totalErrors;
  if (errors) {
    console.log(`\n${errors} request error(s); first ones:`);
    for (const e of ctx.counters.errorSamples) console.log(`  ${e}`);
  }
  console.log(
    failed.length || errors
      ? `\nsimulate: NOT CLEAN — ${failed.length} of ${checks.length} checks failed, ${errors} request errors`
      : `\nsimulate: clean — ${checks.length} checks passed, 0 request errors`,
  );
  if (a.json) {
    writeFileSync(a.json, JSON.stringify({ run, seed: s.seed, seconds, checks, kinds: Object.fromEntries([...ctx.counters.kinds].map(([k, v]) => [k, { ...v, lat: v.lat.quantiles([0.5, 0.99]) }])) }, null, 1));
  }
  exitCode = failed.length || errors ? 1 : 0;
} finally {
  for (const part of parts) await part.close?.(ctx).catch(() => {});
  await target.close();
}
process.exit(exitCode);
