// `npm run dev`: the whole system on one machine. Starts the Worker (wrangler
// dev) and the Kafka bridge; with KAFKA_BROKERS set it also starts the archiver,
// otherwise the bridge writes straight into the archive (PGlite in .data/ unless
// DATABASE_URL is set). Any of SIGINT, SIGTERM or SIGHUP stops everything, once.
//
// Ports (0 picks a free one): PORT (Worker, 8787), INSPECTOR_PORT (wrangler's
// devtools, 9229), BRIDGE_PORT (bridge /healthz and /metrics, 9464), ARCHIVER_PORT
// (archiver /healthz and /metrics, 9465). DEV_REPORT_SECONDS: how often to sum up
// what was delivered (30). WORKER_STATE_DIR: the Durable Objects' local storage
// (wrangler's default, .wrangler/state).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { ConfigError, portFrom } from "./lib/config-error.ts";
import { ensureDevVars } from "./lib/dev-vars.ts";
import {
  delivered,
  jsonLogVerdict,
  type LineVerdict,
  parseMetrics,
  summary,
  wranglerFilter,
} from "./lib/dev-console.ts";

const root = new URL("..", import.meta.url).pathname;
const env = process.env;
const kafka = Boolean(env.KAFKA_BROKERS);

/** A port that is free now: the one asked for, or any when 0 is asked for. */
function freePort(name: string, what: string, wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", () =>
      reject(new ConfigError(`port ${wanted} (${what}) is in use: set ${name} to another port, or 0 for any free one`)),
    );
    probe.listen(wanted, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const ports = {
  worker: await freePort("PORT", "the Worker", portFrom(env, "PORT", 8787)),
  inspector: await freePort("INSPECTOR_PORT", "wrangler's inspector", portFrom(env, "INSPECTOR_PORT", 9229)),
  bridge: await freePort("BRIDGE_PORT", "the bridge's metrics", portFrom(env, "BRIDGE_PORT", 9464)),
  archiver: kafka ? await freePort("ARCHIVER_PORT", "the archiver's metrics", portFrom(env, "ARCHIVER_PORT", 9465)) : 0,
};
const reportSeconds = Number(env.DEV_REPORT_SECONDS || 30);
if (!(reportSeconds > 0)) throw new ConfigError("DEV_REPORT_SECONDS must be a positive number of seconds");

// Local secrets (ADMIN_TOKEN, JWT_SECRET, BRIDGE_TOKEN) in .dev.vars, made on first run.
const { secrets, created } = ensureDevVars();

const workerUrl = `http://127.0.0.1:${ports.worker}`;
const childEnv = {
  ...env,
  BRIDGE_TOKEN: secrets.BRIDGE_TOKEN,
  WORKER_URL: workerUrl,
  BRIDGE_PORT: String(ports.bridge),
  ARCHIVER_PORT: String(ports.archiver),
};

type Child = { name: string; process: ChildProcess; exited: Promise<void> };
const children: Child[] = [];
let errors = 0;
let reporter: NodeJS.Timeout | undefined;

function start(name: string, args: string[], verdict: (line: string) => LineVerdict, extraEnv: NodeJS.ProcessEnv = {}) {
  // Each child leads its own process group: a Ctrl-C reaches only this process,
  // which then signals each group once (the bridge used to hear it twice), and
  // signalling the group also reaches wrangler's workerd.
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...childEnv, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const label = `${name.padEnd(8)} | `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      const v = verdict(line);
      if (v === "error") errors++;
      if (v !== "hide") process.stdout.write(`${label}${line}\n`);
    });
  }
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      if (!stopping) {
        console.error(`dev: ${name} exited (${signal ?? code}); stopping the rest`);
        void stop(code || 1);
      }
      resolve();
    }),
  );
  children.push({ name, process: child, exited });
}

function signalGroup(child: Child, signal: NodeJS.Signals) {
  if (child.process.exitCode !== null || child.process.signalCode !== null || !child.process.pid) return;
  try {
    process.kill(-child.process.pid, signal);
  } catch {
    // Already gone.
  }
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(reporter);
  clearInterval(parentWatch);
  const force = setTimeout(() => {
    for (const child of children) signalGroup(child, "SIGKILL");
  }, 10_000);
  // The bridge and the archiver first: on the way out the bridge acknowledges what
  // it delivered, which needs the Worker still up.
  const [worker, ...rest] = children;
  for (const child of rest) signalGroup(child, "SIGTERM");
  await Promise.all(rest.map((c) => c.exited));
  if (worker) {
    signalGroup(worker, "SIGTERM");
    await worker.exited;
  }
  clearTimeout(force);
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));

