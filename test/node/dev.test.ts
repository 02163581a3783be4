// `npm run dev` as a newcomer runs it: a real wrangler dev, bridge and embedded
// archive. It must say where everything listens, stay quiet while the bridge
// polls, sum up deliveries, and stop everything it started on any signal, once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers.ts";
import { readDevVars } from "../../workers/lib/dev-vars.ts";
import { descendants, freePort, gone, listening, type Running, run } from "./dev-processes.ts";

const scratch = mkdtempSync(join(tmpdir(), "rushgate-dev-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Whatever a failed test left running: the command and everything it started.
const leftovers = new Set<number>();
afterAll(() => {
  for (const pid of leftovers) if (!gone(pid)) process.kill(pid, "SIGKILL");
});

async function startDev(how: "npm" | "node", name: string) {
  const ports = { worker: await freePort(), bridge: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.worker),
    BRIDGE_PORT: String(ports.bridge),
    INSPECTOR_PORT: "0",
    WORKER_STATE_DIR: join(scratch, name, "worker"),
    ARCHIVE_DIR: join(scratch, name, "archive"),
    DATABASE_URL: "",
    KAFKA_BROKERS: "",
    // Poll often, so that a line per poll would flood the output within a second.
    PULL_WAIT_MS: "100",
    DEV_REPORT_SECONDS: "1",
  };
  delete env.LOG_LEVEL;
  const dev =
    how === "npm"
      ? run("npm", ["run", "dev"], env)
      : // Its own process group, like a shell's foreground job, so a Ctrl-C can reach the group.
        run(process.execPath, ["--import", "./workers/preflight.mjs", "workers/dev.ts"], env, true);
  leftovers.add(dev.child.pid!);
  await waitFor("the dev banner", () => dev.lines.some((l) => l.startsWith("dev: rushgate is up")), 120_000);
  for (const pid of descendants(dev.child.pid!)) leftovers.add(pid);
  return { dev, ports, url: `http://127.0.0.1:${ports.worker}` };
}

async function stopsEverything(
  dev: Running,
  ports: { worker: number; bridge: number },
  signal: () => void,
): Promise<void> {
  const pids = [dev.child.pid!, ...descendants(dev.child.pid!)];
  expect(pids.length).toBeGreaterThanOrEqual(4); // at least dev, wrangler, workerd, bridge
  signal();
  await dev.exited;
  await waitFor("every process it started to exit", () => pids.every(gone), 30_000);
  expect(await listening(ports.worker)).toBe(false);
  expect(await listening(ports.bridge)).toBe(false);
  expect(dev.lines.filter((l) => l.includes('"msg":"shutting down"'))).toHaveLength(1);
}

// As the operator: `npm run dev` made .dev.vars (or found it) before it printed its banner.
const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${readDevVars().ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });

describe("npm run dev", () => {
  it("says where each part listens, prints nothing per poll, sums up deliveries, and stops on SIGTERM", async () => {
    const { dev, ports, url } = await startDev("npm", "term");
    const banner = dev.lines.join("\n");
    expect(banner).toContain(`worker    http://127.0.0.1:${ports.worker}`);
    expect(banner).toContain(`bridge    http://127.0.0.1:${ports.bridge}/healthz`);
    expect(banner).toContain(`PGlite in ${join(scratch, "term", "archive")}`);

    // Two events (created, claimed) reach the archive through the bridge's polls.
    expect((await post(`${url}/api/coupons`, { name: "DEV_QUIET", amount: 5 })).status).toBe(201);
    expect((await post(`${url}/api/coupons/claim`, { user_id: "u1", coupon_name: "DEV_QUIET" })).status).toBe(200);
    const archived = () =>
      dev.lines.reduce((n, l) => n + Number(/^dev: last 1 s: events (\d+) into the archive/.exec(l)?.[1] ?? 0), 0);
    await waitFor("a summary of the two archived events", () => archived() === 2, 60_000);

    // The bridge has been polling every 100 ms on 8 shards all along: not one of those lines shows.
    expect(dev.lines.filter((l) => l.includes("/internal/"))).toEqual([]);
    // The requests a developer makes do show, as does the summary, once per interval.
    expect(dev.lines.some((l) => /POST \/api\/coupons\/claim 200/.test(l))).toBe(true);

    // Idle for several report intervals: nothing at all.
    const before = dev.lines.length;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(dev.lines.slice(before)).toEqual([]);

    await stopsEverything(dev, ports, () => dev.child.kill("SIGTERM"));
  });

  it("stops everything on Ctrl-C (SIGINT to the whole foreground group), the bridge once", async () => {
    const { dev, ports } = await startDev("node", "int");
    await stopsEverything(dev, ports, () => process.kill(-dev.child.pid!, "SIGINT"));
  });

  it("stops everything when npm gets SIGHUP (npm exits without passing it on)", async () => {
    const { dev, ports } = await startDev("npm", "hup");
    await stopsEverything(dev, ports, () => dev.child.kill("SIGHUP"));
  });
});
