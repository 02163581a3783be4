// Every setting comes from an environment variable; see docs/bridge-and-archive.md.
import { ConfigError, portFrom } from "../lib/config-error.ts";

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
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.ARCHIVE_DIR || undefined,
    schema: env.ARCHIVE_SCHEMA || undefined,
  };
}
