// npm run bench:pipeline — 100k events through the whole backbone: Coupon actors
// → relay shards → bridge (its own process) → Kafka (librdkafka's mock cluster,
// or KAFKA_BROKERS) → archiver → archive (PostgreSQL at DATABASE_URL, or PGlite).
// Prints sustained events/s and the p99 latency from the actor's commit to the
// archive row, beside the runtime ceiling and the ingest rate of the same run.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openArchive } from "../workers/archiver/archive.ts";
import { startArchiver } from "../workers/archiver/consumer.ts";
import { createLogger } from "../workers/lib/log.ts";
import { startKafka } from "../workers/lib/mock-kafka.ts";
import { load } from "./lib/load.ts";
import { build, cores, startCeiling, startRushgate, table } from "./lib/runtime.ts";

const claims = Number(process.env.BENCH_EVENTS ?? 100_000) - 1; // + coupon.created
const connections = 32;
const token = "bench-token";
const run = `bench${Date.now().toString(36)}`;
const coupon = `PIPE_${run}`;
const aggregate = `coupon:${coupon}`;
const scratch = mkdtempSync(join(tmpdir(), "rushgate-pipeline-"));

build();
const ceiling = await startCeiling();
const base = await load({ url: ceiling.url.href, method: "POST", path: "/", body: "{}", connections, seconds: 5 });
await ceiling.stop();

const kafka = await startKafka();
const app = await startRushgate({ BRIDGE_TOKEN: token });
const archive = await openArchive({ databaseUrl: process.env.DATABASE_URL, dataDir: join(scratch, "archive"), schema: run });
const archiver = await startArchiver({ brokers: kafka.brokers, archive, groupId: `archiver-${run}`, log: createLogger("archiver", "warn") });
const bridge = spawn(process.execPath, ["workers/kafka-bridge/index.ts"], {
  cwd: new URL("..", import.meta.url).pathname,
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    LOG_LEVEL: "warn",
    WORKER_URL: app.url.href,
    BRIDGE_TOKEN: token,
    KAFKA_BROKERS: kafka.brokers.join(","),
    KAFKA_IDEMPOTENT: String(kafka.idempotent),
    BRIDGE_GROUP_ID: `bridge-${run}`,
    BRIDGE_PORT: "0",
  },
});

const created = await fetch(new URL("/api/coupons", app.url), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: coupon, amount: claims }),
});
if (created.status !== 201) throw new Error(`create failed: ${created.status}`);

const ingest = await load({
  url: app.url.href,
  method: "POST",
  path: "/api/coupons/claim",
  body: `{"user_id":"u{i}","coupon_name":"${coupon}"}`,
  connections,
  seconds: 3600,
  amount: claims,
});

// Wait for the archive to hold every event, with a bound.
// node-postgres and PGlite both answer execute() with { rows }.
const query = async <T>(q: ReturnType<typeof sql>) => ((await archive.db.execute(q)) as unknown as { rows: T[] }).rows[0]!;
const count = async () => (await query<{ n: number }>(sql`SELECT count(*)::int AS n FROM events WHERE aggregate = ${aggregate}`)).n;
const deadline = Date.now() + 10 * 60_000;
let archived = 0;
while ((archived = await count()) < claims + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));

const stats = await query<{ first: string; last: string; p50: number; p99: number; gapless: boolean }>(sql`
    SELECT min(occurred_at) AS first, max(archived_at) AS last,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000 AS p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000 AS p99,
      count(*) = max(seq) AND min(seq) = 1 AS gapless
    FROM events WHERE aggregate = ${aggregate}`);
const seconds = (Date.parse(String(stats.last)) - Date.parse(String(stats.first))) / 1000;
const eventsPerSecond = archived / seconds;

bridge.kill("SIGTERM");
await new Promise((r) => bridge.once("exit", r));
await archiver.stop();
await archive.close();
await app.stop();
await kafka.stop();
rmSync(scratch, { recursive: true, force: true });

const store = process.env.DATABASE_URL ? "PostgreSQL" : "PGlite";
console.log(
  `\nbench:pipeline — ${cores()} cores; Worker on workerd via Miniflare; bridge in its own process; ` +
    `Kafka: ${process.env.KAFKA_BROKERS ? "KAFKA_BROKERS" : "librdkafka mock cluster (kcat)"}; archive: ${store}; ${claims + 1} events\n`,
);
console.log(
  table([
    { run: "ceiling: constant-JSON Worker", "per s": base.rps.toFixed(0), "p50 ms": base.p50, "p99 ms": base.p99, ratio: "1.00" },
    { run: "claims in (HTTP, while the pipeline runs)", "per s": ingest.rps.toFixed(0), "p50 ms": ingest.p50, "p99 ms": ingest.p99, ratio: (ingest.rps / base.rps).toFixed(2) },
    { run: "events archived, commit → archive row", "per s": eventsPerSecond.toFixed(0), "p50 ms": Math.round(stats.p50), "p99 ms": Math.round(stats.p99), ratio: (eventsPerSecond / base.rps).toFixed(2) },
  ]),
);
const ok = archived === claims + 1 && stats.gapless && ingest.errors === 0 && (ingest.status["200"] ?? 0) === claims;
console.log(
  `\nclaims answered 200: ${ingest.status["200"] ?? 0} of ${claims}; archived ${archived} of ${claims + 1} events, seq gapless: ${stats.gapless} → ${ok ? "OK" : "VIOLATED"}`,
);
process.exit(ok ? 0 : 1);
