// Latency and outcome counting. Latency is measured from the intended send
// time, not from when the request actually left: if the client or the server
// fell behind, the wait counts (coordinated omission corrected).

export class Latencies {
  private all: number[] = [];
  private fresh: number[] = [];
  add(ms: number) {
    this.all.push(ms);
    this.fresh.push(ms);
  }
  get count() {
    return this.all.length;
  }
  /** Quantiles of everything so far. */
  quantiles(qs: number[]): number[] {
    return quantiles(this.all, qs);
  }
  /** Quantiles since the previous call, and how many. */
  drain(qs: number[]): { n: number; q: number[] } {
    const q = quantiles(this.fresh, qs);
    const n = this.fresh.length;
    this.fresh = [];
    return { n, q };
  }
}

export function quantiles(samples: number[], qs: number[]): number[] {
  if (!samples.length) return qs.map(() => Number.NaN);
  const sorted = Float64Array.from(samples).sort();
  return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

/** Per kind of action: how many were sent, how they ended, and their latencies. */
export class Counters {
  readonly kinds = new Map<string, { sent: number; ok: number; rejected: number; errors: number; retries: number; lat: Latencies }>();
  private lastErrors: string[] = [];
  /** Every latency, across kinds, for the progress line. */
  readonly overall = new Latencies();

  latency(kind: string, ms: number) {
    this.of(kind).lat.add(ms);
    this.overall.add(ms);
  }

  of(kind: string) {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { sent: 0, ok: 0, rejected: 0, errors: 0, retries: 0, lat: new Latencies() }));
    return k;
  }
  error(kind: string, message: string) {
    this.of(kind).errors++;
    if (this.lastErrors.length < 20) this.lastErrors.push(`${kind}: ${message}`);
  }
  get errorSamples() {
    return this.lastErrors;
  }
  get totalErrors() {
    let n = 0;
    for (const k of this.kinds.values()) n += k.errors;
    return n;
  }
}

const fmt = (ms: number) => (Number.isNaN(ms) ? "-" : ms < 10 ? ms.toFixed(1) : String(Math.round(ms)));

/** One line: elapsed, rate per kind since the last line, errors, p50/p99 over the interval. */
export function progressLine(c: Counters, elapsedS: number, intervalS: number, inFlight: number): string {
  const parts: string[] = [];
  for (const [kind, k] of c.kinds) {
    const d = k.lat.drain([]);
    if (d.n) parts.push(`${kind} ${(d.n / intervalS).toFixed(0)}/s`);
  }
  const {
    q: [p50, p99],
  } = c.overall.drain([0.5, 0.99]);
  return `[${elapsedS.toFixed(0).padStart(4)} s] ${parts.join("  ") || "idle"} | p50 ${fmt(p50!)} ms  p99 ${fmt(p99!)} ms | in flight ${inFlight}  errors ${c.totalErrors}`;
}

export function summaryTable(c: Counters, seconds: number): string {
  const head = ["action", "sent", "ok", "rejected", "errors", "retries", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms"];
  const rows = [...c.kinds].map(([kind, k]) => {
    const [p50, p90, p99, max] = k.lat.quantiles([0.5, 0.9, 0.99, 1]);
    return [kind, k.sent, k.ok, k.rejected, k.errors, k.retries, (k.sent / Math.max(seconds, 0.001)).toFixed(1), fmt(p50!), fmt(p90!), fmt(p99!), fmt(max!)].map(String);
  });
  return table(head, rows);
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Numbers right-aligned, text left-aligned.
  const numeric = head.map((_, i) => rows.every((r) => /^[-\d.,]+$/.test(r[i]!)));
  const line = (cells: string[]) => `| ${cells.map((x, i) => (numeric[i] ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`, ...rows.map(line)].join("\n");
}
