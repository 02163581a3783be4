/**
 * The archiver's Kafka side: a consumer group on the four event topics (and
 * the original systems' inbound events.bet_placed) that
 * writes each fetched batch into the archive and only then commits its
 * offsets, so a crash re-delivers (and the archive dedupes) instead of losing.
 * Malformed messages are logged, counted and committed with the batch: they
 * never crash the archiver or block a partition.
 */
import { Kafka, logLevel, type ConsumerConfig, type LogEntry } from "kafkajs";
import { EVENT_TOPICS, EXTERNAL_TOPICS, fromExternalMessage, fromMessage } from "../lib/kafka-message.ts";
import { groupTimings } from "../lib/kafka-group.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import type { Archive } from "./archive.ts";

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

export type ArchiverStats = { batches: number; messages: number; inserted: number; skipped: number };
export type Archiver = { stats: ArchiverStats; stop(): Promise<void> };

export const DEFAULT_GROUP_ID = "rushgate-archiver";
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
  const stats: ArchiverStats = { batches: 0, messages: 0, inserted: 0, skipped: 0 };
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

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...(config.topics ?? ARCHIVED_TOPICS)], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.isEmpty()) return;
        const { topic, partition } = batch;
        const envelopes: Envelope[] = [];
        let malformed = 0;
        for (const message of batch.messages) {
          const decoded = isExternal(topic) ? fromExternalMessage(topic, partition, message) : fromMessage(message);
          if (decoded.ok) envelopes.push(decoded.envelope);
          else {
            malformed++;
            log.warn("skipping malformed message", { topic, partition, offset: message.offset, error: decoded.error });
          }
        }
        const { inserted } = await config.archive.insert(envelopes).catch((error: Error) => {
          log.error("archive insert failed; the batch will be retried", { topic, partition, error: error.message });
          throw error;
        });
        const last = batch.lastOffset();
        resolveOffset(last);
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
        stats.batches++;
        stats.messages += batch.messages.length;
        stats.inserted += inserted;
        stats.skipped += malformed;
        log.debug("batch archived", { topic, partition, last, messages: batch.messages.length, inserted });
      },
    });
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
  log.info("archiver consuming", { groupId, topics: config.topics ?? ARCHIVED_TOPICS });

  return {
    stats,
    async stop() {
      // Waits for the in-flight batch (insert + commit), then leaves the group.
      await consumer.disconnect();
      log.info("archiver stopped", { ...stats });
    },
  };
}
