/**
 * Consumer-group timings shared by the bridge and the archiver (docs/pipeline.md).
 *
 * After a SIGKILL nobody tells the group coordinator the member is gone: its
 * partitions stay assigned until its session times out. kafkajs's default
 * session (30 s) made a restarted bridge answer requests only after about a
 * minute on librdkafka's mock cluster, which waits out the dead member twice
 * (once in the join, once in the sync). The default here, 6 s, is the lowest a
 * stock broker accepts (group.min.session.timeout.ms); the mock accepts less.
 */
import type { ConsumerConfig } from "kafkajs";

export type GroupTimings = Pick<ConsumerConfig, "sessionTimeout" | "heartbeatInterval" | "rebalanceTimeout" | "maxWaitTimeInMs">;

export function groupTimings(env: NodeJS.ProcessEnv = process.env): GroupTimings {
  const ms = (name: string, fallback: number | undefined) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds`);
    return value;
  };
  const sessionTimeout = ms("KAFKA_SESSION_TIMEOUT_MS", 6000)!;
  // A third of the session, at most kafkajs's default 3 s: a live member is never mistaken for a dead one.
  const heartbeatInterval = ms("KAFKA_HEARTBEAT_INTERVAL_MS", Math.min(3000, Math.floor(sessionTimeout / 3)))!;
  if (heartbeatInterval >= sessionTimeout) throw new Error("KAFKA_HEARTBEAT_INTERVAL_MS must be below KAFKA_SESSION_TIMEOUT_MS");
  const rebalanceTimeout = ms("KAFKA_REBALANCE_TIMEOUT_MS", undefined);
  // How long a fetch may wait for data. A real broker answers as soon as data
  // comes, so kafkajs's 5 s default costs nothing; librdkafka's mock cluster
  // waits the whole time whatever is produced meanwhile ("too much of a hassle",
  // says its source), so benchmarks on the mock set it low.
  const maxWaitTimeInMs = ms("KAFKA_MAX_WAIT_MS", undefined);
  return { sessionTimeout, heartbeatInterval, ...(rebalanceTimeout ? { rebalanceTimeout } : {}), ...(maxWaitTimeInMs ? { maxWaitTimeInMs } : {}) };
}
