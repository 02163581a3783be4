// Relay → Kafka (or straight into the archive when there is no Kafka). One loop
// per relay shard: pull, write, and acknowledge only on the next pull, after the
// write has been acknowledged itself. A crash re-delivers the unacknowledged
// batch; every consumer dedupes by event id.
import type { Producer, Message } from "kafkajs";
import type { Logger } from "../lib/log.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import { toMessage, topicFor } from "../lib/kafka-message.ts";
import { OFFERS_RULES_TOPIC, toRuleMessage } from "../../src/lib/offer-rules.ts";
import { metrics } from "./metrics.ts";
import type { WorkerClient } from "./worker-client.ts";

export type Sink = (events: Envelope[]) => Promise<void>;

/** Packet openings also go, in the original system's shape, to its claim_events topic. */
function legacyClaimEvent(e: Envelope): Message | undefined {
  if (e.type !== "campaign.packet_opened") return undefined;
  const d = e.data as { user_id: string; campaign_id: string; amount: number; ts: string };
  const m = toMessage(e);
  return { ...m, value: JSON.stringify({ user_id: d.user_id, campaign_id: d.campaign_id, amount: d.amount, ts: d.ts }) };
}

/** Offer changes also go to the original engine's offers.rules, as `{"type":"UPSERT","rule":{…}}` keyed by rule id. */
function legacyRule(e: Envelope): Message | undefined {
  if (e.type !== "offer.upserted") return undefined;
  const d = e.data as unknown as Parameters<typeof toRuleMessage>[0];
  return { ...toMessage(e), key: d.offer_id, value: JSON.stringify(toRuleMessage(d)) };
}

export function kafkaSink(producer: Producer): Sink {
  return async (events) => {
    const byTopic = new Map<string, Message[]>();
    const add = (topic: string, m: Message) => (byTopic.get(topic) ?? byTopic.set(topic, []).get(topic)!).push(m);
    for (const e of events) {
      // An event type with no topic is parked, not dropped: it needs a topic added.
      add(topicFor(e.type) ?? "unrouted.events", toMessage(e));
      const legacy = legacyClaimEvent(e);
      if (legacy) add("claim_events", legacy);
      const rule = legacyRule(e);
      if (rule) add(OFFERS_RULES_TOPIC, rule);
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
