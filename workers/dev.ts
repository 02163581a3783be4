// `npm run dev`: the whole system on one machine. Starts the Worker (wrangler
// dev, http://localhost:8787) and the Kafka bridge; with KAFKA_BROKERS set it
// also starts the archiver, otherwise the bridge writes straight into the
// archive (PGlite in .data/ unless DATABASE_URL is set). Ctrl-C stops all.
import { spawn, type ChildProcess } from "node:child_process";
import { ensureDevVars } from "./lib/dev-vars.ts";

const root = new URL("..", import.meta.url).pathname;
const port = process.env.PORT ?? "8787";

const { secrets, created } = ensureDevVars();
if (created.length) console.log(`dev: created ${created.join(", ")} in .dev.vars`);
const env = { ...process.env, BRIDGE_TOKEN: secrets.BRIDGE_TOKEN, WORKER_URL: `http://127.0.0.1:${port}` };
console.log(`dev: service token: npm run token -- --service   user token: npm run token -- user_12345`);
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
