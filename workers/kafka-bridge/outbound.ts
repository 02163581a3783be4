// Relay → Kafka (or straight into the archive when there is no Kafka). One loop
// per relay shard: pull, write, and acknowledge only on the next pull, after the
// write has been acknowledged itself. A crash re-delivers the unacknowledged
// batch; every consumer dedupes by event id.
import type { Producer, Message } from "kafkajs";
import type { Logger } from "../lib/log.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import { routesFor } from "../../src/lib/events.ts";
import { toMessage } from "../lib/kafka-message.ts";
import { metrics } from "./metrics.ts";
import type { WorkerClient } from "./worker-client.ts";

export type Sink = (events: Envelope[]) => Promise<void>;

export function kafkaSink(producer: Producer): Sink {
  return async (events) => {
    const byTopic = new Map<string, Message[]>();
    const add = (topic: string, m: Message) => (byTopic.get(topic) ?? byTopic.set(topic, []).get(topic)!).push(m);
    for (const e of events) {
      // The catalogue names each type's topic and any copy in an original
      // system's shape (packet openings to claim_events). An uncatalogued type
      // is parked in unrouted.events, not dropped.
      const message = toMessage(e);
      for (const route of routesFor(e.type, e.data)) {
        add(route.topic, route.value ? { ...message, value: JSON.stringify(route.value) } : message);
      }
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await producer.sendBatch({ topicMessages, acks: -1 });
    for (const { topic, messages } of topicMessages) metrics.produced.inc({ topic }, messages.length);
  };
}

export type Outbound = { stop(): Promise<void> };

export function startOutbound(
  client: WorkerClient,
  sink: Sink,
  shards: number,
  options: { limit: number; waitMs: number },
  log: Logger,
): Outbound {
  const abort = new AbortController();
  const loops = Array.from({ length: shards }, (_, shard) => drain(shard));

  async function drain(shard: number): Promise<void> {
    let cursor = 0; // delivered but not yet acknowledged to the relay
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const { entries, cursor: next } = await client.pull(shard, cursor, options.limit, options.waitMs, abort.signal);
        if (entries.length) {
          await sink(entries.map((e) => e.event));
          cursor = next;
          log.debug("relayed", { shard, events: entries.length, cursor });
        }
        failures = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        failures++;
        const delay = Math.min(30_000, 200 * 2 ** failures);
        log.warn("relay drain failed", { shard, err: (err as Error).message, retry_in_ms: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    // Acknowledge what was delivered, so a restart does not send it again.
    if (cursor) await client.pull(shard, cursor, 1, 0).catch(() => undefined);
  }

  return {
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
