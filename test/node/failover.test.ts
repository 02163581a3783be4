// Recovery in seconds: the bridge and the archiver as real processes on the
// mock cluster (or KAFKA_BROKERS), the Worker on workerd (Miniflare). Each
// test SIGKILLs a process and bounds how long the system takes to work again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { build, startRushgate, type Runtime } from "../../bench/lib/runtime.ts";
import { toMessage } from "../../workers/lib/kafka-message.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { databaseUrl, envelope, testArchive, waitFor } from "./helpers.ts";
import { headerOf, startReader, type Reader } from "./kafka-helpers.ts";
import { startProcess, stopAll, type Proc } from "./processes.ts";

/** The bound the issue sets: working again within 10 s of a SIGKILL. */
const RECOVERY_MS = 10_000;
const token = "failover-token";
const run = Date.now().toString(36);
let kafka: KafkaHandle;
let worker: Runtime;
let producer: Producer;
const readers: Reader[] = [];

beforeAll(async () => {
  build();
  [kafka, worker] = await Promise.all([startKafka(), startRushgate({ BRIDGE_TOKEN: token, ADMIN_TOKEN: adminToken })]);
  producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await stopAll();
  for (const r of readers) await r.stop();
  await producer?.disconnect();
  await worker?.stop();
  await kafka?.stop();
});

const bridgeEnv = (group: string, extra: Record<string, string> = {}) => ({
  ...kafka.groupEnv,
  WORKER_URL: worker.url.href,
  BRIDGE_TOKEN: token,
  KAFKA_BROKERS: kafka.brokers.join(","),
  KAFKA_IDEMPOTENT: String(kafka.idempotent),
  BRIDGE_GROUP_ID: group,
  BRIDGE_PORT: "0",
  PULL_WAIT_MS: "2000",
  ...extra,
});
const startBridge = (name: string, group: string) => startProcess(name, "workers/kafka-bridge/index.ts", bridgeEnv(group));

async function reader(topics: string[]): Promise<Reader> {
  const r = await startReader(kafka.brokers, topics);
  readers.push(r);
  await r.ready;
  return r;
}

const adminToken = `fo-admin-${Date.now().toString(36)}`;
const api = (path: string, body?: unknown, auth = false) =>
  fetch(new URL(path, worker.url), {
    method: body === undefined ? "GET" : "POST",
    // `auth`: as the bridge (on /internal); otherwise as the operator.
    headers: { "content-type": "application/json", authorization: `Bearer ${auth ? token : adminToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

describe("failover after a SIGKILL", () => {
  it(`the coupon request/reply protocol answers again within ${RECOVERY_MS / 1000} s of the bridge's restart`, async () => {
    const group = `fo-bridge-${run}`;
    const replyTo = `fo-replies.${run}`;
    const replies = await reader([replyTo]);
    const request = (topic: string, correlation_id: string, body: object) =>
      producer.send({
        topic,
        messages: [{ key: correlation_id, value: JSON.stringify({ schema_version: 1, correlation_id, reply_to: replyTo, ...body }) }],
      });
    const replyFor = (id: string) => replies.seen.find((s) => JSON.parse(s.message.value!.toString()).correlation_id === id);

    let bridge = startBridge("bridge", group);
    await request("coupon.create.req", "create", { name: `FO_${run}`, amount: 5 });
    await waitFor("the first reply", () => replyFor("create") !== undefined, 60_000);

    await bridge.stop("SIGKILL");
    bridge = startBridge("bridge-restarted", group);
    const restarted = bridge.started;
    await request("coupon.claim.req", "claim-after-kill", { coupon_name: `FO_${run}`, user_id: "u1" });
    await waitFor("a reply after the restart", () => replyFor("claim-after-kill") !== undefined, RECOVERY_MS + 20_000);
    const took = replyFor("claim-after-kill")!.at - restarted;
    console.log(`bridge: first reply ${took} ms after the restart`);
    expect(JSON.parse(replyFor("claim-after-kill")!.message.value!.toString())).toMatchObject({ status: "SUCCESS" });
    expect(took).toBeLessThan(RECOVERY_MS);
    await bridge.stop("SIGTERM");
  });

  it(`the archiver archives again within ${RECOVERY_MS / 1000} s of its restart`, async () => {
    const target = testArchive();
    const env = {
      ...kafka.groupEnv,
      KAFKA_BROKERS: kafka.brokers.join(","),
      ARCHIVER_GROUP_ID: `fo-archiver-${run}`,
      DATABASE_URL: databaseUrl ?? "",
      ARCHIVE_SCHEMA: target.schema,
      ARCHIVE_DIR: target.dataDir ?? "",
      ARCHIVER_PORT: "0",
      LOG_LEVEL: "debug",
    };
    const inserted = (p: Proc) => p.logs.filter((l) => l.msg === "batch archived").reduce((n, l) => n + Number(l.inserted), 0);
    const publish = (tag: string) =>
      producer.send({ topic: "coupon.events", messages: [toMessage(envelope(`coupon:FO_${tag}_${run}`, 1, "coupon.created", { name: tag }))] });
    try {
      let archiver = startProcess("archiver", "workers/archiver/index.ts", env);
      await publish("before");
      await waitFor("the first event archived", () => inserted(archiver) >= 1, 60_000);

      await archiver.stop("SIGKILL");
      archiver = startProcess("archiver-restarted", "workers/archiver/index.ts", env);
      await publish("after");
      await waitFor("an event archived after the restart", () => inserted(archiver) >= 1, RECOVERY_MS + 20_000);
      const at = archiver.logs.find((l) => l.msg === "batch archived" && Number(l.inserted) > 0)!.read_at;
      console.log(`archiver: first insert ${at - archiver.started} ms after the restart`);
      expect(at - archiver.started).toBeLessThan(RECOVERY_MS);
      expect(await archiver.stop("SIGTERM")).toBe(0);
    } finally {
      await target.cleanup();
    }
  });
});

