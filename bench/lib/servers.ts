// Everything a benchmark measures, each in its own process so /proc can tell
// their CPU apart: rushgate and three baselines on `workerd serve`, the two
// designs rushgate replaces (bench/peers/), and Miniflare for reference.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import pg from "pg";
import { buildBundle, freePort, root, rushgateSpec, serve, type WorkerSpec } from "../../workers/lib/workerd-config.ts";

/** A process the server runs on; processes with the same label are summed. */
export type Proc = { label: string; pid: number };
export type Server = { name: string; url: URL; procs: Proc[]; stop: () => Promise<void> };

const run = `${Date.now().toString(36)}-${process.pid}`;
const buildDir = join(root, ".wrangler/bench", run);
// On disk, like production storage; /dev/shm (tmpfs) only for the comparison run.
export const storageRoot = (tmpfs = false) => join(tmpfs ? "/dev/shm" : join(root, ".data"), `rushgate-bench-${run}`);
const storageDir = (name: string, tmpfs = false) => join(storageRoot(tmpfs), name);
const cleanups: (() => void)[] = [
  () => rmSync(buildDir, { recursive: true, force: true }),
  () => rmSync(join(root, ".data", `rushgate-bench-${run}`), { recursive: true, force: true }),
  () => rmSync(join("/dev/shm", `rushgate-bench-${run}`), { recursive: true, force: true }),
];
/** Deletes the bundles and storage of this run. */
export const cleanup = () => cleanups.forEach((f) => f());

/** Credentials the benchmark gives the Worker and presents itself. */
export const secrets = {
  ADMIN_TOKEN: randomBytes(16).toString("hex"),
  JWT_SECRET: randomBytes(32).toString("hex"),
  BRIDGE_TOKEN: randomBytes(16).toString("hex"),
};
export const adminHeaders = { authorization: `Bearer ${secrets.ADMIN_TOKEN}` };

let bundled = false;
/** Where rushgate's bundle (and wrangler's source map of it) is written. */
export const bundleDir = () => join(buildDir, "rushgate");
/**
 * rushgate as deployed. `held`: every Coupon's outbox alarm does nothing, so
 * events are written but never shipped (event delivery held back). `probe`: a
 * main module of the benchmark's that wraps the bundle's (bench/feeds.ts).
 */
export async function startRushgate(
  opts: { tmpfs?: boolean; held?: boolean; name?: string; vars?: Record<string, string>; probe?: { file: string; source: string } } = {},
): Promise<Server> {
  const name = opts.name ?? `rushgate${opts.held ? "-held" : ""}${opts.tmpfs ? "-tmpfs" : ""}`;
  const outdir = bundleDir();
  if (!bundled) buildBundle(outdir);
  bundled = true;
  const spec = await rushgateSpec({ outdir, storage: storageDir(name, opts.tmpfs), secrets, build: false });
  spec.text = { ...spec.text, ...opts.vars };
  // A main module in front of index.js that wraps it. ES modules: a local export shadows the same name from `export *`.
  const wrap = ({ file, source }: { file: string; source: string }) => {
    writeFileSync(join(outdir, file), source);
    spec.modules = [file, ...spec.modules];
  };
  if (opts.held) {
    wrap({
      file: "held.js",
      source:
        `import * as app from "./index.js";\nexport * from "./index.js";\nexport default app.default;\n` +
        `export class Coupon extends app.Coupon { async alarm() {} }\n`,
    });
  }
  if (opts.probe) wrap(opts.probe);
  return served(name, spec);
}

async function served(name: string, spec: WorkerSpec): Promise<Server> {
  const s = await serve(spec, { configName: `${name}.capnp`, stdio: "inherit" });
  return { name, url: s.url, procs: [{ label: "workerd", pid: s.pid }], stop: s.stop };
}

function scriptSpec(name: string, source: string, extra: Partial<WorkerSpec> = {}): WorkerSpec {
  const dir = join(buildDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "worker.js"), source);
  return { dir, modules: ["worker.js"], compatibilityDate: "2026-11-01", ...extra };
}

