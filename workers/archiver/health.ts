/**
 * The archiver's /healthz and /metrics (ARCHIVER_PORT, default 9465; ARCHIVER_HOST,
 * default 127.0.0.1). Healthy while the consumer runs; 503 once it is stopping, so
 * an orchestrator stops sending it work and a container's HEALTHCHECK notices.
 */
import { createServer } from "node:http";
import { Counter, Registry } from "prom-client";
import { ConfigError } from "../lib/config-error.ts";
import type { ArchiverStats } from "./consumer.ts";

export type HealthServer = { port: number; stopping(): void; close(): Promise<void> };

export const DEFAULT_ARCHIVER_PORT = 9465;

function metricsFor(stats: ArchiverStats): Registry {
  const registry = new Registry();
  const mirror = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The consumer keeps the counts; the counter mirrors them when scraped.
        this.reset();
        this.inc(read());
      },
    });
  mirror("rushgate_archiver_batches_total", "Kafka batches stored and committed", () => stats.batches);
  mirror("rushgate_archiver_messages_total", "Kafka messages consumed", () => stats.messages);
  mirror("rushgate_archiver_inserted_total", "Events newly inserted into the archive", () => stats.inserted);
  mirror("rushgate_archiver_skipped_total", "Malformed messages skipped and committed", () => stats.skipped);
  return registry;
}

export async function serveHealth(stats: ArchiverStats, port: number, host = "127.0.0.1"): Promise<HealthServer> {
  const registry = metricsFor(stats);
  let status: "ok" | "stopping" = "ok";
  const server = createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res
        .writeHead(status === "ok" ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status, ...stats }));
    } else if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
    } else {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "NOT_FOUND" }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ConfigError(`port ${port} is in use: set ARCHIVER_PORT to a free port (0 picks one)`)
          : error,
      ),
    );
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    stopping: () => {
      status = "stopping";
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
