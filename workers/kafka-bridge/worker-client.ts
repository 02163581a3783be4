// The bridge's side of the Worker's /internal endpoints.
import type { IngestMessage, IngestResult, LeaseOutcome, PullResult } from "../../src/lib/bridge-wire.ts";

export type { IngestMessage, IngestResult };

/**
 * A failure worth retrying: the Worker was unreachable, overloaded or failed.
 * Marked `.retryable` for the shared retry helper (src/lib/retry.ts): every
 * call it may retry is idempotent (ingest by Kafka position, pulls by cursor).
 */
export class RetryableError extends Error {
  readonly retryable = true;
}

/** The relay refused a pull: another bridge holds the shard's lease now. */
export class LeaseLostError extends Error {}

export class WorkerClient {
  private readonly base: string;
  private readonly auth: string;

  constructor(workerUrl: string, token: string) {
    this.base = workerUrl.replace(/\/$/, "");
    this.auth = `Bearer ${token}`;
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: this.auth, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new RetryableError(`worker unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new RetryableError(`worker answered ${res.status}: ${text.slice(0, 200)}`);
    if (res.status === 409 && text.includes('"LEASE_LOST"')) throw new LeaseLostError(text.slice(0, 200));
    if (!res.ok) throw new Error(`worker refused ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  shards(): Promise<{ shards: number }> {
    return this.call("GET", "/internal/relay");
  }

  pull(shard: number, ack: number, limit: number, waitMs: number, token?: number, signal?: AbortSignal) {
    return this.call<PullResult>(
      "POST",
      `/internal/relay/${shard}/pull`,
      { ack, limit, wait_ms: waitMs, token },
      signal,
    );
  }

  acquireLease(shard: number, holder: string, ttlMs: number, signal?: AbortSignal): Promise<LeaseOutcome> {
    return this.call("POST", `/internal/relay/${shard}/lease`, { holder, ttl_ms: ttlMs }, signal);
  }

  releaseLease(shard: number, token: number): Promise<{ released: boolean }> {
    return this.call("POST", `/internal/relay/${shard}/lease/release`, { token });
  }

  backlog(shard: number): Promise<{ backlog: number }> {
    return this.call("GET", `/internal/relay/${shard}/backlog`);
  }

  /** Counts retries or dead letters in the live stats, once per id (Kafka position). */
  reportFailures(kind: "retries" | "dlq", ids: string[]): Promise<{ counted: number }> {
    return this.call("POST", "/internal/failures", { kind, ids });
  }

  ingest(messages: IngestMessage[], abandon = false): Promise<{ results: IngestResult[] }> {
    return this.call("POST", "/internal/ingest", { messages, abandon });
  }
}
