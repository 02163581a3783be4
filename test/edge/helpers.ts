import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { relayFor } from "../../src/actors/relay";
import type { Actor, StoredEvent } from "../../src/lib/actor";

export type Reply = { status: number; body: any; headers: Headers };

/** The test deployment's secrets (vitest.config.ts sets them as bindings). */
export const ADMIN_TOKEN = "test-admin-token";
export const JWT_SECRET = "test-jwt-secret-0123456789abcdef";
export const serviceAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const anonymous = { authorization: "" };

/** Calls the Worker through its real fetch handler and reads the JSON reply. */
export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await raw(method, path, body, headers);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON reply ${res.status} to ${method} ${path}: ${text.slice(0, 200)}`);
  }
  // Headers are there to read, but left out of deep-equality checks on replies.
  return Object.defineProperty({ status: res.status, body: parsed }, "headers", { value: res.headers }) as Reply;
}

/**
 * Sends a request through the Worker's real fetch handler. Requests carry the
 * service token unless `headers` names an authorization; an empty one sends none.
 */
export function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const all: Record<string, string> = { ...serviceAuth, ...headers };
  if (all.authorization === "") delete all.authorization;
  const init: RequestInit = { method, headers: all };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  return SELF.fetch(`https://rushgate.test${path}`, init);
}

export const post = (path: string, body?: unknown, headers?: Record<string, string>) => call("POST", path, body, headers);
export const get = (path: string, headers?: Record<string, string>) => call("GET", path, undefined, headers);

/** A name no other test uses, so tests never share an actor. */
let n = 0;
export const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${n++}`;

/**
 * Every event an actor has emitted, in seq order: those its alarm already pushed
 * to the relay and those still in its outbox (deduped by id, since a push and
 * its trim are not one step).
 */
export async function eventsOf(stub: DurableObjectStub<Actor>, aggregate: string): Promise<StoredEvent[]> {
  await runDurableObjectAlarm(stub);
  const relay = relayFor(env, aggregate);
  const byId = new Map<string, StoredEvent>();
  for (let after = 0; ; ) {
    const entries = await relay.read(after, 1000);
    if (!entries.length) break;
    for (const { event } of entries) if (event.aggregate === aggregate) byId.set(event.id, event);
    after = entries.at(-1)!.pos;
  }
  for (const event of await stub.outbox(100_000)) byId.set(event.id, event);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

export const bridgeAuth = { authorization: "Bearer test-bridge-token" };
/** An `Idempotency-Key` header; a fresh key unless one is given. */
export const key = (k: string = unique("key")) => ({ "idempotency-key": k });

/** Sends a mutating wallet/bet POST with a fresh Idempotency-Key. */
export const send = (path: string, body?: unknown, headers?: Record<string, string>) =>
  post(path, body, { ...key(), ...headers });

/** Sends the same request as one retrying client would: same path, body and key. */
export const sendWith = (k: string, path: string, body?: unknown) => post(path, body, key(k));

export const deposit = (user: string, amount_cents: number) =>
  send(`/api/wallets/${encodeURIComponent(user)}/deposits`, { amount_cents });

/** Every event of a user's wallet (its outbox and what reached the relay). */
export const walletEvents = (user: string) => eventsOf(env.WALLET.getByName(user), `wallet:${user}`);
