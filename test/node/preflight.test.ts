// A newcomer's first mistakes get one line saying what to do, never a stack trace:
// an old Node, and a missing or bad setting.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runToEnd } from "./dev-processes.ts";

const preflight = ["--import", "./workers/preflight.mjs"];
const stackFrame = /^\s+at /m;
const baseEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, BRIDGE_PORT: "0", ARCHIVER_PORT: "0" };
  for (const name of ["BRIDGE_TOKEN", "KAFKA_BROKERS", "LOG_LEVEL"]) delete env[name];
  return env;
};

describe("an old Node", () => {
  // This machine's system Node is 20 (the toolchain's 22 comes from the npm registry).
  const oldNode = process.env.OLD_NODE ?? "/usr/bin/node";
  const version = execFileSync(oldNode, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();

  it.each([
    ["the dev loop", "workers/dev.ts"],
    ["the bridge", "workers/kafka-bridge/index.ts"],
    ["the archiver", "workers/archiver/index.ts"],
    ["the archive query", "workers/archiver/query.ts"],
  ])("gets one line naming the Node it needs, for %s", async (_what, entry) => {
    expect(Number(version.split(".")[0]), `${oldNode} must be an old Node for this test`).toBeLessThan(22);
    const { code, lines, output } = await runToEnd(oldNode, [...preflight, entry], baseEnv());
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(output).toContain("needs Node 22.18 or newer");
    expect(output).toContain(`this is Node ${version}`);
    expect(output).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION/);
  });
});

describe("missing or bad configuration", () => {
  it("npm run bridge without BRIDGE_TOKEN says what to set, in one line with no stack", async () => {
    const { code, lines } = await runToEnd(
      process.execPath,
      [...preflight, "workers/kafka-bridge/index.ts"],
      baseEnv(),
    );
    expect(code).toBe(2);
    expect(lines).toEqual([
      expect.stringMatching(/^rushgate: BRIDGE_TOKEN is not set\. Set it to the Worker's secret/),
    ]);
    // Through npm, as a newcomer types it: npm adds its own trailer, but there is still no stack.
    const viaNpm = await runToEnd("npm", ["run", "--silent", "bridge"], baseEnv());
    expect(viaNpm.code).toBe(2);
    expect(viaNpm.output).toContain("rushgate: BRIDGE_TOKEN is not set");
    expect(viaNpm.output).not.toMatch(stackFrame);
  });

  it("a port that is not a port is named", async () => {
    const env = { ...baseEnv(), BRIDGE_TOKEN: "t", BRIDGE_PORT: "94x64" };
    const { code, lines } = await runToEnd(process.execPath, [...preflight, "workers/kafka-bridge/index.ts"], env);
    expect(code).toBe(2);
    expect(lines).toEqual(['rushgate: BRIDGE_PORT must be a port number (0–65535), not "94x64"']);
  });

  it("npm run dev names a port that is taken and the variable that moves it", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const env = { ...baseEnv(), PORT: "0", INSPECTOR_PORT: "0", BRIDGE_PORT: String(port) };
      const { code, lines } = await runToEnd(process.execPath, [...preflight, "workers/dev.ts"], env);
      expect(code).toBe(2);
      expect(lines).toEqual([
        `rushgate: port ${port} (the bridge's metrics) is in use: set BRIDGE_PORT to another port, or 0 for any free one`,
      ]);
    } finally {
      taken.close();
    }
  });

  it("the archiver without KAFKA_BROKERS says so in one line", async () => {
    const { code, lines, output } = await runToEnd(
      process.execPath,
      [...preflight, "workers/archiver/index.ts"],
      baseEnv(),
    );
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(output).toContain("KAFKA_BROKERS is not set");
    expect(output).not.toMatch(stackFrame);
  });
});
