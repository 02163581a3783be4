/**
 * The archiver process: `npm run archiver` (node workers/archiver/index.ts).
 * Env: KAFKA_BROKERS (required, comma-separated), DATABASE_URL (optional;
 * PGlite in ARCHIVE_DIR, default .data/archive, otherwise), ARCHIVE_SCHEMA,
 * ARCHIVER_GROUP_ID, KAFKA_CLIENT_ID, ARCHIVER_PORT and ARCHIVER_HOST (/healthz,
 * /metrics; default 9465 on 127.0.0.1), LOG_LEVEL, and the consumer-group timings
 * KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, KAFKA_REBALANCE_TIMEOUT_MS
 * (docs/pipeline.md).
 */
import { openArchive } from "./archive.ts";
import { DEFAULT_GROUP_ID, startArchiver } from "./consumer.ts";
import { groupTimings } from "../lib/kafka-group.ts";
import { createLogger } from "../lib/log.ts";
import { portFrom } from "../lib/config-error.ts";
import { DEFAULT_ARCHIVER_PORT, serveHealth } from "./health.ts";

const log = createLogger("archiver");
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
if (brokers.length === 0) {
  log.error("KAFKA_BROKERS is not set; without Kafka the bridge writes straight into the archive (openArchive)");
  process.exit(2);
}

const healthPort = portFrom(env, "ARCHIVER_PORT", DEFAULT_ARCHIVER_PORT);
const archive = await openArchive({
  databaseUrl: env.DATABASE_URL || undefined,
  dataDir: env.ARCHIVE_DIR || undefined,
  schema: env.ARCHIVE_SCHEMA || undefined,
});
log.info("archive open", { store: env.DATABASE_URL ? "postgres" : "pglite" });
const archiver = await startArchiver({
  brokers,
  archive,
  groupId: env.ARCHIVER_GROUP_ID || DEFAULT_GROUP_ID,
  clientId: env.KAFKA_CLIENT_ID || "rushgate-archiver",
  consumer: groupTimings(env),
  log,
  onFatal: () => void shutdown("crash", 1),
}).catch(async (error: Error) => {
  log.error("cannot start consuming", { error: error.message });
  await archive.close();
  process.exit(1);
});

const health = await serveHealth(archiver.stats, healthPort, env.ARCHIVER_HOST || "127.0.0.1");
log.info("archiver health", { port: health.port });

let stopping = false;
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { reason });
  health.stopping();
  try {
    await archiver.stop();
    await archive.close();
    await health.close();
  } catch (error) {
    log.error("shutdown failed", { error: (error as Error).message });
    code = 1;
  }
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
process.on("SIGINT", () => void shutdown("SIGINT", 0));