/** A script Worker with one SQLite-backed Durable Object class, served. */
const servedObject = (name: string, source: string, binding: string, className: string, tmpfs = false) =>
  served(name, scriptSpec(name, source, { durableObjects: [{ binding, className }], storage: storageDir(name, tmpfs) }));

const constantJson = `export default { fetch() { return Response.json({ status: "ok" }); } };`;

/** A trivial Worker answering constant JSON: the runtime's own cost per request. */
export const startConstant = () => served("constant", scriptSpec("constant", constantJson));

/** A Worker that parses the body and makes one no-op RPC to one SQLite Durable Object. */
export const startRpcFloor = () =>
  servedObject(
    "rpc-floor",
    `import { DurableObject } from "cloudflare:workers";
export class Floor extends DurableObject { hit(user) { return { status: "OK", user }; } }
export default {
  async fetch(request, env) {
    if (request.method === "GET") return Response.json({ status: "ok" });
    const body = await request.json();
    return Response.json(await env.FLOOR.getByName("hot").hit(body.user_id));
  },
};`,
    "FLOOR",
    "Floor",
  );

/**
 * The minimal hibernating hub: a Durable Object that accepts sockets with
 * `ctx.acceptWebSocket`, greets each with a snapshot, and on `/publish` sends
 * `k` updates to every socket (`ctx.getWebSockets()`), with no storage. What
 * the runtime itself costs per socket and per message sent (bench/feeds.ts).
 */
export const startMinimalHub = () =>
  servedObject(
    "minimal-hub",
    `import { DurableObject } from "cloudflare:workers";
export class Hub extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/bench/publish") {
      const event = url.searchParams.get("event");
      const from = Number(url.searchParams.get("from"));
      const k = Number(url.searchParams.get("k"));
      for (let v = from; v < from + k; v++) {
        const text = JSON.stringify({ seq: v, type: "update", eventId: event, payload: { version: v } });
        for (const ws of this.ctx.getWebSockets()) ws.send(text);
      }
      return Response.json({ ok: true });
    }
    if (request.headers.get("upgrade") !== "websocket") return new Response("upgrade", { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].send(JSON.stringify({ seq: 0, type: "snapshot" }));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  webSocketMessage() {}
}
export default { fetch: (request, env) => env.HUB.getByName("hub").fetch(request) };`,
    "HUB",
    "Hub",
  );

/**
 * The minimal claim object: a claim row (unique user) and an outbox row, the
 * storage work of rushgate's claim and nothing else. `transaction`: both in one
 * transactionSync (one commit per claim). `coalesced`: the same statements in
 * one synchronous turn outside an explicit transaction, so workerd commits
 * every claim of a turn together and holds their replies until that commit.
 * `grouped`: claims queued and flushed in one transactionSync per timer tick
 * (`grouped-microtask`: per microtask checkpoint), a nested one per claim.
 */