describe("two bridges", () => {
  it("drain each relay shard once between them, and a survivor takes over a killed one's shards within 10 s", async () => {
    const group = `two-${run}`;
    const events = await reader(["coupon.events"]);
    const bridges = [startBridge("bridge-1", group), startBridge("bridge-2", group)];
    const health = async (b: Proc) => {
      const port = b.logs.find((l) => l.msg === "bridge started")?.port;
      return port ? ((await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json())) as { owned: number[] }) : { owned: [] };
    };
    const owned = async () => Promise.all(bridges.map(async (b) => (await health(b)).owned));
    await waitFor("the two bridges to share out the 8 shards", async () => (await owned()).flat().length === 8, 60_000);

    // Events on many shards: one coupon per aggregate.
    const coupons = Array.from({ length: 8 }, (_, i) => `TWO_${i}_${run}`);
    const expected = new Set<string>();
    async function wave(tag: string, users: number) {
      for (const name of coupons) {
        if (tag === "w1") {
          expect((await api("/api/coupons", { name, amount: 100 })).status).toBe(201);
          expected.add(`coupon:${name}:1`);
        }
        const before = (await api(`/api/coupons/${name}`)).body.claimed_by.length as number;
        for (let u = 0; u < users; u++) {
          expect((await api("/api/coupons/claim", { coupon_name: name, user_id: `${tag}-${u}` })).body.status).toBe("CLAIMED");
          expected.add(`coupon:${name}:${before + u + 2}`);
        }
      }
    }
    const ids = () => events.seen.filter((s) => coupons.some((c) => s.message.key?.toString() === `coupon:${c}`)).map((s) => headerOf(s.message, "event-id")!);
    const arrived = () => [...expected].every((id) => ids().includes(id));
    const backlog = async () => {
      const counts = await Promise.all(Array.from({ length: 8 }, (_, s) => api(`/internal/relay/${s}/backlog`, undefined, true)));
      return counts.reduce((n, c) => n + c.body.backlog, 0);
    };

    await wave("w1", 3);
    await waitFor("wave 1 in Kafka, acknowledged", async () => arrived() && (await backlog()) === 0, 60_000);
    const shardsOf = await owned();
    expect(shardsOf.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // each shard owned once

    // SIGKILL the bridge that owns more shards; the other must take them over.
    const victim = shardsOf[0]!.length >= shardsOf[1]!.length ? 0 : 1;
    await bridges[victim]!.stop("SIGKILL");
    const killedAt = Date.now();
    const survivor = bridges[1 - victim]!;
    bridges.splice(victim, 1);
    await wave("w2", 2);
    await waitFor("wave 2 in Kafka", arrived, RECOVERY_MS + 20_000);
    const lastArrival = Math.max(...events.seen.map((s) => s.at));
    console.log(`two bridges: shards ${JSON.stringify(shardsOf)}; wave 2 delivered ${lastArrival - killedAt} ms after the SIGKILL`);
    expect(lastArrival - killedAt).toBeLessThan(RECOVERY_MS);
    expect((await health(survivor)).owned).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    // Neither twice nor never: every event exactly once (both bridges were idle, all acknowledged, when one died).
    const counts = new Map<string, number>();
    for (const id of ids()) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    await survivor.stop("SIGTERM");
  });
});
