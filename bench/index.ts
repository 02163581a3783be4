// npm run bench — every benchmark in turn (bench:growth too with --growth), each
// in its own process; their tables go, with the machine, versions and date,
// into docs/performance.md between the "bench:begin" and "bench:end" markers
// (the hand-written notes around them stay).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { root } from "../workers/lib/workerd-config.ts";
import { machine } from "./lib/procs.ts";
import { databaseUrl } from "./lib/servers.ts";

const benches = ["claims", "flash-sale", "rain", "wallet", "pipeline", "offers", "feeds", "profile", ...(process.argv.includes("--growth") ? ["growth"] : [])];
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");

const version = (cmd: string, args: string[], pattern: RegExp) => {
  try {
    return pattern.exec(execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }))?.[1] ?? "?";
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return pattern.exec(`${stdout ?? ""}${stderr ?? ""}`)?.[1] ?? "?"; // wrk --version exits 1
  }
};
const pkg = (name: string) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version as string;
const pgClient = new pg.Client({ connectionString: databaseUrl });
await pgClient.connect();
const pgVersion = (await pgClient.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
await pgClient.end();

const { cpu, cores } = machine();
const started = new Date();
const load0 = loadavg()[0]!.toFixed(1);
const sections: string[] = [];
let failed = false;
const ran = benches.filter((b) => !only || only.includes(b));
for (const name of ran) {
  console.error(`\n== bench:${name}`);
  const child = spawn(process.execPath, [join(root, "bench", `${name}.ts`)], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    process.stdout.write(d);
  });
  const code = await new Promise<number>((r) => child.once("exit", (c) => r(c ?? 1)));
  if (code !== 0) failed = true;
  sections.push(code === 0 ? out.trim() : `${out.trim()}\n\n**bench:${name} exited with ${code}.**`);
}

const header = `Measured ${started.toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpu}, ${cores} cores (load average ${load0} at the start, shared with other work).
Versions: Node ${process.versions.node}, workerd ${pkg("workerd")}, wrangler ${pkg("wrangler")}, miniflare ${pkg("miniflare")}, ${version("wrk", ["--version"], /^(wrk \S+)/m)}, redis-server ${version("redis-server", ["--version"], /v=(\S+)/)}, PostgreSQL ${pgVersion}.
Load: wrk (2 threads) with a Lua script per benchmark; server CPU from /proc (utime + stime of the server processes over the run ÷ requests answered); RSS from /proc after each run.`;

// Each benchmark's section has its own markers, so a partial run (--only=…)
// replaces only its own sections and the header.
const file = join(root, "docs/performance.md");
let doc = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n";
const put = (name: string, text: string) => {
  const block = `<!-- bench:${name} -->\n${text}\n<!-- /bench:${name} -->`;
  const re = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  doc = re.test(doc) ? doc.replace(re, () => block) : `${doc.trimEnd()}\n\n${block}\n`;
};
put("header", header);
ran.forEach((name, i) => put(name, sections[i]!));
writeFileSync(file, doc);
console.error(`\nwrote ${file}`);
process.exit(failed ? 1 : 0);
