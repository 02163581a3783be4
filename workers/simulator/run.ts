// The open-model driver: every task fires at its intended time whether or not
// earlier ones have answered, so a slow server meets the same arrival rate
// (no closed loop backing off). Latency counts from the intended time.
import type { Plan } from "./plan.ts";
import type { Records } from "./records.ts";
import type { Scenario } from "./scenario.ts";
import { Counters, progressLine } from "./stats.ts";
import type { Target } from "./target.ts";

export type TaskResult = "ok" | "rejected" | "error";
export type Task = { at: number; kind: string; run: () => Promise<TaskResult> };

/** One oracle check: expected against what rushgate reports, with what differs listed. */
export type Check = { part: string; name: string; ok: boolean; expected: string; actual: string; problems: string[] };

export type Context = {
  scenario: Scenario;
  plan: Plan;
  target: Target;
  counters: Counters;
  records: Records;
  /** Wall-clock ms when the load started (the plan's time 0); set by the runner. */
  t0: number;
  log: (line: string) => void;
};

/** A part of the simulation: bets, odds, flash sale, rain, feeds, offers. */
export type Part = {
  name: string;
  /** Before the load (create things, fund wallets, connect sockets). */
  setup?(ctx: Context): Promise<void>;
  /** What to send during the load. */
  tasks?(ctx: Context): Task[];
  /** After the load and the drain: the oracle's checks. */
  check?(ctx: Context): Promise<Check[]>;
  /** Always runs at the end (close sockets). */
  close?(ctx: Context): Promise<void>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function drive(ctx: Context, tasks: Task[], progress: { everyMs: number; print: (line: string) => void }): Promise<number> {
  tasks.sort((a, b) => a.at - b.at);
  const { counters } = ctx;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  ctx.t0 = Date.now();
  const start = performance.now();
  let lastProgress = start;
  const timer = setInterval(() => {
    const now = performance.now();
    progress.print(progressLine(counters, (now - start) / 1000, (now - lastProgress) / 1000, inFlight));
    lastProgress = now;
  }, progress.everyMs);

  const fire = (task: Task) => {
    const intended = start + task.at;
    const k = counters.of(task.kind);
    k.sent++;
    inFlight++;
    const p = task
      .run()
      .catch((err: Error) => {
        counters.error(task.kind, err.message);
        return "error" as const;
      })
      .then((result) => {
        counters.latency(task.kind, performance.now() - intended);
        if (result === "ok") k.ok++;
        else if (result === "rejected") k.rejected++;
        else if (result === "error") k.errors++;
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };

  let i = 0;
  while (i < tasks.length) {
    const now = performance.now() - start;
    while (i < tasks.length && tasks[i]!.at <= now) fire(tasks[i++]!);
    if (i < tasks.length) await sleep(Math.max(0, Math.min(tasks[i]!.at - (performance.now() - start), 50)));
  }
  while (pending.size) await Promise.race(pending);
  clearInterval(timer);
  const seconds = (performance.now() - start) / 1000;
  progress.print(progressLine(counters, seconds, (performance.now() - lastProgress) / 1000, 0));
  return seconds;
}

/** Runs `fn` over items with at most `n` at a time (setup and checks, not load). */
export async function pool<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export const check = (part: string, name: string, expected: unknown, actual: unknown, problems: string[] = []): Check => ({
  part,
  name,
  ok: problems.length === 0 && String(expected) === String(actual),
  expected: String(expected),
  actual: String(actual),
  problems,
});
