// The container images, as far as this machine can check them without a Docker
// engine: the Dockerfile is linted (dockerfile-utils) and held to the rules in
// docs/operations.md; compose.yaml agrees with it; and each image's own entry
// command (tini + node, from ENTRYPOINT and CMD) runs here as a plain process with
// the image's environment, passes its own HEALTHCHECK command, and stops cleanly
// on SIGTERM. Not checked here: building the images, the base image, apt's tini.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { build, type Runtime, startRushgate } from "../../bench/lib/runtime.ts";
import { type KafkaHandle, startKafka } from "../../workers/lib/mock-kafka.ts";
import { databaseUrl } from "./helpers.ts";
import { descendants, freePort, gone, root, run, runToEnd } from "./dev-processes.ts";

const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };

type Stage = { name: string; from: string; instructions: Instruction[] };
const stages: Stage[] = [];
for (const instruction of DockerfileParser.parse(dockerfile).getInstructions()) {
  if (instruction.getKeyword() === "FROM") {
    const [from = "", , name = ""] = instruction.getArguments().map((a) => a.getValue());
    stages.push({ name, from, instructions: [] });
  } else stages.at(-1)?.instructions.push(instruction);
}
/** A stage's instructions with those of the stages it builds on, oldest first. */
function chain(name: string): Instruction[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) return [];
  return [...chain(stage.from), ...stage.instructions];
}
const last = (name: string, keyword: string) => chain(name).findLast((i) => i.getKeyword() === keyword);
const jsonArgs = (i: Instruction | undefined) => (i ? (JSON.parse(i.getArgumentsContent() ?? "[]") as string[]) : []);
/** ENV of a stage and its ancestors (KEY=value pairs). */
function envOf(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of chain(name).filter((i) => i.getKeyword() === "ENV")) {
    for (const pair of (i.getArgumentsContent() ?? "").split(/\s+/)) {
      const [key, ...value] = pair.split("=");
      if (key) env[key] = value.join("=");
    }
  }
  return env;
}
const healthcheckCommand = (name: string) => {
  const content = last(name, "HEALTHCHECK")?.getArgumentsContent() ?? "";
  return JSON.parse(content.slice(content.indexOf("CMD") + 3).trim()) as string[];
};
const targets = ["bridge", "archiver"] as const;

describe("Dockerfile", () => {
  it("passes dockerfile-utils' validation with no diagnostics", () => {
    expect(validate(dockerfile)).toEqual([]);
  });

  it("is multi-stage, installs production dependencies from the lockfile in a stage of their own", () => {
    expect(stages.map((s) => s.name)).toEqual(["deps", "base", "bridge", "archiver"]);
    const deps = stages[0]!.instructions.map((i) => `${i.getKeyword()} ${i.getArgumentsContent()}`);
    expect(deps).toContain("COPY package.json package-lock.json ./");
    expect(deps.some((d) => /^RUN npm ci --omit=dev\b/.test(d))).toBe(true);
    // The runtime stages take node_modules from there, and never run npm install themselves.
    expect(chain("bridge").some((i) => i.getKeyword() === "COPY" && /--from=deps/.test(i.getTextContent()))).toBe(true);
    expect(
      chain("bridge").some((i) => i.getKeyword() === "RUN" && /npm (i|install)\b/.test(i.getArgumentsContent() ?? "")),
    ).toBe(false);
  });

  it.each(targets)("%s: runs as a non-root user, under tini, with a HEALTHCHECK on /healthz", (target) => {
    expect(last(target, "USER")?.getArgumentsContent()).toMatch(/^(?!root$|0$)\w+$/);
    expect(jsonArgs(last(target, "ENTRYPOINT"))).toEqual(["/usr/bin/tini", "--"]);
    expect(
      chain(target).some(
        (i) => i.getKeyword() === "RUN" && /apt-get install .*\btini\b/.test(i.getArgumentsContent() ?? ""),
      ),
    ).toBe(true);
    expect(healthcheckCommand(target).slice(0, 2)).toEqual(["node", "workers/healthcheck.mjs"]);
    expect(readFileSync(join(root, "workers/healthcheck.mjs"), "utf8")).toContain("/healthz");
    // CMD is exec form (no shell between tini and node) and goes through the preflight.
    expect(jsonArgs(last(target, "CMD")).slice(0, 3)).toEqual(["node", "--import", "./workers/preflight.mjs"]);
  });

  it("bakes no configuration that is secret or per deployment, and keeps secrets out of the context", () => {
    for (const i of stages.flatMap((s) => s.instructions)) {
      if (i.getKeyword() === "ENV" || i.getKeyword() === "ARG") {
        expect(i.getArgumentsContent()).not.toMatch(/TOKEN|SECRET|PASSWORD|DATABASE_URL|KAFKA_BROKERS|WORKER_URL/);
      }
      if (i.getKeyword() === "COPY") expect(i.getArgumentsContent()).not.toMatch(/^\.\s|\.dev\.vars|\.env/);
    }
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
    for (const entry of [".dev.vars", "node_modules", ".data", ".wrangler", ".git"]) expect(ignored).toContain(entry);
  });

  it("copies every file the services import, and they import only production dependencies", () => {
    const copied = chain("bridge")
      .filter((i) => i.getKeyword() === "COPY" && !/--from/.test(i.getTextContent()))
      .map((i) => i.getArguments()[0]!.getValue());
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir)).flatMap((f) =>
        statSync(join(root, dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)],
      );
    // From the two entry points, follow relative imports; collect the packages.
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      expect(
        copied.some((c) => file === c || file.startsWith(`${c}/`)),
        `${file} is not copied into the image`,
      ).toBe(true);
      const source = readFileSync(join(root, file), "utf8");
      for (const [, typeOnly, spec] of source.matchAll(/^import (type )?[^"']*?from ["']([^"']+)["']/gm)) {
        if (typeOnly || !spec) continue;
        if (spec.startsWith(".")) visit(join(dirname(file), spec));
        else if (!spec.startsWith("node:"))
          packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
      }
    };
    for (const target of targets) visit(jsonArgs(last(target, "CMD")).at(-1)!);
    visit("workers/preflight.mjs");
    visit("workers/healthcheck.mjs");
    expect(seen.size).toBeGreaterThan(10);
    expect(files("drizzle/migrations").length).toBeGreaterThan(0); // applied when the archive opens
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});

