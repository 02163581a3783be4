import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Result, Statuses } from "./errors";
import { HttpError, statusOf } from "./errors";
import type { Migration } from "./migrations";

/**
 * Idempotent requests (DESIGN.md, "HTTP"): the Worker checks the
 * `Idempotency-Key` header and fingerprints the request; the actor decides, in
 * the same transaction as the effect, whether the key is new (run the effect and
 * store its response), a replay (return the stored response) or a reuse with a
 * different request (422). Because the actor serializes its requests, two
 * concurrent retries of one key can never both take effect.
 */

/** The client's key and a hash of the request, as the middleware reads them. */
export type IdempotencyKey = { key: string; fingerprint: string };

/**
 * What the Worker hands the actor: the key, and the route's table from outcome
 * codes to statuses (`ok` for success). The actor never picks a status: the
 * store applies the route's table to the first outcome and keeps that status
 * and body, so a replay is byte-identical even if the table changes later.
 */
export type IdempotentRequest = IdempotencyKey & { statuses: Statuses & { ok: ContentfulStatusCode } };

/** A response as the actor stores it: the status and the exact JSON body text. */
export type StoredResponse = { status: number; body: string; replayed: boolean };

/**
 * A key's lifetime: within it a retry replays the first response; after it the
 * key is free again and its record is deleted by the actor's scheduled prune
 * (`prune`, run from a keyed row the actor schedules when it stores a key).
 * 24 h is the usual contract of Idempotency-Key APIs: clients retry within
 * minutes, and a day bounds the table by a day's traffic.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The kind of the scheduled row that prunes expired keys. */
export const IDEMPOTENCY_PRUNE = "idempotency.prune";
/** At most this many expired keys are deleted per run, so one alarm stays short; the row runs again for the rest. */
const PRUNE_PER_RUN = 500;

export const idempotencyMigration: Migration = {
  id: "idempotency-1",
  sql: `
    CREATE TABLE idempotency (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      status INTEGER NOT NULL,
      body TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX idempotency_created_at ON idempotency (created_at);
  `,
};

/**
 * The actor side. Call `run` inside the mutation's transactionSync. The effect
 * must check before it writes: a failure it returns is stored and replayed like
 * a success (the first response is the response), and it must have written
 * nothing.
 */
export class IdempotencyStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
  ) {}

  run<T>(req: IdempotentRequest, effect: () => Result<T>, now = Date.now()): StoredResponse {
    const stored = this.sql
      .exec<{ fingerprint: string; status: number; body: string; created_at: number }>(
        "SELECT fingerprint, status, body, created_at FROM idempotency WHERE key = ?",
        req.key,
      )
      .toArray()[0];
    if (stored && stored.created_at > now - this.ttlMs) {
      if (stored.fingerprint !== req.fingerprint) {
        return response(422, {
          error: "IDEMPOTENCY_KEY_REUSED",
          message: "this Idempotency-Key was used with a different request",
        });
      }
      return { status: stored.status, body: stored.body, replayed: true };
    }
    const result = effect();
    const first = result.ok
      ? response(req.statuses.ok, result.value)
      : response(statusOf(result.error, req.statuses), { error: result.error, message: result.message });
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency (key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
      req.key,
      req.fingerprint,
      first.status,
      first.body,
      now,
    );
    return first;
  }

  /** When the oldest stored key expires (ms), or undefined if none is stored: when to prune next. */
  nextExpiry(): number | undefined {
    const { at } = this.sql.exec<{ at: number | null }>("SELECT min(created_at) AS at FROM idempotency").one();
    return at === null ? undefined : at + this.ttlMs;
  }

  /**
   * Deletes expired keys, oldest first, at most PRUNE_PER_RUN of them. Returns
   * when to run again (the next expiry), or undefined when nothing is left.
   */
  prune(now: number): number | undefined {
    this.sql.exec(
      "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at <= ? ORDER BY created_at LIMIT ?)",
      now - this.ttlMs,
      PRUNE_PER_RUN,
    );
    const next = this.nextExpiry();
    return next === undefined ? undefined : Math.max(next, now + 1);
  }
}

const response = (status: number, body: unknown): StoredResponse => ({
  status,
  body: JSON.stringify(body),
  replayed: false,
});

/** JSON with object keys sorted, so key order and whitespace do not change a fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function fingerprint(c: Context): Promise<string> {
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  let body = text;
  try {
    if (text) body = canonical(JSON.parse(text));
  } catch {
    // Not JSON: the body validator answers 400; the raw text is fingerprint enough.
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${c.req.method} ${c.req.path}\n${body}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Middleware for every idempotent POST: requires an `Idempotency-Key` header of
 * 1–128 characters (else 400) and sets `c.var.idempotency` for the handler.
 */
export const idempotencyKey = createMiddleware<{ Variables: { idempotency: IdempotencyKey } }>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (!key) throw new HttpError(400, "IDEMPOTENCY_KEY_REQUIRED", "the Idempotency-Key header is required");
  if (key.length > 128) throw new HttpError(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key: at most 128 characters");
  c.set("idempotency", { key, fingerprint: await fingerprint(c) });
  await next();
});

/** Sends a stored response as it was first sent; a replay is marked `Idempotent-Replayed: true`. */
export function replyStored(c: Context, stored: StoredResponse): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (stored.replayed) headers["idempotent-replayed"] = "true";
  return c.body(stored.body, stored.status as ContentfulStatusCode, headers);
}
