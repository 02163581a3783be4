/**
 * The Kafka wire format of events (DESIGN.md, "Events"), shared by the bridge
 * (producer) and the archiver (consumer): key = aggregate, value = JSON of
 * `data`, headers `event-id`, `event-type`, `aggregate`, `seq`, `time`.
 */
import type { Envelope, Json } from "../../src/lib/envelope.ts";
import { CATALOGUE, EVENT_TOPICS, EXTERNAL_TOPICS, isCatalogued, type EventTopic } from "../../src/lib/events.ts";

// Topic names live in the event catalogue; re-exported for the bridge and the archiver.
export { EVENT_TOPICS, EXTERNAL_TOPICS, type EventTopic };

/** The topic of one of our event types, from the catalogue; undefined for any other type. */
export function topicFor(type: string): EventTopic | undefined {
  if (!isCatalogued(type)) return undefined;
  const topic: string = CATALOGUE[type].topic;
  return (EVENT_TOPICS as readonly string[]).includes(topic) ? (topic as EventTopic) : undefined;
}

export type EventMessage = { key: string; value: string; headers: Record<string, string> };

export function toMessage(envelope: Envelope): EventMessage {
  return {
    key: envelope.aggregate,
    value: JSON.stringify(envelope.data),
    headers: {
      "event-id": envelope.id,
      "event-type": envelope.type,
      aggregate: envelope.aggregate,
      seq: String(envelope.seq),
      time: envelope.time,
    },
  };
}

/** What a consumer receives (a subset of kafkajs's KafkaMessage). */
export type ReceivedMessage = {
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
};

export type Decoded = { ok: true; envelope: Envelope } | { ok: false; error: string };

/** Rebuilds the envelope from headers + value; never throws. */
export function fromMessage(message: ReceivedMessage): Decoded {
  const header = (name: string): string | undefined => {
    const raw = message.headers?.[name];
    const one = Array.isArray(raw) ? raw[0] : raw;
    return one === undefined ? undefined : one.toString();
  };
  const id = header("event-id");
  const type = header("event-type");
  const aggregate = header("aggregate");
  const seq = header("seq");
  const time = header("time");
  if (id === undefined || type === undefined || aggregate === undefined || seq === undefined || time === undefined) {
    return { ok: false, error: "missing header(s): event-id, event-type, aggregate, seq and time are required" };
  }
  if (message.value === null) return { ok: false, error: "empty value" };
  let data: Json;
  try {
    data = JSON.parse(message.value.toString());
  } catch (e) {
    return { ok: false, error: `value is not JSON: ${(e as Error).message}` };
  }
  const envelope: Envelope = { id, type, aggregate, seq: /^\d+$/.test(seq) ? Number(seq) : NaN, time, data };
  const invalid = envelopeError(envelope);
  return invalid ? { ok: false, error: invalid } : { ok: true, envelope };
}

/** Why an envelope cannot be archived, or undefined if it can. */
export function envelopeError(e: Envelope): string | undefined {
  if (!e.id || !e.type || !e.aggregate) return "id, type and aggregate must be non-empty";
  if (!Number.isSafeInteger(e.seq) || e.seq < 0) return `seq is not a non-negative integer: ${e.seq}`;
  if (Number.isNaN(Date.parse(e.time))) return `time is not a date: ${e.time}`;
  if (e.data === undefined) return "data is missing";
  return undefined;
}

/**
 * Inbound topics of the original systems that the archive keeps too
 * (EXTERNAL_TOPICS, from the catalogue). Their
 * messages carry no envelope, so the message's place in Kafka names the event:
 * aggregate `kafka:{topic}/{partition}`, seq = offset + 1. A redelivery of the
 * same message is then the same event id, and the archive keeps it once.
 */

export type PositionedMessage = ReceivedMessage & { offset: string; timestamp?: string };

export function fromExternalMessage(topic: keyof typeof EXTERNAL_TOPICS, partition: number, message: PositionedMessage): Decoded {
  let data: Json;
  try {
    data = JSON.parse(message.value?.toString() ?? "");
  } catch (e) {
    return { ok: false, error: `value is not JSON: ${(e as Error).message}` };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, error: "value is not a JSON object" };
  const ts = (data as { ts?: Json }).ts;
  const when = typeof ts === "number" || typeof ts === "string" ? new Date(ts) : new Date(Number(message.timestamp));
  const aggregate = `kafka:${topic}/${partition}`;
  const seq = Number(message.offset) + 1;
  const envelope: Envelope = {
    id: `${aggregate}:${seq}`,
    type: EXTERNAL_TOPICS[topic],
    aggregate,
    seq,
    time: Number.isNaN(when.getTime()) ? new Date(0).toISOString() : when.toISOString(),
    data,
  };
  const invalid = envelopeError(envelope);
  return invalid ? { ok: false, error: invalid } : { ok: true, envelope };
}
