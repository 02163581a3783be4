// The bridge's retries and dead letters, reported to the Worker's live stats
// (failures_retries and failures_dlq on /api/stats, /ws/stats and /metrics).
// Each is reported by the Kafka position of the message it parked, and the
// relay counts an id once, so a report sent again is harmless. A report that
// fails (the Worker is often down when messages are being retried) stays
// pending and goes with the next flush.
import type { Logger } from "../lib/log.ts";
import type { WorkerClient } from "./worker-client.ts";

type Kind = "retries" | "dlq";
/** Pending ids kept per kind while the Worker cannot be reached; beyond it, the oldest are dropped (and logged). */
const MAX_PENDING = 10_000;
/** Ids per report (the Worker accepts at most 500). */
const PER_REPORT = 500;

export class FailureReports {
  private readonly pending: Record<Kind, Set<string>> = { retries: new Set(), dlq: new Set() };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  private readonly client: WorkerClient;
  private readonly log: Logger;
  private readonly everyMs: number;

  constructor(client: WorkerClient, log: Logger, everyMs = 1000) {
    this.client = client;
    this.log = log;
    this.everyMs = everyMs;
  }

  add(kind: Kind, id: string): void {
    const ids = this.pending[kind];
    ids.add(id);
    if (ids.size > MAX_PENDING) {
      const oldest = ids.values().next().value!;
      ids.delete(oldest);
      this.log.warn("failure report dropped: too many pending", { kind, id: oldest });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Sends what is pending; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async send(): Promise<void> {
    for (const kind of ["retries", "dlq"] as const) {
      const ids = this.pending[kind];
      while (ids.size) {
        const batch: string[] = [];
        for (const id of ids) if (batch.push(id) === PER_REPORT) break;
        try {
          await this.client.reportFailures(kind, batch);
        } catch (err) {
          this.log.debug("failure report not sent; will retry", { kind, error: (err as Error).message });
          return;
        }
        for (const id of batch) ids.delete(id);
      }
    }
  }
}
