// Drives load with wrk (a separate C process; its Lua script builds each request).
// wrk costs far less CPU per request than a Node load generator, which matters
// when the load generator shares two cores with what it measures.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type LoadSpec = {
  url: string;
  method: "GET" | "POST";
  /** Request path; may hold `{i}` / `{i%N}` placeholders. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Paced: each connection waits so the whole run offers about this many requests/s. */
  rate?: number;
  /** Resolves when the run should end early (wrk is stopped with SIGINT and still reports). */
  until?: Promise<unknown>;
};

export type LoadResult = {
  rps: number;
  total: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Socket errors and timeouts (a non-2xx status is not an error here; see `status`). */
  errors: number;
  status: Record<string, number>;
  seconds: number;
};

const THREADS = 2;

/**
 * A template as a Lua expression: `{i}` is a number unique to each request of
 * the run (counted per wrk thread, interleaved across threads), `{i%N}` that
 * number modulo N.
 */
function lua(template: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{i(?:%(\d+))?\}/g)) {
    parts.push(JSON.stringify(template.slice(last, m.index)));
    parts.push(m[1] ? `string.format("%d", n % ${m[1]})` : `string.format("%d", n)`);
    last = m.index! + m[0].length;
  }
  parts.push(JSON.stringify(template.slice(last)));
  return parts.join(" .. ");
}

function script(spec: LoadSpec): string {
  const headers = { "content-type": "application/json", ...spec.headers };
  const delayMs = spec.rate ? (1000 * spec.connections) / spec.rate : 0;
  return `
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  i = 0
  counts = {}
end
function request()
  local n = i * ${THREADS} + tid
  i = i + 1
  local h = {}
  ${Object.entries(headers)
    .map(([k, v]) => `h[${JSON.stringify(k)}] = ${lua(v)}`)
    .join("\n  ")}
  return wrk.format(${JSON.stringify(spec.method)}, ${lua(spec.path)}, h, ${spec.body ? lua(spec.body) : "nil"})
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
${delayMs ? `function delay() return ${delayMs.toFixed(3)} end` : ""}
function done(summary, latency, requests)
  local status = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("counts")) do status[tostring(code)] = (status[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(status) do table.insert(parts, string.format('"%s":%d', code, n)) end
  local e = summary.errors
  io.write(string.format('RESULT {"total":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d,"status":{%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
`;
}

/** Runs one wrk load and returns what it saw. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "rushgate-wrk-"));
  const file = join(dir, "load.lua");
  writeFileSync(file, script(spec));
  const args = ["-t", String(THREADS), "-c", String(spec.connections), "-d", `${spec.seconds}s`, "--timeout", "10s", "-s", file, spec.url];
  const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  void spec.until?.then(() => child.kill("SIGINT"));
  await new Promise((r) => child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
  const line = /^RESULT (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line) as { total: number; us: number; p50: number; p99: number; errors: number; status: Record<string, number> };
  const seconds = r.us / 1e6;
  return { rps: r.total / seconds, total: r.total, p50: r.p50 / 1000, p99: r.p99 / 1000, errors: r.errors, status: r.status, seconds };
}
