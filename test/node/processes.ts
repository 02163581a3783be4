// The bridge and the archiver as real processes, for the tests that SIGKILL them.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export type Proc = {
  name: string;
  child: ChildProcess;
  /** Every JSON log line so far, parsed, with the time it was read. */
  logs: (Record<string, any> & { read_at: number })[];
  started: number;
  /** Sends a signal and waits for the exit; the exit code, or the signal's name. */
  stop(signal: NodeJS.Signals): Promise<number | string | null>;
};

const running = new Set<Proc>();

/** Starts `node <script>` from the repository root with `env` over ours. */
export function startProcess(name: string, script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  const proc: Proc = {
    name,
    child,
    logs: [],
    started: Date.now(),
    async stop(signal) {
      running.delete(proc);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (buffered + chunk).split("\n");
    buffered = parts.pop()!;
    for (const line of parts) {
      try {
        proc.logs.push({ ...JSON.parse(line), read_at: Date.now() });
      } catch {
        process.stdout.write(`[${name}] ${line}\n`);
      }
    }
  });
  running.add(proc);
  return proc;
}

/** Kills whatever a test left running (its afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop("SIGKILL")));
}
