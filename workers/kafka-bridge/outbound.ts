// Relay → Kafka (or straight into the archive when there is no Kafka). One loop
// per relay shard, under the shard's lease: pull, write, and acknowledge only on
// the next pull, after the write has been acknowledged itself. A crash
// re-delivers the unacknowledged batch; every consumer dedupes by event id.
import type { Producer, Message } from "kafkajs";
import type { Logger } from "../lib/log.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import { routesFor } from "../../src/lib/events.ts";
import { toMessage } from "../lib/kafka-message.ts";
import { metrics } from "./metrics.ts";
import { LeaseLostError, type WorkerClient } from "./worker-client.ts";

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
        add(route.topic, route.value ? { ...message, key: route.key ?? message.key, value: JSON.stringify(route.value) } : message);
      }
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await producer.sendBatch({ topicMessages, acks: -1 });
    for (const { topic, messages } of topicMessages) metrics.produced.inc({ topic }, messages.length);
  };
}

export type Outbound = { owned(): number[]; stop(): Promise<void> };

export type OutboundOptions = {
  limit: number;
  waitMs: number;
  /** This bridge's name on the shard leases. */
  holder: string;
  /** How long a lease lasts without a pull renewing it. */
  leaseTtlMs: number;
};

/**
 * One loop per relay shard. A loop first takes the shard's lease (a shard is
 * drained by one bridge at a time), then drains it under the lease's token
 * until the relay says another bridge holds it, or until stop(). A shard held
 * by another bridge is asked for again every quarter lease, so a survivor takes
 * over within about 1.25 leases of its owner's last pull.
 */
export function startOutbound(client: WorkerClient, sink: Sink, shards: number, options: OutboundOptions, log: Logger): Outbound {
  const abort = new AbortController();
  const owned = new Set<number>();
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener("abort", done);
        resolve();
      }
      abort.signal.addEventListener("abort", done);
    });
  // The relay caps a leased pull's wait at half the lease too; asking for less keeps renewals frequent.
  const waitMs = Math.min(options.waitMs, Math.floor(options.leaseTtlMs / 2));
  const loops = Array.from({ length: shards }, (_, shard) => own(shard));

  async function own(shard: number): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      let token: number | undefined;
      try {
        const lease = await client.acquireLease(shard, options.holder, options.leaseTtlMs, abort.signal);
        if (lease.status === "GRANTED") token = lease.token;
        failures = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        failures++;
        if (failures % 10 === 1) log.warn("cannot ask for a relay lease", { shard, err: (err as Error).message });
      }
      if (token === undefined) {
        await nap(options.leaseTtlMs / 4);
        continue;
      }
      log.info("relay lease acquired", { shard, token, holder: options.holder });
      owned.add(shard);
      metrics.shardsOwned.set(owned.size);
      await drain(shard, token);
      owned.delete(shard);
      metrics.shardsOwned.set(owned.size);
    }
  }

  /** Pulls, writes, and acknowledges on the next pull, under `token`, until fenced or stopped. */
  async function drain(shard: number, token: number): Promise<void> {
    let cursor = 0; // delivered but not yet acknowledged to the relay
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const { entries, cursor: next } = await client.pull(shard, cursor, options.limit, waitMs, token, abort.signal);
        if (entries.length) {
          await sink(entries.map((e) => e.event));
          cursor = next;
          log.debug("relayed", { shard, events: entries.length, cursor });
        }
        failures = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        if (err instanceof LeaseLostError) {
          // What we delivered and did not acknowledge, the new owner delivers again (consumers dedupe by event id).
          log.warn("relay lease lost", { shard, token, err: err.message });
          return;
        }
        failures++;
        // Capped below the lease: a bridge that cannot reach the Worker for long lets another take over.
        const delay = Math.min(options.leaseTtlMs, 200 * 2 ** failures);
        log.warn("relay drain failed", { shard, err: (err as Error).message, retry_in_ms: delay });
        await nap(delay);
      }
    }
    // Stopping: acknowledge what was delivered, so nothing is sent twice, and hand the shard over at once.
    if (cursor) await client.pull(shard, cursor, 1, 0, token).catch(() => undefined);
    await client.releaseLease(shard, token).catch(() => undefined);
  }

  return {
    owned: () => [...owned].sort((a, b) => a - b),
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
