import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Kafka, logLevel, Partitioners, type Message, type Producer } from "kafkajs";
import type { Envelope } from "../../src/lib/envelope.ts";
import { openArchive, type Archive } from "../../workers/archiver/archive.ts";
import { startArchiver } from "../../workers/archiver/consumer.ts";
import { toMessage, topicFor } from "../../workers/lib/kafka-message.ts";
import { createLogger } from "../../workers/lib/log.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { events } from "../../drizzle/schema.ts";
import { counts, envelope, mixedEvents, store, testArchive, waitFor } from "./helpers.ts";

const target = testArchive();
let kafka: KafkaHandle;
let archive: Archive;
let producer: Producer;

beforeAll(async () => {
  kafka = await startKafka();
  archive = await target.open();
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

// Everything this file sends to the cluster, for consumers that read it all.
const published = new Set<string>();
let messagesSent = 0;
let malformedSent = 0;

/** Produces events the way the bridge does; returns the number of messages sent. */
async function publish(envelopes: Envelope[]): Promise<number> {
  for (const e of envelopes) published.add(e.id);
  messagesSent += envelopes.length;
  const byTopic = new Map<string, Message[]>();
  for (const e of envelopes) {
    const topic = topicFor(e.type)!;
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), toMessage(e)]);
  }
  await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  return envelopes.length;
}

const settlements = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    envelope(`bet:${tag}-B${i + 1}`, 2, "bet.settled", { bet_id: `${tag}-B${i + 1}`, userId: `${tag}-user-${i + 1}`, result: "won", payout_cents: 463 }),
  );

test(`the archiver stores every event once across restarts and skips malformed messages (${store})`, async () => {
  const lines: string[] = [];
  const log = createLogger("archiver", "info", (line) => lines.push(line));
  const groupId = `archiver-test-${Date.now()}`;
  // A member that left may only be forgotten after its session times out (the mock
  // cluster seems to ignore LeaveGroup), so keep sessions short for the restart.
  // Short fetch waits make stop() quick.
  const consumer = { sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 500 };

  // Run 1: 130 distinct events, 25 duplicates, two malformed messages in the middle of a coupon partition.
  const first = [...mixedEvents(30, "a"), ...settlements("a", 10)];
  let sent = await publish(first);
  const key = first[0]!.aggregate;
  await producer.send({
    topic: "coupon.events",
    messages: [
      { key, value: "{}" },
      { key, value: "{not json", headers: toMessage(first[0]!).headers },
    ],
  });
  sent += 2;
  messagesSent += 2;
  malformedSent += 2;
  sent += await publish([first[0]!, ...first.slice(1, 25)]);

  // The first insert fails as if the database were down: the batch must be retried, not skipped.
  let failures = 0;
  const flaky: Archive = {
    ...archive,
    insert: (envelopes) => (failures++ === 0 ? Promise.reject(new Error("database unavailable")) : archive.insert(envelopes)),
  };
  let archiver = await startArchiver({ brokers: kafka.brokers, archive: flaky, groupId, log, consumer });
  try {
    await waitFor("run 1 to consume everything", () => archiver.stats.messages === sent);
  } finally {
    await archiver.stop();
  }
  expect(failures).toBeGreaterThan(1);
  // The outage was waited out, not dead-lettered: only the two malformed messages went to the DLQ.
  expect(archiver.stats).toMatchObject({ messages: sent, inserted: first.length, skipped: 2, deadLettered: 2 });
  expect(await counts(archive)).toEqual({ events: 130, coupon_claims: 30, claim_log: 30, ledger_entries: 30, bets: 30 });
  const skipped = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "skipping malformed message");
  expect(skipped.map((l) => [l.level, l.topic, typeof l.offset, l.error.split(/[(:]/)[0]])).toEqual([
    ["warn", "coupon.events", "string", "missing header"],
    ["warn", "coupon.events", "string", "value is not JSON"],
  ]);

  // Run 2, same group: 65 new events plus 10 old ones again. Only what came after the
  // committed offsets is delivered, and nothing is archived twice.
  const second = [...mixedEvents(15, "b"), ...settlements("b", 5)];
  const sent2 = (await publish(second)) + (await publish(first.slice(100, 110)));
  archiver = await startArchiver({ brokers: kafka.brokers, archive, groupId, log, consumer });
  try {
    await waitFor(
      "run 2 to archive the new events and see every message",
      async () => archiver.stats.messages >= sent2 && (await counts(archive)).events === 130 + 65,
    );
  } finally {
    await archiver.stop();
  }
  expect(archiver.stats).toMatchObject({ messages: sent2, inserted: 65, skipped: 0 });
  expect(await counts(archive)).toEqual({ events: 195, coupon_claims: 45, claim_log: 45, ledger_entries: 45, bets: 45 });
});

test("the archiver process archives into PGlite by default and exits 0 on SIGTERM", async () => {
  await publish(mixedEvents(5, "proc"));
  const cwd = mkdtempSync(join(tmpdir(), "rushgate-archiver-"));
  const child = spawn(process.execPath, [fileURLToPath(new URL("../../workers/archiver/index.ts", import.meta.url))], {
    cwd,
    env: { ...process.env, KAFKA_BROKERS: kafka.brokers.join(","), DATABASE_URL: "", ARCHIVER_GROUP_ID: `proc-${Date.now()}`, ARCHIVER_PORT: "0", LOG_LEVEL: "debug" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (buffered + chunk).split("\n");
    buffered = parts.pop()!;
    logs.push(...parts.map((line) => JSON.parse(line)));
  });
  const consumed = () => logs.filter((l) => l.msg === "batch archived").reduce((n, l) => n + Number(l.messages), 0);
  try {
    await waitFor("the process to consume every message", () => consumed() === messagesSent);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  } finally {
    child.kill("SIGKILL");
  }
  expect(logs.at(-1)).toMatchObject({ level: "info", msg: "archiver stopped", messages: messagesSent, skipped: malformedSent });

  const stored = await openArchive({ dataDir: join(cwd, ".data/archive") });
  try {
    expect(await stored.db.$count(events)).toBe(published.size);
  } finally {
    await stored.close();
    rmSync(cwd, { recursive: true, force: true });
  }
});
