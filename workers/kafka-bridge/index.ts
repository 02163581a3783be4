// The Kafka bridge: drains the Worker's relay shards into Kafka (or, with no
// KAFKA_BROKERS, straight into the archive) and carries Kafka's inbound topics
// to the Worker. Run: `node workers/kafka-bridge/index.ts`.
import { createServer, type Server } from "node:http";
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from "kafkajs";
import { createLogger, type Logger } from "../lib/log.ts";
import { openArchive } from "../archiver/archive.ts";
import { readConfig, type BridgeConfig } from "./config.ts";
import { FailureReports } from "./failure-reports.ts";
import { startInbound } from "./inbound.ts";
import { registry, metrics } from "./metrics.ts";
import { kafkaSink, startOutbound, type Sink } from "./outbound.ts";
import { WorkerClient } from "./worker-client.ts";
import { retry } from "../../src/lib/retry.ts";

export type Bridge = { stop(): Promise<void>; port: number };

/** Waits for the Worker to answer, so the bridge can start before it. */
async function shardCount(client: WorkerClient, log: Logger): Promise<number> {
  // A read, so idempotent: any failure (the Worker not up yet) is retried, for as long as it takes.
  const { shards } = await retry(() => client.shards(), {
    attempts: Infinity,
    idempotent: true,
    retryUnmarked: true,
    baseMs: 250,
    maxMs: 1000,
    onRetry: (err, attempt) => {
      if (attempt % 10 === 1) log.info("waiting for the Worker", { err: (err as Error).message });
    },
  });
  return shards;
}

export async function startBridge(config: BridgeConfig, log: Logger): Promise<Bridge> {
  const client = new WorkerClient(config.workerUrl, config.token);
  const shards = await shardCount(client, log);

  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let sink: Sink;
  let closeArchive: (() => Promise<void>) | undefined;
  const reports = new FailureReports(client, log);
  if (config.brokers.length) {
    const kafka = new Kafka({ clientId: config.clientId, brokers: config.brokers, logLevel: logLevel.WARN });
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2 on the key, as Java clients do
      idempotent: config.idempotent,
      maxInFlightRequests: config.idempotent ? 1 : undefined,
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    sink = kafkaSink(producer);
    consumer = await startInbound(kafka, producer, client, config, log, reports);
    reports.start();
  } else {
    const archive = await openArchive({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.schema });
    closeArchive = () => archive.close();
    sink = async (events) => {
      await archive.insert(events);
      metrics.archived.inc(events.length);
    };
    log.info("no KAFKA_BROKERS: writing relay batches straight into the archive");
  }
  const outbound = startOutbound(
    client,
    sink,
    shards,
    { limit: config.pullLimit, waitMs: config.pullWaitMs, holder: config.bridgeId, leaseTtlMs: config.leaseTtlMs },
    log,
  );

  const sampleLag = async () => {
    try {
      const counts = await Promise.all(Array.from({ length: shards }, (_, s) => client.backlog(s)));
      metrics.relayLag.set(counts.reduce((sum, c) => sum + c.backlog, 0));
    } catch {
      // The next sample will tell.
    }
  };
  const lagTimer = setInterval(sampleLag, 5000);

  const server: Server = createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", shards, owned: outbound.owned() }));
    } else if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
    } else {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "NOT_FOUND" }));
    }
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host ?? "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  log.info("bridge started", { shards, port, kafka: config.brokers.length > 0, id: config.bridgeId });

  return {
    port,
    async stop() {
      // In-flight work finishes: drains stop after their current write, the
      // consumer after its current batch (and commits), then the producer flushes.
      clearInterval(lagTimer);
      await outbound.stop();
      await consumer?.disconnect();
      await reports.stop();
      await producer?.disconnect();
      await closeArchive?.();
      await new Promise((resolve) => server.close(resolve));
      log.info("bridge stopped");
    },
  };
}

if (import.meta.main) {
  const log = createLogger("kafka-bridge");
  const bridge = await startBridge(readConfig(), log);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, async () => {
      log.info("shutting down", { signal });
      await bridge.stop();
      process.exit(0);
    });
  }
}
