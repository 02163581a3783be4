// Every setting comes from an environment variable; see docs/bridge-and-archive.md and docs/pipeline.md.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ConfigError, portFrom } from "../lib/config-error.ts";
import { groupTimings, type GroupTimings } from "../lib/kafka-group.ts";

export type BridgeConfig = {
  workerUrl: string;
  token: string;
  brokers: string[];
  /** Off only for librdkafka's mock cluster, which has no controller to hand out producer ids. */
  idempotent: boolean;
  clientId: string;
  groupId: string;
  port: number;
  /** Where /healthz and /metrics listen; 0.0.0.0 in a container. Default 127.0.0.1. */
  host?: string;
  pullLimit: number;
  pullWaitMs: number;
  retryAttempts: number;
  retryBaseMs: number;
  /** Consumer-group session settings: how fast a dead bridge's partitions move on. */
  group: GroupTimings;
  /** This process's name on relay shard leases; unique per process by default. */
  bridgeId: string;
  /** How long a relay shard lease lasts without a pull renewing it. */
  leaseTtlMs: number;
  databaseUrl?: string;
  dataDir?: string;
  schema?: string;
};

export function readConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const token = env.BRIDGE_TOKEN;
  if (!token) {
    throw new ConfigError(
      "BRIDGE_TOKEN is not set. Set it to the Worker's secret of the same name (`npm run dev` starts the bridge with one).",
    );
  }
  const num = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a non-negative number`);
    return value;
  };
  return {
    workerUrl: env.WORKER_URL ?? "http://127.0.0.1:8787",
    token,
    brokers: (env.KAFKA_BROKERS ?? "")
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean),
    idempotent: env.KAFKA_IDEMPOTENT !== "false",
    clientId: env.KAFKA_CLIENT_ID ?? "rushgate-bridge",
    groupId: env.BRIDGE_GROUP_ID ?? "rushgate-bridge",
    port: portFrom(env, "BRIDGE_PORT", 9464),
    host: env.BRIDGE_HOST || "127.0.0.1",
    pullLimit: num("PULL_LIMIT", 500),
    pullWaitMs: num("PULL_WAIT_MS", 10_000),
    retryAttempts: num("RETRY_ATTEMPTS", 5),
    retryBaseMs: num("RETRY_BASE_MS", 1000),
    group: groupTimings(env),
    bridgeId: env.BRIDGE_ID || `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseTtlMs: Math.max(1000, num("LEASE_TTL_MS", 5000)),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.ARCHIVE_DIR || undefined,
    schema: env.ARCHIVE_SCHEMA || undefined,
  };
}
