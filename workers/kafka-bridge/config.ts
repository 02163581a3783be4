// Every setting comes from an environment variable; see the README's table and docs/pipeline.md.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
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
  if (!token) throw new Error("BRIDGE_TOKEN is required (the Worker secret of the same name)");
  const num = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
    return value;
  };
  return {
    workerUrl: env.WORKER_URL ?? "http://127.0.0.1:8787",
    token,
    brokers: (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    idempotent: env.KAFKA_IDEMPOTENT !== "false",
    clientId: env.KAFKA_CLIENT_ID ?? "rushgate-bridge",
    groupId: env.BRIDGE_GROUP_ID ?? "rushgate-bridge",
    port: num("BRIDGE_PORT", 9464),
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