// `npm run dev` is npm → this process; npm exits on SIGHUP without passing it on,
// so a parent that went away is a signal to stop too.
const parent = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500);

// The web app: `npm run dev` built it once; this rebuilds it on each edit, and
// wrangler dev reloads the open page when its assets change.
start("web", [`${root}node_modules/vite/bin/vite.js`, "build", "-c", "web/vite.config.ts", "--watch", "--mode", "development", "--logLevel", "warn"], () => "show");
start(
  "worker",
  [
    `${root}node_modules/wrangler/bin/wrangler.js`,
    "dev",
    ...["--port", String(ports.worker), "--ip", "127.0.0.1"],
    ...["--inspector-port", String(ports.inspector)],
    "--show-interactive-dev-session=false",
    "--live-reload",
    ...(env.WORKER_STATE_DIR ? ["--persist-to", env.WORKER_STATE_DIR] : []),
  ],
  wranglerFilter(),
  process.stdout.isTTY ? { FORCE_COLOR: "1" } : {},
);
start("bridge", ["--import", "./workers/preflight.mjs", "workers/kafka-bridge/index.ts"], jsonLogVerdict);
if (kafka) start("archiver", ["--import", "./workers/preflight.mjs", "workers/archiver/index.ts"], jsonLogVerdict);

const metricsUrls = [`http://127.0.0.1:${ports.bridge}/metrics`];
if (kafka) metricsUrls.push(`http://127.0.0.1:${ports.archiver}/metrics`);
const scrape = async () => {
  const texts = await Promise.all(
    metricsUrls.map((u) =>
      fetch(u).then(
        (r) => r.text(),
        () => "",
      ),
    ),
  );
  return parseMetrics(texts.join("\n"));
};

async function waitUntilUp(url: string): Promise<void> {
  while (
    !stopping &&
    !(await fetch(url).then(
      (r) => r.ok,
      () => false,
    ))
  )
    await new Promise((r) => setTimeout(r, 250));
}

function banner(): string {
  const archive = env.DATABASE_URL
    ? `PostgreSQL at ${env.DATABASE_URL.replace(/\/\/[^@/]*@/, "//…@")}`
    : `PGlite in ${env.ARCHIVE_DIR || ".data/archive"} (look inside: npm run archive)`;
  const lines = [
    "dev: rushgate is up",
    `  worker    ${workerUrl}   (wrangler's devtools inspector on 127.0.0.1:${ports.inspector})`,
    `  api docs  ${workerUrl}/api/docs   (OpenAPI 3.1: ${workerUrl}/api/openapi.json)`,
    `  bridge    http://127.0.0.1:${ports.bridge}/healthz and /metrics`,
    kafka ? `  kafka     ${env.KAFKA_BROKERS}` : "  kafka     none: the bridge writes straight into the archive",
    kafka ? `  archiver  http://127.0.0.1:${ports.archiver}/healthz and /metrics` : "",
    `  archive   ${archive}`,
    created.length ? `dev: created ${created.join(", ")} in .dev.vars (random; kept for next time)` : "",
    "  tokens    service: npm run -s token -- --service    a user: npm run -s token -- user_12345",
    `dev: quiet while idle; a summary every ${reportSeconds} s when events flow or errors happen. Ctrl-C stops everything.`,
  ];
  return lines.filter(Boolean).join("\n");
}

await waitUntilUp(`${workerUrl}/health`);
await waitUntilUp(`http://127.0.0.1:${ports.bridge}/healthz`);
if (kafka) await waitUntilUp(`http://127.0.0.1:${ports.archiver}/healthz`);
if (!stopping) {
  console.log(banner());
  let last = await scrape();
  errors = 0;
  reporter = setInterval(async () => {
    const now = await scrape();
    const line = summary(reportSeconds, delivered(last, now), errors);
    last = now;
    errors = 0;
    if (line && !stopping) console.log(line);
  }, reportSeconds * 1000);
}
