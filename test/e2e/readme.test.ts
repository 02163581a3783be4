// The README and the API docs as a newcomer uses them: `npm run dev` on a fresh
// state, then every ```sh example pasted in order, each file in its own shell.
// Each command's output must match the `# …` comment under it, so the docs
// cannot drift from the code. The rules are in ./readme-examples.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { descendants, freePort, gone, type Running, root, run } from "../node/dev-processes.ts";
import { waitFor } from "../node/helpers.ts";
import { mismatch, outputs, scriptOf, scriptOfFile } from "./readme-examples.ts";

/** In the order a reader meets them. */
const FILES = ["README.md", "docs/security.md", "docs/api/coupons.md", "docs/api/campaigns.md", "docs/api/wallets.md", "docs/api/bets.md"];

const scratch = mkdtempSync(join(tmpdir(), "rushgate-readme-"));
let dev: Running;
let host: string;
const started = new Set<number>();
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  env = {
    ...process.env,
    PORT: String(port),
    BRIDGE_PORT: "0",
    INSPECTOR_PORT: "0",
    WORKER_STATE_DIR: join(scratch, "worker"),
    ARCHIVE_DIR: join(scratch, "archive"),
    DATABASE_URL: "",
    KAFKA_BROKERS: "",
    PULL_WAIT_MS: "200",
  };
  // The examples' tokens come from .dev.vars, as `npm run dev`'s do; nothing may override them.
  for (const k of ["ADMIN_TOKEN", "JWT_SECRET", "BRIDGE_TOKEN", "JWT_ISSUER", "JWT_AUDIENCE", "LOG_LEVEL"]) delete env[k];
  dev = run("npm", ["run", "dev"], env);
  started.add(dev.child.pid!);
  await waitFor("npm run dev", () => dev.lines.some((l) => l.startsWith("dev: rushgate is up")), 150_000);
  for (const pid of descendants(dev.child.pid!)) started.add(pid);
}, 180_000);

afterAll(async () => {
  if (dev) {
    dev.child.kill("SIGTERM");
    await Promise.race([dev.exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  for (const pid of started) if (!gone(pid)) process.kill(pid, "SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

describe("the extractor", () => {
  it("checks the first comment under a command, with … as a wildcard and an optional status", () => {
    const s = scriptOf("x.md", "```sh\necho '{\"id\":\"abc\",\"n\":1}'\n# {\"id\":\"…\",\"n\":1}\n# another answer\n```\n```sh skip\nnpm run dev\n```\n", "h");
    expect(s.expectations.map((e) => e.expected)).toEqual(['{"id":"…","n":1}']);
    expect(s.text).not.toContain("npm run dev");
    expect(mismatch('{"id":"abc","n":1}\n', s.expectations[0]!.expected)).toBeNull();
    expect(mismatch('{"id":"abc","n":2}\n', s.expectations[0]!.expected)).not.toBeNull();
    expect(mismatch('HTTP/1.1 201 Created\r\nx: y\r\n\r\n{"a":1}', '201 {"a":1}')).toBeNull();
    expect(mismatch('HTTP/1.1 200 OK\r\n\r\n{"a":1}', '201 {"a":1}')).not.toBeNull();
  });
});

describe("the README's examples against npm run dev", () => {
  it.each(FILES)("%s: every example runs and prints what the document says", (file) => {
    const script = scriptOfFile(root, file, host);
    expect(script.expectations.length, `${file} has no checked examples`).toBeGreaterThan(0);
    const result = spawnSync("bash", ["-c", script.text], { cwd: root, env, encoding: "utf8", timeout: 120_000 });
    const got = outputs(result.stdout, script.expectations.length);
    const report = script.expectations.map((e, n) => {
      const out = got[n];
      const why = out === undefined ? "did not run" : mismatch(out, e.expected);
      return why && `${e.file}:${e.line}: ${e.command.split("\n")[0]}\n  expected ${e.expected}\n  ${why}`;
    });
    const failures = report.filter(Boolean);
    expect(failures, `${failures.join("\n")}\nstderr:\n${result.stderr}`).toEqual([]);
    expect(result.status, result.stderr).toBe(0);
  });
});
