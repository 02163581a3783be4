// Kafka → Worker. Consumes the inbound topics and their .retry topics, delivers
// to the Worker's ingest endpoint, produces any replies, and commits an offset
// only after the Worker has answered for it (or the message was parked in a
// .retry or .dlq topic).
import type { Batch, Consumer, IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import { INBOUND_TOPICS } from "../../src/lib/events.ts";
import type { GroupTimings } from "../lib/kafka-group.ts";
import type { Logger } from "../lib/log.ts";
import { backoff, mayRetry } from "../../src/lib/retry.ts";
import type { FailureReports } from "./failure-reports.ts";
import { metrics } from "./metrics.ts";
import { type IngestMessage, type IngestResult, type WorkerClient } from "./worker-client.ts";

export const inboundTopics: readonly string[] = INBOUND_TOPICS; // named in the event catalogue
const couponRequest = (topic: string) => topic.startsWith("coupon.") && topic.endsWith(".req");

export type InboundOptions = { groupId: string; retryAttempts: number; retryBaseMs: number; group?: GroupTimings };

type Origin = { topic: string; partition: number; offset: string };

/** A message's place in Kafka: the same id on every redelivery, so the Worker can apply it once. */
const positionId = (o: Origin) => `kafka:${o.topic}/${o.partition}:${BigInt(o.offset) + 1n}`;

/**
 * rushgate publishes its own offer changes to offers.rules too (with the event
 * headers); reading them back would apply a change twice, or an old one after
 * a newer one. Only messages from outside (no `event-id`) are applied.
 */
const ownEcho = (topic: string, message: KafkaMessage) => topic === "offers.rules" && header(message.headers, "event-id") !== undefined;

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startInbound(
  kafka: Kafka,
  producer: Producer,
  client: WorkerClient,
  options: InboundOptions,
  log: Logger,
  reports: FailureReports,
): Promise<Consumer> {
  const consumer = kafka.consumer({ ...options.group, groupId: options.groupId, allowAutoTopicCreation: true });
  await consumer.connect();
  // A new group starts at the earliest retained message, not the latest: what was
  // produced before the bridge first joined is delivered, not skipped. Replays are
  // safe, since every coupon request is applied at most once per correlation id.
  await consumer.subscribe({ topics: [...inboundTopics, ...inboundTopics.map((t) => `${t}.retry`)], fromBeginning: true });

  const send = (topic: string, messages: { key?: string | Buffer | null; value: string | Buffer | null; headers?: IHeaders }[]) =>
    producer.send({ topic, messages, acks: -1 });

  async function deadLetter(origin: Origin, message: KafkaMessage, error: string) {
    await send(`${origin.topic}.dlq`, [
      {
        key: message.key,
        value: message.value,
        headers: {
          "original-topic": origin.topic,
          "original-partition": String(origin.partition),
          "original-offset": origin.offset,
          error,
        },
      },
    ]);
    metrics.dlq.inc({ topic: origin.topic });
    reports.add("dlq", positionId(origin));
    log.warn("dead-lettered", { ...origin, error });
  }

  async function parkForRetry(origin: Origin, message: KafkaMessage, attempt: number, error: string) {
    // Delivery is idempotent (the Worker applies a Kafka position once), so a retryable failure is parked.
    const nextAt = Date.now() + backoff(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryBaseMs * 2 ** options.retryAttempts });
    await send(`${origin.topic}.retry`, [
      {
        key: message.key,
        value: message.value,
        headers: {
          attempt: String(attempt),
          "next-at": String(nextAt),
          error,
          "original-topic": origin.topic,
          "original-partition": String(origin.partition),
          "original-offset": origin.offset,
        },
      },
    ]);
    metrics.retries.inc({ topic: origin.topic });
    reports.add("retries", `${positionId(origin)}#${attempt}`); // each attempt is a retry
  }

  /** Acts on the Worker's answer for one message: produce its reply, or dead-letter it. */
  async function settle(origin: Origin, message: KafkaMessage, result: IngestResult) {
    if (!result.ok) return deadLetter(origin, message, result.error);
    if (result.reply) {
      await send(result.reply.topic, [{ key: result.reply.key, value: JSON.stringify(result.reply.value) }]);
      metrics.produced.inc({ topic: result.reply.topic });
    }
  }

  function parse(message: KafkaMessage): unknown {
    return JSON.parse(message.value?.toString() ?? "");
  }

  /** First delivery: a batch of one partition, sent to the Worker in one call. */
  async function firstDelivery(batch: Batch, resolveOffset: (o: string) => void) {
    const parsed: { message: KafkaMessage; value: unknown }[] = [];
    for (const message of batch.messages) {
      metrics.consumed.inc({ topic: batch.topic });
      if (ownEcho(batch.topic, message)) continue;
      const origin = { topic: batch.topic, partition: batch.partition, offset: message.offset };
      try {
        parsed.push({ message, value: parse(message) });
      } catch {
        await deadLetter(origin, message, "value is not JSON");
      }
    }
    const ingest: IngestMessage[] = parsed.map(({ message, value }) => ({
      topic: batch.topic,
      key: message.key?.toString() ?? null,
      value,
      id: positionId({ topic: batch.topic, partition: batch.partition, offset: message.offset }),
    }));
    let results: IngestResult[] | undefined;
    let failure: Error | undefined;
    if (ingest.length) {
      try {
        ({ results } = await client.ingest(ingest));
      } catch (err) {
        failure = err as Error;
      }
    }
    for (const [i, { message }] of parsed.entries()) {
      const origin = { topic: batch.topic, partition: batch.partition, offset: message.offset };
      if (results) await settle(origin, message, results[i]!);
      else if (mayRetry(failure, true)) await parkForRetry(origin, message, 1, failure!.message);
      else await deadLetter(origin, message, failure!.message);
    }
    for (const message of batch.messages) resolveOffset(message.offset);
  }

  /** A later attempt: one message at a time, each once its next-at has come. */
  async function retryDelivery(
    batch: Batch,
    resolveOffset: (o: string) => void,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ) {
    for (const message of batch.messages) {
      const h = message.headers;
      const origin: Origin = {
        topic: header(h, "original-topic") ?? batch.topic.replace(/\.retry$/, ""),
        partition: Number(header(h, "original-partition") ?? batch.partition),
        offset: header(h, "original-offset") ?? message.offset,
      };
      const attempt = Number(header(h, "attempt") ?? 1);
      for (let wait = Number(header(h, "next-at") ?? 0) - Date.now(); wait > 0; wait = Number(header(h, "next-at")) - Date.now()) {
        if (!isRunning()) return; // Not resolved: redelivered after a restart.
        await sleep(Math.min(wait, 1000));
        await heartbeat();
      }
      metrics.consumed.inc({ topic: batch.topic });
      let value: unknown;
      try {
        value = parse(message);
      } catch {
        await deadLetter(origin, message, "value is not JSON");
        resolveOffset(message.offset);
        continue;
      }
      const ingest = [{ topic: origin.topic, key: message.key?.toString() ?? null, value, id: positionId(origin) }];
      try {
        const { results } = await client.ingest(ingest);
        await settle(origin, message, results[0]!);
      } catch (err) {
        const error = (err as Error).message;
        if (!mayRetry(err, true)) await deadLetter(origin, message, error);
        else if (attempt < options.retryAttempts) await parkForRetry(origin, message, attempt + 1, error);
        else await giveUp(origin, message, ingest, error);
      }
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  /**
   * Out of attempts. A coupon request is abandoned in its actor first: the actor
   * answers with the real outcome if it did apply, or records that it never
   * will, and only then is the requester told it failed. If even that cannot
   * reach the Worker, no reply is sent: silence is safer than a false failure.
   */
  async function giveUp(origin: Origin, message: KafkaMessage, ingest: IngestMessage[], error: string) {
    await deadLetter(origin, message, `gave up after ${options.retryAttempts} attempts: ${error}`);
    if (!couponRequest(origin.topic)) return;
    try {
      const { results } = await client.ingest(ingest, true);
      if (results[0]?.ok && results[0].reply) await settle(origin, message, results[0]);
    } catch (err) {
      log.error("could not abandon request; no reply sent", { ...origin, err: (err as Error).message });
    }
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning }) => {
      if (batch.topic.endsWith(".retry")) await retryDelivery(batch, resolveOffset, heartbeat, isRunning);
      else await firstDelivery(batch, resolveOffset);
      await commitOffsetsIfNecessary();
    },
  });
  return consumer;
}
