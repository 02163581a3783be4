/**
 * The archiver's Kafka side: a consumer group on the four event topics (and
 * the original systems' inbound events.bet_placed) that
 * writes each fetched batch into the archive and only then commits its
 * offsets, so a crash re-delivers (and the archive dedupes) instead of losing.
 * A message that can never be stored (malformed, or poison: see poison.ts)
 * goes to DEAD_LETTER_TOPIC with the reason and is committed with the batch, so
 * its partition moves on. A database that is down is waited for, never
 * dead-lettered against.
 */
import { Kafka, logLevel, type ConsumerConfig, type KafkaMessage, type LogEntry } from "kafkajs";
import { EVENT_TOPICS, EXTERNAL_TOPICS, fromExternalMessage, fromMessage } from "../lib/kafka-message.ts";
import { groupTimings } from "../lib/kafka-group.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import type { Archive } from "./archive.ts";
import { poisonReason } from "./poison.ts";

export type ArchiverConfig = {
  brokers: string[];
  archive: Archive;
  groupId?: string;
  clientId?: string;
  topics?: readonly string[];
  log?: Logger;
  /** kafkajs consumer settings (sessionTimeout, heartbeatInterval, …) over the defaults (lib/kafka-group.ts). */
  consumer?: Omit<ConsumerConfig, "groupId">;
  /** Called when the consumer crashed and kafkajs will not restart it. */
  onFatal?: (error: Error) => void;
};

/** `skipped`: malformed messages; `deadLettered`: those and the poison, sent to DEAD_LETTER_TOPIC. */
export type ArchiverStats = { batches: number; messages: number; inserted: number; skipped: number; deadLettered: number };
export type Archiver = { stats: ArchiverStats; stop(): Promise<void> };

export const DEFAULT_GROUP_ID = "rushgate-archiver";
/**
 * Where messages the archive can never store go: the original key, value and
 * headers, plus original-topic, original-partition, original-offset and error.
 * One topic for all: the bridge's `<topic>.dlq` topics are its own (it reads
 * events.bet_placed too).
 */
export const DEAD_LETTER_TOPIC = "archive.dlq";
/** Our event topics, and the original systems' inbound topics the archive keeps too. */
export const ARCHIVED_TOPICS = [...EVENT_TOPICS, ...Object.keys(EXTERNAL_TOPICS)];

const isExternal = (topic: string): topic is keyof typeof EXTERNAL_TOPICS => topic in EXTERNAL_TOPICS;

/** Routes kafkajs's own logs into our JSON logger. */
export function kafkaLogCreator(log: Logger) {
  return () =>
    ({ namespace, level, log: { message, timestamp: _t, logger: _l, ...extra } }: LogEntry): void => {
      const at = level <= logLevel.ERROR ? "error" : level === logLevel.WARN ? "warn" : level === logLevel.INFO ? "info" : "debug";
      log[at](message, { kafkajs: namespace, ...extra });
    };
}

