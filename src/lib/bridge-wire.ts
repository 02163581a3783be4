// The wire between the Worker's /internal endpoints and the Kafka bridge. Both
// sides import these types, so they cannot drift apart. (`.js` resolves to this
// folder's .ts under the Worker's and the Node side's module resolution alike.)
import type { Envelope } from "./envelope.js";

/** A relay log entry: its position in the shard's log, and the event. */
export type RelayEntry<E = Envelope> = { pos: number; event: E };
/** A relay shard's lease (src/lib/lease.ts): who drains the shard, under which fencing token, until when. */
export type LeaseState = { holder: string; token: number; expires_at: string; ttl_ms: number };
export type LeaseOutcome = ({ status: "GRANTED" } | { status: "HELD" }) & LeaseState;

/** `fenced`: the pull's lease token is no longer the shard's (another bridge took over); nothing was trimmed. */
export type PullResult<E = Envelope> = { entries: RelayEntry<E>[]; cursor: number; fenced?: LeaseState | null };

/** One inbound Kafka message, as the bridge hands it to the ingest endpoint. */
export type IngestMessage = {
  topic: string;
  key?: string | null;
  value: unknown;
  /** The message's place in Kafka, `kafka:{topic}/{partition}:{offset+1}`: the same on every redelivery. */
  id?: string | null;
};

/** What the bridge does with each message: produce a reply, or dead-letter it. */
export type IngestResult<V = unknown> =
  | { ok: true; reply?: { topic: string; key: string; value: V } }
  | { ok: false; error: string };
