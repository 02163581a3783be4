// npm run bench:pipeline — events through the whole backbone: Coupon actors on
// `workerd serve` → relay shards → bridge (its own process) → Kafka (librdkafka's
// mock cluster, or KAFKA_BROKERS) → archiver (its own process) → PostgreSQL
// (DATABASE_URL, default the local server; a schema of its own, dropped after).
// Two phases: claims as fast as they come (the maximum intake), then paced at
// half that rate. Latency is commit → archive row, from the archive's own
// timestamps (occurred_at is the actor's commit, archived_at the insert).
import { spawn, type ChildProcess } from "node:child_process";
import { sql } from "drizzle-orm";
import { openArchive } from "../workers/archiver/archive.ts";
import { startKafka } from "../workers/lib/mock-kafka.ts";
import { root } from "../workers/lib/workerd-config.ts";
import { readCoupon } from "./lib/coupon-check.ts";
import { load, type LoadResult } from "./lib/load.ts";
import { cpuMicros, rssMiB } from "./lib/procs.ts";
import { table } from "./lib/rounds.ts";
import * as servers from "./lib/servers.ts";

const seconds = Number(process.env.BENCH_PIPELINE_SECONDS ?? 20);
const connections = 32;
const run = `bench${Date.now().toString(36)}`;

const kafka = await startKafka();
const app = await servers.startRushgate();
const archive = await openArchive({ databaseUrl: servers.databaseUrl, schema: run });
// The mock cluster's group env (lib/mock-kafka.ts) includes KAFKA_MAX_WAIT_MS: it
// answers an empty fetch only after the consumer's whole max wait, however soon
// data is produced, and kafkajs's 5 s default would be measured as pipeline latency.
const common = { ...process.env, LOG_LEVEL: "warn", KAFKA_BROKERS: kafka.brokers.join(","), KAFKA_IDEMPOTENT: String(kafka.idempotent), ...kafka.groupEnv };
const child = (file: string, env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [file], { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...common, ...env } });
const archiver = child("workers/archiver/index.ts", { DATABASE_URL: servers.databaseUrl, ARCHIVE_SCHEMA: run, ARCHIVER_GROUP_ID: `archiver-${run}` });
const bridge = child("workers/kafka-bridge/index.ts", {
  WORKER_URL: app.url.href,
  BRIDGE_TOKEN: servers.secrets.BRIDGE_TOKEN,
  BRIDGE_GROUP_ID: `bridge-${run}`,
  BRIDGE_PORT: "0",
});
const procs = { workerd: app.procs[0]!.pid, bridge: bridge.pid!, archiver: archiver.pid! };

const query = async <T>(q: ReturnType<typeof sql>) => ((await archive.db.execute(q)) as unknown as { rows: T[] }).rows[0]!;
const api = (path: string, body: unknown) =>
  fetch(new URL(path, app.url), { method: "POST", headers: { "content-type": "application/json", ...servers.adminHeaders }, body: JSON.stringify(body) });

type Phase = { name: string; offered: string; intake: LoadResult; events: number; archived: number; rate: number; p50: number; p99: number; drainMs: number; gapless: boolean; cpu: Record<string, number>; rss: Record<string, number> };

async function phase(name: string, rate?: number): Promise<Phase> {
  const coupon = `PIPE_${name}_${run}`;
  const aggregate = `coupon:${coupon}`;
  const created = await api("/api/coupons", { name: coupon, amount: 10_000_000 });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${await created.text()}`);
  const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuMicros(pid)]));
  const intake = await load({
    url: app.url.href,
    method: "POST",
    path: "/api/coupons/claim",
    body: `{"user_id":"${name}-u{i}","coupon_name":"${coupon}"}`,
    headers: servers.adminHeaders,
    connections: rate ? 16 : connections,
    seconds,
    rate,
  });
  const events = (await readCoupon(app.url, coupon, servers.adminHeaders)).sold + 1; // + coupon.created
  const count = async () => (await query<{ n: number }>(sql`SELECT count(*)::int AS n FROM events WHERE aggregate = ${aggregate}`)).n;
  const deadline = Date.now() + 10 * 60_000;
  let archived = 0;
  while ((archived = await count()) < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const cpu = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, (cpuMicros(pid) - cpu0[k]!) / events]));
  const rss = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, rssMiB(pid)]));
  const stats = await query<{ first: string; last: string; last_commit: string; p50: number; p99: number; gapless: boolean }>(sql`
    SELECT min(occurred_at) AS first, max(archived_at) AS last, max(occurred_at) AS last_commit,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000 AS p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000 AS p99,
      count(*) = max(seq) AND min(seq) = 1 AS gapless
    FROM events WHERE aggregate = ${aggregate}`);
  const span = (Date.parse(String(stats.last)) - Date.parse(String(stats.first))) / 1000;
  return {
    name,
    offered: rate ? `paced at ${rate.toFixed(0)}/s, 16 connections` : `unpaced, ${connections} connections`,
    intake,
    events,
    archived,
    rate: archived / span,
    p50: stats.p50,
    p99: stats.p99,
    drainMs: Date.parse(String(stats.last)) - Date.parse(String(stats.last_commit)),
    gapless: stats.gapless,
    cpu,
    rss,
  };
}

const max = await phase("max");
const half = await phase("half", max.intake.rps / 2);

bridge.kill("SIGTERM");
archiver.kill("SIGTERM");
await Promise.all([bridge, archiver].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
await archive.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${run}" CASCADE`));
await archive.close();
await app.stop();
await kafka.stop();
servers.cleanup();

const fmt = (n: number) => n.toFixed(0);
const split = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
const ok = [max, half].every((p) => p.archived === p.events && p.gapless && p.intake.errors === 0 && (p.intake.status["200"] ?? 0) <= p.events - 1);
console.log(`### Pipeline (\`npm run bench:pipeline\`)

Coupon actors (\`workerd serve\`) → relay → bridge (own process) → Kafka (${process.env.KAFKA_BROKERS ? "KAFKA_BROKERS" : `librdkafka mock cluster via kcat; consumers' fetch max wait ${kafka.groupEnv.KAFKA_MAX_WAIT_MS} ms, since the mock holds an empty fetch that long whatever is produced meanwhile`}) → archiver (own process) → PostgreSQL. ${seconds} s of claims per phase; latency from the archive's timestamps (commit → archive row), per event.

${table(
  [max, half].map((p) => ({
    phase: `${p.name} (${p.offered})`,
    "claims in /s": fmt(p.intake.rps),
    "HTTP p99 ms": p.intake.p99.toFixed(1),
    "archived /s": fmt(p.rate),
    "commit→archive p50 ms": fmt(p.p50),
    "p99 ms": fmt(p.p99),
    "drain after last commit ms": fmt(p.drainMs),
    "CPU µs/event": split(p.cpu),
    "RSS MiB": split(p.rss),
  })),
)}

| check | measured | target |
| --- | --- | --- |
| archive keeps pace at max intake (archived/s ÷ claims in/s) | ${(max.rate / max.intake.rps).toFixed(2)} | ≈ 1 |
| p99 commit → archive row at half the maximum intake | ${fmt(half.p99)} ms | < 1000 ms |

Invariants: ${[max, half].map((p) => `${p.name}: archived ${p.archived} of ${p.events} events, seq gapless ${p.gapless}, socket errors ${p.intake.errors}`).join("; ")} → ${ok ? "OK" : "VIOLATED"}
`);
process.exit(ok ? 0 : 1);
