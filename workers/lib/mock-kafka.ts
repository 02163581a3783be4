/**
 * A Kafka for tests and benchmarks: the brokers in KAFKA_BROKERS when set,
 * otherwise librdkafka's mock cluster, started through kcat
 * (`apt-get install -y kcat`). The mock auto-creates topics (4 partitions) and
 * supports produce and consumer groups, but not admin createTopics.
 *
 * kcat runs under a small shell that kills it as soon as our stdin pipe closes,
 * so the cluster dies with this process even if stop() is never called.
 */
import { spawn } from "node:child_process";

/**
 * `idempotent`: whether producers can be idempotent here. librdkafka's mock
 * cluster reports no controller broker, and kafkajs asks the controller for a
 * producer id, so against the mock they cannot.
 */
/**
 * `groupEnv`: consumer-group timings for processes on this cluster. The mock
 * waits out a dead member's session twice before a restarted one gets its
 * partitions (measured: about 2× the session), so on the mock a 3 s session
 * keeps failover near 6 s; it accepts sessions a stock broker would refuse.
 * It also answers an empty fetch only after the whole max wait, so consumers
 * on it wait 100 ms, not kafkajs's 5 s.
 */
export type KafkaHandle = { brokers: string[]; idempotent: boolean; groupEnv: Record<string, string>; stop(): Promise<void> };

// KAFKA_MAX_WAIT_MS: the mock holds an empty fetch for the consumer's whole max
// wait, whatever is produced meanwhile (kafkajs's default is 5 s); see kafka-group.ts.
export const MOCK_GROUP_ENV = { KAFKA_SESSION_TIMEOUT_MS: "3000", KAFKA_HEARTBEAT_INTERVAL_MS: "500", KAFKA_MAX_WAIT_MS: "100" };

export async function startKafka(opts: { brokers?: number; timeoutMs?: number } = {}): Promise<KafkaHandle> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) return { brokers: fromEnv.split(",").map((b) => b.trim()), idempotent: true, groupEnv: {}, stop: async () => {} };

  const count = opts.brokers ?? 3;
  const script = `command -v kcat >/dev/null || { echo "kcat not found (apt-get install -y kcat)" >&2; exit 127; }
kcat -C -b localhost:1 -t _mock_boot -X test.mock.num.brokers=${count} >/dev/null & k=$!
cat >/dev/null
kill $k 2>/dev/null; wait $k 2>/dev/null; exit 0`;
  const child = spawn("sh", ["-c", script], { stdio: ["pipe", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";

  const brokers = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`kcat mock cluster did not start: ${stderr}`)), opts.timeoutMs ?? 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.stdin.end();
      reject(err);
    };
    child.once("error", (err) => fail(new Error(`cannot run kcat (apt-get install -y kcat): ${err.message}`)));
    const early = (code: number | null) => fail(new Error(`kcat exited (${code}) before the mock cluster started: ${stderr}`));
    child.once("exit", early);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 10_000) stderr += chunk;
      // "...Mock cluster enabled: original bootstrap.servers ... replaced with 127.0.0.1:1,127.0.0.1:2"
      const match = /replaced with (\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        child.removeListener("exit", early);
        resolve(match[1].split(","));
      }
    });
  });

  return {
    brokers,
    idempotent: false,
    groupEnv: MOCK_GROUP_ENV,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}
