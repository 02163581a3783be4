import { load, type LoadResult, type LoadSpec } from "./load.ts";

export const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One thing to measure; `spec(round)` lets each round use fresh users and keys. */
export type Trial = { name: string; spec: (round: number) => LoadSpec };

export type Measured = { rows: Record<string, string | number>[]; results: Map<string, LoadResult[]> };

/**
 * These machines are shared and their load drifts within a minute, so the runs
 * are interleaved: every round measures the ceiling and then each trial, and the
 * table shows each one's median round, its ratio taken against the ceiling of
 * the same round.
 */
export async function interleave(ceiling: Trial, trials: Trial[], rounds: number, unit = "req/s"): Promise<Measured> {
  const results = new Map<string, LoadResult[]>([ceiling, ...trials].map((t) => [t.name, []]));
  const ratios = new Map<string, number[]>(trials.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    const base = await load(ceiling.spec(round));
    results.get(ceiling.name)!.push(base);
    for (const trial of trials) {
      const result = await load(trial.spec(round));
      results.get(trial.name)!.push(result);
      ratios.get(trial.name)!.push(result.rps / base.rps);
    }
  }
  const row = (name: string, ratio: number) => {
    const runs = results.get(name)!;
    return {
      run: name,
      [unit]: median(runs.map((r) => r.rps)).toFixed(0),
      "p50 ms": median(runs.map((r) => r.p50)),
      "p99 ms": median(runs.map((r) => r.p99)),
      ratio: ratio.toFixed(2),
    };
  };
  return {
    rows: [row(ceiling.name, 1), ...trials.map((t) => row(t.name, median(ratios.get(t.name)!)))],
    results,
  };
}

/** Sums what the clients saw over all rounds of one trial. */
export function total(results: LoadResult[], status: string): { read: number; replies: number; errors: number } {
  return results.reduce(
    (sum, r) => ({ read: sum.read + (r.status[status] ?? 0), replies: sum.replies + r.total, errors: sum.errors + r.errors }),
    { read: 0, replies: 0, errors: 0 },
  );
}