describe("compose.yaml", () => {
  const compose = parseYaml(readFileSync(join(root, "compose.yaml"), "utf8")) as {
    services: Record<string, { build?: { target: string }; environment?: Record<string, string>; depends_on?: object }>;
  };

  it("runs a Kafka broker, PostgreSQL and both images, configured only from the environment", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["archiver", "bridge", "postgres", "redpanda"]);
    expect(compose.services.bridge?.build?.target).toBe("bridge");
    expect(compose.services.archiver?.build?.target).toBe("archiver");
    expect(compose.services.bridge?.environment?.BRIDGE_TOKEN).toMatch(/^\$\{BRIDGE_TOKEN:\?/); // required, never a default
    expect(compose.services.bridge?.environment?.KAFKA_BROKERS).toBe("redpanda:9092");
    expect(compose.services.archiver?.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(Object.keys(compose.services.archiver?.depends_on ?? {}).sort()).toEqual(["postgres", "redpanda"]);
  });
});

describe("each image's entry command, as a plain process with the image's environment", () => {
  let kafka: KafkaHandle;
  let worker: Runtime;
  const token = "container-test-token";
  const schema = `container_${process.pid}_${Date.now().toString(36)}`;
  const scratch = mkdtempSync(join(tmpdir(), "rushgate-container-"));
  // node as the image has it: first on the PATH.
  const path = `${dirname(process.execPath)}:${process.env.PATH}`;

  beforeAll(async () => {
    build();
    [kafka, worker] = await Promise.all([startKafka(), startRushgate({ BRIDGE_TOKEN: token })]);
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await kafka?.stop();
    rmSync(scratch, { recursive: true, force: true });
    if (!databaseUrl) return;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
  });

  it.each(targets)("%s: healthy by its own HEALTHCHECK, exits 0 on SIGTERM through tini", async (target) => {
    const portVariable = target === "bridge" ? "BRIDGE_PORT" : "ARCHIVER_PORT";
    const image = envOf(target);
    expect(image[portVariable]).toMatch(/^\d+$/);
    const env: NodeJS.ProcessEnv = {
      PATH: path,
      ...image,
      // What `docker run -e` would add (the mock cluster cannot be idempotent), and a free port.
      [portVariable]: String(await freePort()),
      KAFKA_BROKERS: kafka.brokers.join(","),
      KAFKA_IDEMPOTENT: String(kafka.idempotent),
      ...(target === "bridge"
        ? { BRIDGE_TOKEN: token, WORKER_URL: worker.url.href, BRIDGE_GROUP_ID: `container-${schema}` }
        : { ARCHIVER_GROUP_ID: `container-${schema}` }),
      // The archive: the test's PostgreSQL, or PGlite in a temp dir instead of the image's /data volume.
      ...(databaseUrl
        ? { DATABASE_URL: databaseUrl, ARCHIVE_SCHEMA: schema }
        : { ARCHIVE_DIR: join(scratch, "archive") }),
    };
    const healthcheck = () => runToEnd(healthcheckCommand(target)[0]!, healthcheckCommand(target).slice(1), env);
    expect((await healthcheck()).code).toBe(1); // nothing there yet

    const command = [...jsonArgs(last(target, "ENTRYPOINT")), ...jsonArgs(last(target, "CMD"))];
    const service = run(command[0]!, command.slice(1), env);
    try {
      let health = await healthcheck();
      for (let i = 0; health.code !== 0 && i < 120 && service.child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 500));
        health = await healthcheck();
      }
      expect(health.code, service.lines.join("\n")).toBe(0);
      expect(health.output).toMatch(/^200 \{"status":"ok"/);

      const nodePid = descendants(service.child.pid!);
      expect(nodePid.length).toBeGreaterThanOrEqual(1); // tini → node
      service.child.kill("SIGTERM");
      expect(await service.exited).toEqual({ code: 0, signal: null });
      expect(nodePid.every(gone)).toBe(true);
      expect(service.lines.filter((l) => l.includes('"msg":"shutting down"'))).toHaveLength(1);
    } finally {
      if (service.child.exitCode === null) service.child.kill("SIGKILL");
    }
  });
});
