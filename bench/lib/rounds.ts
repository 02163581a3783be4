import { load, type LoadResult, type LoadSpec } from "./load.ts";
import { cpuMicros, rssMiB } from "./procs.ts";
import type { Proc } from "./servers.ts";

export const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One thing to measure; `spec(round)` lets each round use fresh users and keys. */
export type Trial = { name: string; procs: Proc[]; spec: (round: number) => LoadSpec };

export type Measured = {
  name: string;
  runs: LoadResult[];
  /** Server CPU per request in each round, µs, by process label. */
  cpu: Record<string, number>[];
  /** Largest RSS seen after a round, MiB, by process label. */
  rss: Record<string, number>;
};
export type Rounds = Map<string, Measured>;

const byLabel = (procs: Proc[], f: (pid: number) => number) => {
  const out: Record<string, number> = {};
  for (const p of procs) out[p.label] = (out[p.label] ?? 0) + f(p.pid);
  return out;
};

/**
 * These machines are shared and their load drifts within a minute, so the runs
 * are interleaved: every round measures each trial once, in order, and the
 * table shows each one's median round. Ratios are taken within a round, then
 * the median of those is reported. CPU is the server processes' user + system
 * time over the round (from /proc) divided by the requests answered.
 */
export async function interleave(trials: Trial[], rounds: number): Promise<Rounds> {
  const measured: Rounds = new Map(trials.map((t) => [t.name, { name: t.name, runs: [], cpu: [], rss: {} }]));
  for (let round = 0; round < rounds; round++) {
    for (const trial of trials) {
      const m = measured.get(trial.name)!;
      const before = byLabel(trial.procs, cpuMicros);
      const result = await load(trial.spec(round));
      const after = byLabel(trial.procs, cpuMicros);
      m.runs.push(result);
      m.cpu.push(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v - before[k]!) / Math.max(1, result.total)])));
      for (const [k, v] of Object.entries(byLabel(trial.procs, rssMiB))) m.rss[k] = Math.max(m.rss[k] ?? 0, v);
    }
  }
  return measured;
}

/** Median over rounds of a's rate ÷ b's rate in the same round. */
export function ratio(r: Rounds, a: string, b: string): number {
  const x = r.get(a)!.runs;
  const y = r.get(b)!.runs;
  return median(x.map((run, i) => run.rps / y[i]!.rps));
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const split = (parts: Record<string, number>, unit = "") => {
  const entries = Object.entries(parts);
  if (entries.length === 1) return `${fmt(entries[0]![1])}${unit}`;
  const sum = entries.reduce((s, [, v]) => s + v, 0);
  return `${fmt(sum)}${unit} (${entries.map(([k, v]) => `${k} ${fmt(v)}`).join(" + ")})`;
};

/** Table rows: the median round of each trial, its ratio to `base`. */
export function rows(r: Rounds, base: string, unit = "req/s"): Record<string, string>[] {
  return [...r.values()].map((m) => {
    const labels = Object.keys(m.cpu[0] ?? {});
    const cpu = Object.fromEntries(labels.map((k) => [k, median(m.cpu.map((c) => c[k]!))]));
    return {
      run: m.name,
      [unit]: median(m.runs.map((x) => x.rps)).toFixed(0),
      "p50 ms": fmt(median(m.runs.map((x) => x.p50))),
      "p99 ms": fmt(median(m.runs.map((x) => x.p99))),
      "CPU µs/req": labels.length ? split(cpu) : "—",
      "RSS MiB": labels.length ? split(m.rss) : "—",
      [`÷ ${base}`]: ratio(r, m.name, base).toFixed(2),
    };
  });
}

/** Sums what the clients saw over all rounds of one trial. */
export function total(results: LoadResult[], status: string): { read: number; replies: number; errors: number } {
  return results.reduce(
    (sum, r) => ({ read: sum.read + (r.status[status] ?? 0), replies: sum.replies + r.total, errors: sum.errors + r.errors }),
    { read: 0, replies: 0, errors: 0 },
  );
}

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0]!);
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c]!)))].join("\n");
}
