// `npm run simulate` in CI: the short scenario (every fault kind) against the
// Worker on `workerd serve` (what `npm run start` runs: the deploy bundle) and
// the Kafka bridge on the mock cluster must come out clean; the same scenario
// against a copy of the Worker with a planted bug must not.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { rushgateSpec, type Served, serve } from "../../workers/lib/workerd-config.ts";

const root = new URL("../..", import.meta.url).pathname;
const run = `sim${Date.now().toString(36)}`;
const secrets = { BRIDGE_TOKEN: `bridge-${run}`, ADMIN_TOKEN: `admin-${run}`, JWT_SECRET: `jwt-${run}-0123456789abcdef0123` };
// The stake gate's settings, as the CI scenario has them.
const gateVars = { WINDOW_SECONDS: "4", ALLOWED_LATENESS_SECONDS: "5" };
const scenario = join(root, "workers/simulator/scenarios/ci.json");
const scratch = mkdtempSync(join(tmpdir(), "rushgate-sim-"));
const procs: ChildProcess[] = [];
let kafka: KafkaHandle;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(args[0]!, args.slice(1), { cwd, env: { ...process.env, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "inherit", "inherit"] });
  procs.push(child);
  return child;
}

const served: Served[] = [];

/** The Worker in `dir`, bundled as `wrangler deploy` would and served by `workerd serve`; its URL. */
async function worker(dir: string): Promise<string> {
  const out = join(scratch, `bundle-${served.length}`);
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], { cwd: dir, stdio: "ignore" });
  const spec = await rushgateSpec({ outdir: out, storage: join(out, "state"), secrets: { ...secrets, ...gateVars }, build: false });
  spec.modules = ["index.js", ...readdirSync(out).filter((f) => f !== "index.js" && /\.(m?js|wasm)$/.test(f))];
  const s = await serve(spec, { stdio: "ignore" });
  served.push(s);
  return s.url.href.replace(/\/$/, "");
}

/** Runs the simulator to its end: exit code and everything it printed. */
function simulate(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "./workers/preflight.mjs", "workers/simulator/index.ts", ...args], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    procs.push(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.once("exit", (code) => resolve({ code, out }));
  });
}

let url: string;
beforeAll(async () => {
  kafka = await startKafka();
  url = await worker(root);
  start([process.execPath, "workers/kafka-bridge/index.ts"], root, {
    ...kafka.groupEnv,
    WORKER_URL: url,
    BRIDGE_TOKEN: secrets.BRIDGE_TOKEN,
    KAFKA_BROKERS: kafka.brokers.join(","),
    KAFKA_IDEMPOTENT: String(kafka.idempotent),
    BRIDGE_GROUP_ID: `bridge-${run}`,
    BRIDGE_PORT: "0",
    PULL_WAIT_MS: "500",
  });
}, 180_000);

afterAll(async () => {
  // The bridge before Kafka, so it leaves quietly.
  for (const p of procs.reverse()) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }
  for (const s of served) await s.stop();
  await kafka?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const common = () => ["--scenario", scenario, "--timeout-ms", "30000", "--token", secrets.ADMIN_TOKEN, "--jwt-secret", secrets.JWT_SECRET, "--progress-ms", "2000"];

describe("npm run simulate", () => {
  it("runs the short scenario, every fault kind, over HTTP and Kafka, and comes out clean", async () => {
    const { code, out } = await simulate(["--url", url, "--brokers", kafka.brokers.join(","), "--run-id", `${run}-a`, ...common()]);
    console.log(out);
    expect(out).toMatch(/bet\.http\.retry/);
    expect(out).toMatch(/bet\.kafka\.dup/);
    expect(out).toMatch(/\| wallets +\| every balance equals the oracle's/);
    expect(out).toMatch(/\| coupons +\|/);
    expect(out).toMatch(/\| rain +\|/);
    expect(out).toMatch(/simulate: clean/);
    expect(code).toBe(0);
  });

  /** A copy of the Worker with one line changed, served; its URL. */
  async function plantedWorker(name: string, file: string, from: string, to: string): Promise<string> {
    const copy = join(scratch, name);
    for (const p of ["src", "web/dist", "wrangler.toml", "package.json", "tsconfig.json"]) cpSync(join(root, p), join(copy, p), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    const source = readFileSync(join(copy, file), "utf8");
    const planted = source.replace(from, to);
    expect(planted).not.toBe(source); // the plant took
    writeFileSync(join(copy, file), planted);
    return worker(copy);
  }

  it("catches a bug planted in a copy of the Worker: a voided bet's stake is kept instead of released", async () => {
    const bad = await plantedWorker("void-keeps-stake", "src/actors/wallet/bets.ts", 'result === "VOID" ? 0 : bet.stake', "bet.stake");
    const { code, out } = await simulate(["--url", bad, "--run-id", `${run}-b`, ...common()]);
    console.log(out);
    expect(out).toMatch(/\| wallets +\| every balance equals the oracle's +\| +\d+ \| +\d+ \| NO/);
    expect(out).toMatch(/posted \d+ \(expected \d+\)/);
    expect(out).toMatch(/simulate: NOT CLEAN/);
    expect(code).toBe(1);
  });

  it("catches a bug planted in a copy of the Worker: a qualified bet is awarded by every matching offer, not once", async () => {
    const bad = await plantedWorker(
      "awards-twice",
      "src/actors/wallet/awards.ts",
      'if (outcome?.status === "RESERVED") return this.pay(task, i, c, id, outcome.amount_cents);',
      'if (outcome?.status === "RESERVED") { this.pay(task, i, c, id, outcome.amount_cents); continue; }',
    );
    const { code, out } = await simulate(["--url", bad, "--run-id", `${run}-c`, ...common()]);
    console.log(out);
    expect(out).toMatch(/\| awards +\| phantom awards +\| +0 \| +[1-9]\d* \| NO/);
    expect(out).toMatch(/: a second award /);
    expect(out).toMatch(/bonus \d+ \(expected \d+\)/); // and the wallets were credited for them
    expect(out).toMatch(/simulate: NOT CLEAN/);
    expect(code).toBe(1);
  });
});
