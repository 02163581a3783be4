// The containers' HEALTHCHECK: `node workers/healthcheck.mjs BRIDGE_PORT` asks
// 127.0.0.1:$BRIDGE_PORT/healthz and exits 0 on a 200, 1 otherwise. Plain
// JavaScript with no dependencies, so it starts fast and cannot fail to load.
const variable = process.argv[2];
const port = process.env[variable ?? ""];
if (!variable || !port) {
  process.stderr.write(`usage: node workers/healthcheck.mjs <PORT_VARIABLE> (${variable ?? "none"} is not set)\n`);
  process.exit(2);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
  process.exit(res.status === 200 ? 0 : 1);
} catch (error) {
  process.stdout.write(`unhealthy: ${error.message}\n`);
  process.exit(1);
}
