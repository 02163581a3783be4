// Shared by the browser tests: a `wrangler dev` serving the built web app, and
// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const root = new URL("../..", import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Builds web/ into web/dist, the directory wrangler.toml's [assets] serves. */
export function buildWeb(): void {
  const out = spawnSync(join(root, "node_modules/.bin/vite"), ["build", "-c", "web/vite.config.ts", "--logLevel", "warn"], {
    cwd: root,
    stdio: "inherit",
  });
  if (out.status !== 0) throw new Error(`vite build failed (${out.status})`);
}

export type Worker = { url: string; stop(): Promise<void> };

export async function startWorker(vars: Record<string, string>, persistTo: string): Promise<Worker> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistTo];
  args.push("--inspector-port", String(await freePort()), "--show-interactive-dev-session=false", "--log-level", "warn");
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child: ChildProcess = spawn(join(root, "node_modules/.bin/wrangler"), args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`);
    if (i > 240) throw new Error("wrangler dev did not come up");
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Everything that went wrong in a page: console errors, uncaught exceptions,
 * failed requests and error responses. `expect4xx` lists the error answers a
 * step provokes on purpose (e.g. a validation error), by "METHOD path status".
 */
export class Problems {
  readonly list: string[] = [];
  private readonly expected: string[] = [];

  watch(page: Page): void {
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      // Chrome logs every 4xx/5xx response as a console error; the response
      // handler below judges those, so only the rest count here.
      if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
      this.list.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => this.list.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => {
      // A socket the page closes itself while navigating away is not a failure.
      if (r.failure()?.errorText === "net::ERR_ABORTED" && r.resourceType() === "websocket") return;
      this.list.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on("response", (r) => {
      if (r.status() < 400) return;
      const what = `${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`;
      const i = this.expected.indexOf(what);
      if (i >= 0) this.expected.splice(i, 1);
      else if (!this.allowed.some((re) => re.test(what))) this.list.push(`response: ${what}`);
    });
  }

  /** Error answers to let pass wherever they come (an endpoint a merged branch has yet to add). */
  readonly allowed: RegExp[] = [];

  expect(what: string): void {
    this.expected.push(what);
  }

  /** Expected error answers that never came. */
  get missing(): string[] {
    return [...this.expected];
  }
}

const require = createRequire(import.meta.url);
const axeSource: string = require("axe-core").source;

/** axe-core's serious and critical violations on the page as it is now. */
export async function accessibility(page: Page): Promise<string[]> {
  // These callbacks run in the page; the Node project has no DOM types, hence globalThis.
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const g = globalThis as any;
    const result = await g.axe.run(g.document, { resultTypes: ["violations"] });
    return result.violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}