export async function startArchiver(config: ArchiverConfig): Promise<Archiver> {
  const log = config.log ?? createLogger("archiver");
  const groupId = config.groupId ?? DEFAULT_GROUP_ID;
  const stats: ArchiverStats = { batches: 0, messages: 0, inserted: 0, skipped: 0, deadLettered: 0 };
  const kafka = new Kafka({
    clientId: config.clientId ?? "rushgate-archiver",
    brokers: config.brokers,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(log),
  });
  const consumer = kafka.consumer({ allowAutoTopicCreation: true, ...groupTimings({}), ...config.consumer, groupId });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error("consumer crashed", { error: payload.error.message, restart: payload.restart });
    if (!payload.restart) config.onFatal?.(payload.error);
  });

  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await consumer.connect();

  /** Waits before another try at a database that is down; false if the batch should be given up (stopping, rebalanced). */
  async function pause(attempt: number, heartbeat: () => Promise<void>, isRunning: () => boolean, isStale: () => boolean) {
    const delay = Math.min(5000, 100 * 2 ** attempt);
    for (let left = delay; left > 0 && isRunning() && !isStale(); left -= 500) {
      await new Promise((r) => setTimeout(r, Math.min(500, left)));
      await heartbeat();
    }
    return isRunning() && !isStale();
  }

  /**
   * Stores the batch; returns the events that can never be stored, with why.
   * If the batch fails as a whole, each event is tried alone to find the poison
   * (deterministic, see poisonReason), and the database must answer a ping
   * before anything is called poison. Any other failure is thrown: retried.
   */
  async function store(envelopes: Envelope[]): Promise<{ inserted: number; poison: Map<Envelope, string> }> {
    const poison = new Map<Envelope, string>();
    try {
      return { inserted: (await config.archive.insert(envelopes)).inserted, poison };
    } catch (error) {
      if (poisonReason(error) === undefined || envelopes.length === 0) throw error;
    }
    let inserted = 0;
    for (const e of envelopes) {
      try {
        inserted += (await config.archive.insert([e])).inserted;
      } catch (error) {
        const reason = poisonReason(error);
        if (reason === undefined) throw error;
        await config.archive.ping(); // a database that cannot answer is an outage, not poison
        poison.set(e, reason);
      }
    }
    return { inserted, poison };
  }

  async function deadLetter(topic: string, partition: number, message: KafkaMessage, error: string) {
    await producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            "original-topic": topic,
            "original-partition": String(partition),
            "original-offset": message.offset,
            error,
          },
        },
      ],
    });
    log.warn("dead-lettered", { topic, partition, offset: message.offset, error, dlq: DEAD_LETTER_TOPIC });
  }

  try {
    await consumer.subscribe({ topics: [...(config.topics ?? ARCHIVED_TOPICS)], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.isEmpty()) return;
        const { topic, partition } = batch;
        const decoded: { message: KafkaMessage; envelope: Envelope }[] = [];
        const malformed: { message: KafkaMessage; error: string }[] = [];
        for (const message of batch.messages) {
          const d = isExternal(topic) ? fromExternalMessage(topic, partition, message) : fromMessage(message);
          if (d.ok) decoded.push({ message, envelope: d.envelope });
          else {
            malformed.push({ message, error: d.error });
            log.warn("skipping malformed message", { topic, partition, offset: message.offset, error: d.error });
          }
        }
        let stored: Awaited<ReturnType<typeof store>>;
        for (let attempt = 1; ; attempt++) {
          try {
            stored = await store(decoded.map((d) => d.envelope));
            break;
          } catch (error) {
            // Not poison: the database is down or unwell. Keep the partition and
            // try again; nothing is committed, so a restart re-delivers instead.
            log.error("archive insert failed; retrying", { topic, partition, attempt, error: (error as Error).message });
            if (!(await pause(attempt, heartbeat, isRunning, isStale))) return;
          }
        }
        for (const { message, error } of malformed) await deadLetter(topic, partition, message, error);
        for (const { message, envelope } of decoded) {
          const reason = stored.poison.get(envelope);
          if (reason !== undefined) await deadLetter(topic, partition, message, reason);
        }
        const last = batch.lastOffset();
        resolveOffset(last);
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
        stats.batches++;
        stats.messages += batch.messages.length;
        stats.inserted += stored.inserted;
        stats.skipped += malformed.length;
        stats.deadLettered += malformed.length + stored.poison.size;
        log.debug("batch archived", { topic, partition, last, messages: batch.messages.length, inserted: stored.inserted });
      },
    });
  } catch (error) {
    await consumer.disconnect();
    await producer.disconnect();
    throw error;
  }
  log.info("archiver consuming", { groupId, topics: config.topics ?? ARCHIVED_TOPICS });

  return {
    stats,
    async stop() {
      // Waits for the in-flight batch (insert + commit), then leaves the group.
      await consumer.disconnect();
      await producer.disconnect();
      log.info("archiver stopped", { ...stats });
    },
  };
}
