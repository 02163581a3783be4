import { SELF } from "cloudflare:test";

export type Reply = { status: number; body: any };

/** Calls the Worker through its real fetch handler and reads the JSON reply. */
export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await SELF.fetch(`https://rushgate.test${path}`, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON reply ${res.status} to ${method} ${path}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

export const post = (path: string, body?: unknown, headers?: Record<string, string>) => call("POST", path, body, headers);
export const get = (path: string) => call("GET", path);

/** A name no other test uses, so tests never share an actor. */
let n = 0;
export const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${n++}`;

/** An `Idempotency-Key` header; a fresh key unless one is given. */
export const key = (k: string = unique("key")) => ({ "idempotency-key": k });

/** Sends a mutating wallet/bet POST with a fresh Idempotency-Key. */
export const send = (path: string, body?: unknown) => post(path, body, key());

/** Sends the same request as one retrying client would: same path, body and key. */
export const sendWith = (k: string, path: string, body?: unknown) => post(path, body, key(k));

export const deposit = (user: string, amount_cents: number) =>
  send(`/api/wallets/${encodeURIComponent(user)}/deposits`, { amount_cents });