export const startMinimal = (mode: "transaction" | "coalesced" | "grouped" | "grouped-microtask", tmpfs = false) => {
  const name = `minimal-${mode}${tmpfs ? "-tmpfs" : ""}`;
  return servedObject(
    name,
    `import { DurableObject } from "cloudflare:workers";
export class Claim extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS claims (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, claimed_at TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, data TEXT NOT NULL)");
    this.n = this.sql.exec("SELECT count(*) AS n FROM claims").one().n;
  }
  claim(user) {
    const write = () => {
      const now = new Date().toISOString();
      const seq = this.n + 1;
      const insert = this.sql.exec("INSERT INTO claims (seq, user_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING", seq, user, now);
      if (insert.rowsWritten === 0) return { status: "ALREADY_CLAIMED" };
      this.sql.exec("INSERT INTO outbox (type, data) VALUES ('coupon.claimed', ?)", JSON.stringify({ user_id: user, seq, claimed_at: now }));
      this.n = seq;
      return { status: "CLAIMED", user_id: user, seq };
    };
    ${
      mode.startsWith("grouped")
        ? `return new Promise((resolve, reject) => {
      this.pending ??= [];
      this.pending.push({ write, resolve, reject });
      if (this.pending.length === 1) ${mode === "grouped" ? "setTimeout(() => this.flush(), 0)" : "queueMicrotask(() => this.flush())"};
    });`
        : `return ${mode === "transaction" ? "this.ctx.storage.transactionSync(write)" : "write()"};`
    }
  }
  flush() {
    const batch = this.pending;
    this.pending = [];
    // One commit for the batch; each claim in its own savepoint, so one failing rolls back only itself.
    const outcomes = this.ctx.storage.transactionSync(() =>
      batch.map((c) => { try { return { ok: this.ctx.storage.transactionSync(c.write) }; } catch (error) { return { error }; } }),
    );
    batch.forEach((c, i) => ("error" in outcomes[i] ? c.reject(outcomes[i].error) : c.resolve(outcomes[i].ok)));
  }
  count() { return this.n; }
}
export default {
  async fetch(request, env) {
    const stub = env.CLAIM.getByName("hot");
    if (request.method === "GET") return Response.json({ claims: await stub.count() });
    const body = await request.json();
    const outcome = await stub.claim(body.user_id);
    return Response.json(outcome, { status: outcome.status === "CLAIMED" ? 200 : 409 });
  },
};`,
    "CLAIM",
    "Claim",
    tmpfs,
  );
};

/** Starts a peer process (bench/peers/*.ts), which prints one JSON line when ready. */
async function startPeer(name: string, file: string, env: Record<string, string>): Promise<Server & { info: Record<string, unknown> }> {
  const child = spawn(process.execPath, [join(root, "bench/peers", file)], {
    env: { ...process.env, ...env, PORT: String(await freePort()) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((r) => child.once("exit", r));
  const info = await new Promise<{ port: number; pids: number[] } & Record<string, unknown>>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return {
    name,
    url: new URL(`http://127.0.0.1:${info.port}/`),
    procs: [{ label: "node", pid: child.pid! }, ...info.pids.map((pid) => ({ label: "postgres", pid }))],
    info,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The flash-sale system's design: one Postgres transaction per claim, on a pool (its own database, dropped after). */
export async function startPgPeer(): Promise<Server> {
  const database = `rushgate_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  const peer = await startPeer("pg-peer", "pg-claim.ts", { DATABASE_URL: url.href });
  return {
    ...peer,
    stop: async () => {
      await peer.stop();
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The red-packet system's design: a Lua script in Redis (our own redis-server, nothing persisted). */
export async function startRedisPeer(): Promise<Server> {
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const redisExit = new Promise((r) => redis.once("exit", r));
  const peer = await startPeer("redis-peer", "redis-claim.ts", { REDIS_URL: `redis://127.0.0.1:${port}` });
  return {
    ...peer,
    procs: [...peer.procs, { label: "redis-server", pid: redis.pid! }],
    stop: async () => {
      await peer.stop();
      redis.kill("SIGTERM");
      await redisExit;
    },
  };
}

/** Miniflare's constant-JSON Worker, for reference beside `workerd serve`. */
export async function startMiniflareConstant(): Promise<Server> {
  const before = childPids();
  const mf = new Miniflare(
    convertV4MiniflareOptions({ port: await freePort(), cf: false, logRequests: false, modules: true, script: constantJson, compatibilityDate: "2026-11-01" } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = await mf.ready;
  const workerd = childPids().filter((p) => !before.includes(p));
  // Requests go straight to Miniflare's workerd; the Node side only starts it.
  return { name: "miniflare", url, procs: workerd.map((pid) => ({ label: "workerd", pid })), stop: () => mf.dispose() };
}

function childPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
    if (text) pids.push(...text.split(" ").map(Number));
  }
  return pids;
}
