// `npm run dev`: the whole system on one machine. Starts the Worker (wrangler
// dev, http://localhost:8787) and the Kafka bridge; with KAFKA_BROKERS set it
// also starts the archiver, otherwise the bridge writes straight into the
// archive (PGlite in .data/ unless DATABASE_URL is set). Ctrl-C stops all.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const port = process.env.PORT ?? "8787";

/** The bridge's secret, shared with `wrangler dev` through .dev.vars (gitignored). */
function bridgeToken(): string {
  const file = `${root}.dev.vars`;
  const vars = existsSync(file) ? readFileSync(file, "utf8") : "";
  const found = /^BRIDGE_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(vars)?.[1];
  if (found) return found;
  const token = randomBytes(24).toString("hex");
  writeFileSync(file, `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}BRIDGE_TOKEN="${token}"\n`);
  return token;
}

const env = { ...process.env, BRIDGE_TOKEN: bridgeToken(), WORKER_URL: `http://127.0.0.1:${port}` };
const children: ChildProcess[] = [];
const start = (name: string, command: string, args: string[]) => {
  const child = spawn(command, args, { cwd: root, env, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); stopping the rest`);
    stop(code ?? 1);
  });
  children.push(child);
};

let stopping = false;
function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r))))).then(() =>
    process.exit(code),
  );
}
process.once("SIGINT", () => stop(0));
process.once("SIGTERM", () => stop(0));

// The web app: `npm run dev` built it once; this rebuilds it on each edit, and
// wrangler dev reloads the open page when its assets change.
start("web", `${root}node_modules/.bin/vite`, ["build", "-c", "web/vite.config.ts", "--watch", "--mode", "development"]);
start("worker", `${root}node_modules/.bin/wrangler`, ["dev", "--port", port, "--ip", "127.0.0.1", "--live-reload"]);
start("kafka-bridge", process.execPath, ["workers/kafka-bridge/index.ts"]);
if (process.env.KAFKA_BROKERS) start("archiver", process.execPath, ["workers/archiver/index.ts"]);
