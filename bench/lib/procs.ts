// CPU time and memory of processes, from /proc (Linux).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User + system CPU time a process (all its threads) has used so far, in µs. */
export function cpuMicros(pid: number): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
  } catch {
    return 0; // gone: counts nothing
  }
}

/** Resident set size in MiB (0 when the process is gone). */
export function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

export const sumCpu = (pids: number[]) => pids.reduce((s, p) => s + cpuMicros(p), 0);
export const sumRss = (pids: number[]) => pids.reduce((s, p) => s + rssMiB(p), 0);

/** The machine, for the table's header. */
export function machine(): { cpu: string; cores: number } {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? "unknown",
    cores: (info.match(/^processor\s*:/gm) ?? []).length,
  };
}
