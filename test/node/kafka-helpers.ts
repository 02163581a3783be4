import { Kafka, logLevel, Partitioners, type KafkaMessage } from "kafkajs";

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
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

export const headerOf = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

/**
 * Waits until a consumer group has committed every message of the topics (lag
 * 0), i.e. everything produced so far has been handled and acknowledged.
 */
export async function waitForZeroLag(brokers: string[], groupId: string, topics: string[], deadlineMs = 60_000) {
  const kafka = new Kafka({ clientId: "test-lag", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      let lag = 0;
      const committed = await admin.fetchOffsets({ groupId, topics });
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const end of ends) {
          const at = Number(mine.find((p) => p.partition === end.partition)?.offset ?? -1);
          lag += Number(end.high) - Math.max(at, Number(end.low));
        }
      }
      if (lag === 0) return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} still has lag ${lag}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

export type Reader = { seen: (Seen & { at: number })[]; stop(): Promise<void> };

/**
 * A consumer that keeps reading `topics` from the beginning and notes when each
 * message arrived, for tests that time what happens after a fault. `ready`
 * resolves once it has joined its group and been given partitions.
 */
export async function startReader(brokers: string[], topics: string[]): Promise<Reader & { ready: Promise<void> }> {
  const kafka = new Kafka({ clientId: "test-reader", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `reader-${Math.random().toString(36).slice(2)}`,
    allowAutoTopicCreation: true,
    maxWaitTimeInMs: 200,
  });
  let joined!: () => void;
  const ready = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const seen: (Seen & { at: number })[] = [];
  await consumer.run({ eachMessage: async ({ topic, message }) => void seen.push({ topic, message, at: Date.now() }) });
  return { seen, ready, stop: () => consumer.disconnect() };
}
