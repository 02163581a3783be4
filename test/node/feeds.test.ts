// odds_updates from Kafka (librdkafka's mock cluster) through the bridge reach
// a subscribed /ws/odds socket: Kafka → bridge → /internal/ingest → Odds actor
// → outbox → relay → OddsFeed hub → socket.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, startRushgate, type Runtime } from "../../bench/lib/runtime.ts";
import { startBridge, type Bridge } from "../../workers/kafka-bridge/index.ts";
import { groupTimings } from "../../workers/lib/kafka-group.ts";
import { createLogger } from "../../workers/lib/log.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { waitFor } from "./helpers.ts";
import { produce } from "./kafka-helpers.ts";

const token = "node-feeds-token";
const run = Date.now().toString(36);
let kafka: KafkaHandle;
let worker: Runtime;
let bridge: Bridge;

beforeAll(async () => {
  build();
  [kafka, worker] = await Promise.all([startKafka(), startRushgate({ BRIDGE_TOKEN: token, ADMIN_TOKEN: "node-feeds-admin" })]);
  bridge = await startBridge(
    {
      workerUrl: worker.url.href,
      token,
      brokers: kafka.brokers,
      idempotent: kafka.idempotent,
      clientId: "feeds-test",
      groupId: `feeds-${run}`,
      port: 0,
      pullLimit: 500,
      pullWaitMs: 500,
      retryAttempts: 2,
      retryBaseMs: 100,
      group: groupTimings(kafka.groupEnv),
      bridgeId: `feeds-test-${run}`,
      leaseTtlMs: 2000,
    },
    createLogger("feeds-test", "error"),
  );
}, 120_000);

afterAll(async () => {
  await bridge?.stop();
  await worker?.stop();
  await kafka?.stop();
});

const message = (event_id: string, version: number, home: string) => ({
  event_id,
  home_team: "Home",
  away_team: "Away",
  market: "1X2",
  odds: { home, draw: "3.30", away: "2.95" },
  updated_at: new Date().toISOString(),
  source: "kafka",
  version,
});

describe("odds_updates through the bridge", () => {
  it("reach a subscribed socket, in version order; a redelivered older version is not shown", async () => {
    const id = `KAFKA_${run}`;
    const url = new URL(`/ws/odds?events=${id}`, worker.url);
    url.protocol = "ws:";
    const got: any[] = [];
    const ws = new WebSocket(url);
    ws.addEventListener("message", (e) => got.push(JSON.parse(String(e.data))));
    await waitFor("the snapshot", () => got.some((m) => m.type === "snapshot"));

    await produce(kafka.brokers, "odds_updates", [
      { key: id, value: JSON.stringify(message(id, 1, "2.10")) },
      { key: id, value: JSON.stringify(message(id, 2, "2.20")) },
      { key: id, value: JSON.stringify(message(id, 1, "9.99")) }, // a stale redelivery
      { key: id, value: JSON.stringify(message(id, 3, "2.30")) },
    ]);
    const updates = () => got.filter((m) => m.type === "update");
    await waitFor("three updates", () => updates().length >= 3);
    expect(updates().map((m) => [m.eventId, m.payload.version, m.payload.odds.home])).toEqual([
      [id, 1, "2.10"],
      [id, 2, "2.20"],
      [id, 3, "2.30"],
    ]);
    const rest = await fetch(new URL(`/api/events/${id}/odds`, worker.url)).then((r) => r.json() as Promise<any>);
    expect([rest.markets[0].version, rest.stale_ignored]).toEqual([3, 1]);
    ws.close();
  });
});
