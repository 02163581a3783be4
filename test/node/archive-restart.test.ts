// The archive database restarting mid-stream loses nothing: the archiver waits
// for it (never dead-letters), and events produced while it is down are
// archived exactly once after it is back. On a PostgreSQL of the test's own.
import { afterAll, beforeAll, expect, test } from "vitest";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { openArchive, type Archive } from "../../workers/archiver/archive.ts";
import { startArchiver } from "../../workers/archiver/consumer.ts";
import { groupTimings } from "../../workers/lib/kafka-group.ts";
import { toMessage, topicFor } from "../../workers/lib/kafka-message.ts";
import { createLogger } from "../../workers/lib/log.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import { counts, mixedEvents, waitFor } from "./helpers.ts";
import { startPrivatePostgres, type PrivatePostgres } from "./private-postgres.ts";

let pg: PrivatePostgres;
let kafka: KafkaHandle;
let archive: Archive;
let producer: Producer;

beforeAll(async () => {
  [pg, kafka] = await Promise.all([startPrivatePostgres(), startKafka()]);
  archive = await openArchive({ databaseUrl: pg.url, schema: "restart" });
  producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
}, 60_000);
afterAll(async () => {
  await producer?.disconnect();
  await archive?.close();
  await kafka?.stop();
  pg?.destroy();
});

async function publish(envelopes: Envelope[]) {
  const byTopic = new Map<string, ReturnType<typeof toMessage>[]>();
  for (const e of envelopes) byTopic.set(topicFor(e.type)!, [...(byTopic.get(topicFor(e.type)!) ?? []), toMessage(e)]);
  await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

test("PostgreSQL restarting mid-stream: events produced while it is down are archived once when it is back", async () => {
  const lines: Record<string, any>[] = [];
  const archiver = await startArchiver({
    brokers: kafka.brokers,
    archive,
    groupId: `restart-${Date.now()}`,
    log: createLogger("archiver", "info", (line) => lines.push(JSON.parse(line))),
    consumer: { ...groupTimings(kafka.groupEnv), maxWaitTimeInMs: 500 },
  });
  try {
    const before = mixedEvents(20, "up"); // 80 events on all four topics
    await publish(before);
    await waitFor("the first events archived", async () => (await counts(archive)).events === before.length);

    pg.stop();
    const during = mixedEvents(20, "down");
    await publish(during);
    // The archiver has met the outage (its writes fail) before the server comes back.
    await waitFor("the archiver to meet the outage", () => lines.some((l) => l.msg === "archive insert failed; retrying"));
    await publish(mixedEvents(5, "down").slice(0, 10)); // duplicates of what waits: stored once
    pg.start();

    const total = before.length + during.length;
    await waitFor("everything archived after the restart", async () => (await counts(archive).catch(() => ({ events: -1 }))).events === total);
    await waitFor("every message handled", () => archiver.stats.messages === total + 10);
  } finally {
    await archiver.stop();
  }
  expect(await counts(archive)).toEqual({ events: 160, coupon_claims: 40, claim_log: 40, ledger_entries: 40, bets: 40 });
  expect(archiver.stats).toMatchObject({ inserted: 160, deadLettered: 0 });
  expect(lines.filter((l) => l.msg === "dead-lettered")).toEqual([]);
});
