/**
 * Configuration the operator must fix (a missing token, a bad number). The
 * preflight (workers/preflight.mjs) prints its message as one line and exits 2,
 * instead of a stack trace. The message says what to set.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A port from the environment: an integer 0–65535 (0 = any free port). */
export function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a port number (0–65535), not ${JSON.stringify(raw)}`);
  }
  return port;
}
