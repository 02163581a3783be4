// Serves a Worker on `workerd serve`, the production runtime, the way `wrangler
// deploy` would ship it: the deploy bundle, every Durable Object namespace with
// SQLite storage on disk, the [vars], and the secrets from .dev.vars or the
// environment. `npm run start` and the benchmarks both use it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

export const root = new URL("../..", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules/.bin", name);

export type DurableObjectSpec = { binding: string; className: string };
export type WorkerSpec = {
  /** Directory holding the modules; the config is written here and embeds them by relative path. */
  dir: string;
  /** Module file names in `dir`; the first is the main module. */
  modules: string[];
  compatibilityDate: string;
  compatibilityFlags?: string[];
  /** Text bindings: vars and secrets alike. */
  text?: Record<string, string>;
  durableObjects?: DurableObjectSpec[];
  /** Where the SQLite files go (created if missing). Required when there are Durable Objects. */
  storage?: string;
};

// Cap'n Proto text strings take C escapes (\xHH), not JSON's \u; UTF-8 passes as is.
const str = (s: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;

function moduleLine(file: string): string {
  const kind = /\.m?js$/.test(file)
    ? "esModule"
    : file.endsWith(".wasm")
      ? "wasm"
      : /\.(txt|html|sql)$/.test(file)
        ? "text"
        : "data";
  return `(name = ${str(file)}, ${kind} = embed ${str(file)})`;
}

/** The capnp config for one Worker listening on `port` (all interfaces unless `host`). */
export function capnpConfig(spec: WorkerSpec, port: number, host = "127.0.0.1"): string {
  const dos = spec.durableObjects ?? [];
  const bindings = [
    ...Object.entries(spec.text ?? {}).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`),
    ...dos.map((d) => `(name = ${str(d.binding)}, durableObjectNamespace = ${str(d.className)})`),
  ];
  const classes = [...new Set(dos.map((d) => d.className))];
  if (classes.length && !spec.storage) throw new Error("Durable Objects need a storage directory");
  const worker = [
    `modules = [ ${spec.modules.map(moduleLine).join(", ")} ]`,
    `compatibilityDate = ${str(spec.compatibilityDate)}`,
    `compatibilityFlags = [ ${(spec.compatibilityFlags ?? []).map(str).join(", ")} ]`,
    `bindings = [ ${bindings.join(", ")} ]`,
    ...(classes.length
      ? [
          `durableObjectNamespaces = [ ${classes.map((c) => `(className = ${str(c)}, uniqueKey = ${str(`rushgate-${c}`)}, enableSql = true)`).join(", ")} ]`,
          `durableObjectStorage = (localDisk = "storage")`,
        ]
      : []),
  ];
  const services = [`(name = "main", worker = ( ${worker.join(",\n    ")} ))`];
  if (classes.length) services.push(`(name = "storage", disk = (path = ${str(resolve(spec.storage!))}, writable = true))`);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")}
  ],
  sockets = [ (name = "http", address = ${str(`${host}:${port}`)}, http = (), service = "main") ]
);
`;
}

/** Bundles the Worker exactly as `wrangler deploy` would, into `outdir` (inside the repo). */
export function buildBundle(outdir: string): string[] {
  execFileSync(bin("wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: root, stdio: "ignore" });
  // Modules only: the source map and wrangler's README are not part of the upload.
  const files = readdirSync(outdir).filter((f) => !f.endsWith(".map") && f !== "README.md" && !f.endsWith(".capnp"));
  return ["index.js", ...files.filter((f) => f !== "index.js")];
}

/** `KEY=value` lines, optionally quoted, as .dev.vars holds them. */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    const raw = m[2]!;
    vars[m[1]!] = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  }
  return vars;
}

/**
 * The secrets the Worker gets: everything in .dev.vars, then from the environment
 * every name the Worker declares as a secret (wrangler's `secrets.required`, or
 * the `Secrets` interface in src/env.d.ts); the environment wins.
 */
export function readSecrets(env: NodeJS.ProcessEnv = process.env, declared: string[] = []): Record<string, string> {
  const file = join(root, ".dev.vars");
  const secrets = existsSync(file) ? parseDevVars(readFileSync(file, "utf8")) : {};
  const types = join(root, "src/env.d.ts");
  const block = existsSync(types) ? /interface Secrets\s*\{([^}]*)\}/.exec(readFileSync(types, "utf8"))?.[1] : undefined;
  const names = new Set([...declared, ...Object.keys(secrets), ...[...(block ?? "").matchAll(/^\s*([A-Z_][A-Z0-9_]*)\??\s*:/gm)].map((m) => m[1]!)]);
  for (const name of names) if (env[name] !== undefined) secrets[name] = env[name]!;
  return secrets;
}

type WranglerConfig = {
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, unknown>;
  durable_objects: { bindings: { name: string; class_name: string; script_name?: string }[] };
  secrets?: { required?: string[] };
};

/** The rushgate Worker from wrangler.toml: bundle in `outdir`, SQLite files in `storage`. */
export async function rushgateSpec(opts: {
  outdir: string;
  storage: string;
  secrets?: Record<string, string>;
  build?: boolean;
}): Promise<WorkerSpec> {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") }) as unknown as WranglerConfig;
  const outdir = resolve(root, opts.outdir);
  const modules = opts.build === false ? ["index.js"] : buildBundle(outdir);
  const vars = Object.fromEntries(
    Object.entries(config.vars ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return {
    dir: outdir,
    modules,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    text: { ...vars, ...(opts.secrets ?? readSecrets(process.env, config.secrets?.required ?? [])) },
    durableObjects: config.durable_objects.bindings.map((b) => {
      if (b.script_name) throw new Error(`${b.name}: Durable Objects of another script are not supported`);
      return { binding: b.name, className: b.class_name };
    }),
    storage: resolve(root, opts.storage),
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export type Served = { url: URL; pid: number; child: ChildProcess; stop: () => Promise<void> };

/** Writes the config into spec.dir and runs `workerd serve` on it until stopped. */
export async function serve(
  spec: WorkerSpec,
  opts: { port?: number; host?: string; configName?: string; stdio?: "inherit" | "ignore" } = {},
): Promise<Served> {
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? "127.0.0.1";
  if (spec.storage) mkdirSync(spec.storage, { recursive: true });
  const configFile = join(spec.dir, opts.configName ?? "workerd.capnp");
  writeFileSync(configFile, capnpConfig(spec, port, host));
  // WORKERD_INSPECTOR=host:port opens the V8 inspector (bench/profile.ts uses it for CPU profiles).
  const inspector = process.env.WORKERD_INSPECTOR ? [`--inspector-addr=${process.env.WORKERD_INSPECTOR}`] : [];
  const child = spawn(bin("workerd"), ["serve", configFile, ...inspector], {
    cwd: spec.dir,
    stdio: ["ignore", opts.stdio ?? "inherit", opts.stdio ?? "inherit"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = new URL(`http://${host === "0.0.0.0" || host === "*" ? "127.0.0.1" : host}:${port}/`);
  // Ready when the socket answers (any status).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (i > 300) throw new Error("workerd did not start within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
