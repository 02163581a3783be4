import { execFile } from "node:child_process";
import { promisify } from "node:util";

export type LoadSpec = {
  url: string;
  method: "GET" | "POST";
  /** Request path; may hold `{i}` / `{i%N}` placeholders. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Stop after this many requests instead of after `seconds`. */
  amount?: number;
};

export type LoadResult = {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  status: Record<string, number>;
};

/** Drives the load from a separate autocannon process. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const loader = new URL("./loader.ts", import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [loader, JSON.stringify(spec)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout);
}
