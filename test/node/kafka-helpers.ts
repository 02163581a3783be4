import { Kafka, logLevel, type KafkaMessage } from "kafkajs";

export type Seen = { topic: string; message: KafkaMessage };

/**
 * Reads topics from the beginning with a fresh consumer group until `done`
 * holds for what has arrived, or the deadline passes (then the caller's
 * assertions fail on what did arrive).
 */
export async function consumeUntil(
  brokers: string[],
  topics: string[],
  done: (seen: Seen[]) => boolean,
  deadlineMs = 30_000,
): Promise<Seen[]> {
  const kafka = new Kafka({ clientId: "test-reader", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-${Math.random().toString(36).slice(2)}`, allowAutoTopicCreation: true });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const seen: Seen[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, deadlineMs);
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      seen.push({ topic, message });
      if (done(seen)) finish();
    },
  });
  if (done(seen)) finish();
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return seen;
}

export async function produce(brokers: string[], topic: string, messages: { key?: string; value: string }[]) {
  const kafka = new Kafka({ clientId: "test-writer", brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

export const headerOf = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
