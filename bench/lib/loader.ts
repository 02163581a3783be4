// Runs one autocannon load in its own process, so the load generator never shares
// an event loop with the harness. Reads a LoadSpec as JSON from argv[2] and
// prints the result as JSON on stdout.
import autocannon from "autocannon";
import type { LoadSpec } from "./load.ts";

const spec: LoadSpec = JSON.parse(process.argv[2]!);

// `{i}` is a counter unique to each request; `{i%N}` the counter modulo N.
let i = 0;
const fill = (template: string, n: number) =>
  template.replace(/\{i(?:%(\d+))?\}/g, (_, mod) => String(mod ? n % Number(mod) : n));

const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  amount: spec.amount,
  requests: [
    {
      method: spec.method,
      setupRequest: (req: autocannon.Request) => {
        const n = i++;
        const headers: Record<string, string> = { "content-type": "application/json" };
        for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k] = fill(v, n);
        return { ...req, path: fill(spec.path, n), headers, body: spec.body ? fill(spec.body, n) : undefined };
      },
    },
  ],
});

process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    status: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)])),
  }),
);
