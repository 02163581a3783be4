import { Counter, Gauge, Registry } from "prom-client";

export const registry = new Registry();
const counter = (name: string, help: string, labelNames: string[] = []) =>
  new Counter({ name, help, labelNames, registers: [registry] });

export const metrics = {
  produced: counter("rushgate_bridge_produced_total", "Messages produced to Kafka", ["topic"]),
  archived: counter("rushgate_bridge_archived_total", "Events written straight to the archive (no Kafka)"),
  consumed: counter("rushgate_bridge_consumed_total", "Inbound messages consumed", ["topic"]),
  retries: counter("rushgate_bridge_retries_total", "Inbound messages sent to a .retry topic", ["topic"]),
  dlq: counter("rushgate_bridge_dlq_total", "Inbound messages sent to a .dlq topic", ["topic"]),
  shardsOwned: new Gauge({
    name: "rushgate_bridge_relay_shards_owned",
    help: "Relay shards whose lease this bridge holds",
    registers: [registry],
  }),
  relayLag: new Gauge({
    name: "rushgate_bridge_relay_lag",
    help: "Events waiting in the relay shards, last sampled",
    registers: [registry],
  }),
};
