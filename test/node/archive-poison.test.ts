// Poison messages: an event the archive can never store goes to the dead-letter
// topic with the reason, its offset is committed, and its partition moves on.
// Real PostgreSQL when DATABASE_URL is set (PGlite otherwise), the mock cluster.
import { afterAll, beforeAll, expect, test } from "vitest";
import { eq } from "drizzle-orm";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { couponClaims, events } from "../../drizzle/schema.ts";
import type { Archive } from "../../workers/archiver/archive.ts";
import { DEAD_LETTER_TOPIC, startArchiver } from "../../workers/archiver/consumer.ts";
import { toMessage } from "../../workers/lib/kafka-message.ts";
import { createLogger } from "../../workers/lib/log.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { groupTimings } from "../../workers/lib/kafka-group.ts";
import { envelope, store, testArchive, waitFor } from "./helpers.ts";
import { consumeUntil, headerOf, waitForZeroLag } from "./kafka-helpers.ts";

const target = testArchive();
let kafka: KafkaHandle;
let archive: Archive;
let producer: Producer;

beforeAll(async () => {
  [kafka, archive] = await Promise.all([startKafka(), target.open()]);
  producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await archive?.close();
  await target.cleanup();
  await kafka?.stop();
});

test(`poison goes to ${DEAD_LETTER_TOPIC} with its reason and the partition moves on (${store})`, async () => {
  const run = Date.now().toString(36);
  const aggregate = `coupon:POISON_${run}`;
  const claimed = (seq: number, data: object) =>
    envelope(aggregate, seq, "coupon.claimed", { coupon_name: `POISON_${run}`, user_id: `u${seq}`, remaining_amount: 10 - seq, ...data });
  const sequence = [
    envelope(aggregate, 1, "coupon.created", { name: `POISON_${run}`, amount: 10 }),
    claimed(2, { user_id: "nul\u0000user" }), // PostgreSQL text and jsonb refuse NUL
    claimed(3, { remaining_amount: 1e20 }), // out of the projection's bigint range
    claimed(4, {}),
  ];
  // One key, so one partition, in this order: the good event after the poison must get through.
  await producer.send({ topic: "coupon.events", messages: sequence.map(toMessage) });

  const groupId = `poison-${run}`;
  const archiver = await startArchiver({
    brokers: kafka.brokers,
    archive,
    groupId,
    topics: ["coupon.events"],
    log: createLogger("archiver", "silent"),
    consumer: { ...groupTimings(kafka.groupEnv), maxWaitTimeInMs: 500 },
  });
  try {
    await waitFor("the whole partition to be handled", () => archiver.stats.messages >= 4);
    await waitForZeroLag(kafka.brokers, groupId, ["coupon.events"], 30_000); // committed, poison included
  } finally {
    await archiver.stop();
  }
  expect(archiver.stats).toMatchObject({ messages: 4, inserted: 2, deadLettered: 2 });

  const stored = await archive.db.select({ seq: events.seq }).from(events).where(eq(events.aggregate, aggregate)).orderBy(events.seq);
  expect(stored.map((r) => r.seq)).toEqual([1, 4]);
  const claims = await archive.db.select().from(couponClaims).where(eq(couponClaims.coupon_name, `POISON_${run}`));
  expect(claims.map((c) => c.user_id)).toEqual(["u4"]);

  const dead = (await consumeUntil(kafka.brokers, [DEAD_LETTER_TOPIC], (s) => s.length >= 2)).filter(
    (s) => headerOf(s.message, "aggregate") === aggregate,
  );
  expect(dead.map((d) => headerOf(d.message, "event-id"))).toEqual([`${aggregate}:2`, `${aggregate}:3`]);
  for (const d of dead) {
    expect(headerOf(d.message, "original-topic")).toBe("coupon.events");
    expect(headerOf(d.message, "original-partition")).toMatch(/^\d+$/);
    expect(d.message.key?.toString()).toBe(aggregate);
  }
  expect(dead.map((d) => Number(headerOf(d.message, "original-offset")))).toEqual([1, 2].map((i) => i + Number(headerOf(dead[0]!.message, "original-offset")) - 1));
  expect(headerOf(dead[0]!.message, "error")).toMatch(/^postgres 22/); // NUL: a data exception
  expect(headerOf(dead[1]!.message, "error")).toMatch(/^postgres 22003/); // numeric value out of range
  expect(JSON.parse(dead[0]!.message.value!.toString())).toMatchObject({ user_id: "nul\u0000user" });
});
