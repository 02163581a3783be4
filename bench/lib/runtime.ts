// Miniflare-driven workerd, used by test/node/bridge.test.ts (the benchmarks run on `workerd serve`, lib/servers.ts).
// Starts Workers locally on the leanest runtime: workerd driven by Miniflare, with
// request logging off, Durable Objects persisted to a temp dir on disk.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";

const root = new URL("../..", import.meta.url).pathname;
// Inside the repo: workerd refuses module paths that leave its root.
const buildDir = ".wrangler/bench-build";

export type Runtime = { url: URL; stop: () => Promise<void>; miniflare: Miniflare };

/** Bundles the Worker exactly as `wrangler deploy` would. */
export function build(): void {
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", buildDir], {
    cwd: root,
    stdio: "ignore",
  });
}

async function start(options: Record<string, unknown>): Promise<Runtime> {
  const persist = mkdtempSync(join(tmpdir(), "rushgate-bench-"));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      port: 0,
      cf: false,
      logRequests: false,
      rootPath: root,
      resourcePersistencePath: persist,
      ...options,
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = await mf.ready;
  return {
    url,
    miniflare: mf,
    stop: async () => {
      await mf.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/** The rushgate Worker with the Durable Object bindings from wrangler.toml. */
export function startRushgate(vars: Record<string, string> = {}): Promise<Runtime> {
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
  const durableObjects = Object.fromEntries(
    config.durable_objects.bindings.map((b: { name: string; class_name: string }) => [b.name, { className: b.class_name, useSQLite: true }]),
  );
  return start({
    modules: true,
    scriptPath: `${buildDir}/index.js`,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    durableObjects,
    bindings: { ...config.vars, ...vars },
  });
}

/** The local runtime's ceiling: a trivial Worker answering constant JSON. */
export function startCeiling(): Promise<Runtime> {
  return start({
    modules: true,
    compatibilityDate: "2026-11-01",
    script: `export default { fetch() { return Response.json({ status: "ok" }); } };`,
  });
}

/**
 * The floor under any Durable Object endpoint: a Worker that parses the JSON body
 * and makes one no-op RPC to a single SQLite-backed object. Whatever an endpoint
 * costs beyond this is its own work.
 */
export function startRpcFloor(): Promise<Runtime> {
  return start({
    modules: true,
    compatibilityDate: "2026-11-01",
    durableObjects: { FLOOR: { className: "Floor", useSQLite: true } },
    script: `
      import { DurableObject } from "cloudflare:workers";
      export class Floor extends DurableObject { hit(user) { return { status: "OK", user }; } }
      export default {
        async fetch(request, env) {
          const body = await request.json();
          return Response.json(await env.FLOOR.getByName("hot").hit(body.user_id));
        },
      };`,
  });
}

export const cores = () => (globalThis.navigator?.hardwareConcurrency ?? 0);

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0]!);
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c]!)))].join("\n");
}
