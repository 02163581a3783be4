// `npm run archive`: read-only queries and the ready ones, on PostgreSQL when
// DATABASE_URL is set and on the embedded PGlite; and a look into a PGlite archive
// that another process has open (it must query a copy, never open it twice).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Envelope } from "../../src/lib/envelope.ts";
import { type Archive, openArchive } from "../../workers/archiver/archive.ts";
import { READY } from "../../workers/archiver/query.ts";
import { databaseUrl, mixedEvents, store } from "./helpers.ts";
import { runToEnd } from "./dev-processes.ts";

const scratch = mkdtempSync(join(tmpdir(), "rushgate-archive-query-"));
const schema = `query_${process.pid}_${Date.now().toString(36)}`;
const target = databaseUrl
  ? { DATABASE_URL: databaseUrl, ARCHIVE_SCHEMA: schema, ARCHIVE_DIR: "" }
  : { DATABASE_URL: "", ARCHIVE_SCHEMA: "", ARCHIVE_DIR: join(scratch, "archive") };
const stored = mixedEvents(7, "q");

const archive = (env: Record<string, string>, ...args: string[]) =>
  runToEnd(process.execPath, ["--import", "./workers/preflight.mjs", "workers/archiver/query.ts", ...args], {
    ...process.env,
    ...env,
  });

/** How many envelopes of each type, as the ready query should count them. */
const perType = (envelopes: Envelope[]) =>
  envelopes.reduce((m, e) => m.set(e.type, (m.get(e.type) ?? 0) + 1), new Map<string, number>());

beforeAll(async () => {
  const a = await openArchive({ databaseUrl, dataDir: target.ARCHIVE_DIR, schema: target.ARCHIVE_SCHEMA || undefined });
  await a.insert(stored);
  await a.close();
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  if (!databaseUrl) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
});

describe(`npm run archive (${store})`, () => {
  it("counts events per type as a table", async () => {
    const { code, output } = await runToEnd("npm", ["run", "--silent", "archive", "--", "events-per-type"], {
      ...process.env,
      ...target,
    });
    expect(code).toBe(0);
    const lines = output.split("\n");
    expect(lines[0]).toMatch(/^type\s+\| events \| first\s+\| last$/);
    for (const [type, n] of perType(stored)) {
      expect(lines.some((l) => new RegExp(`^${type.replace(".", "\\.")}\\s+\\|\\s+${n} \\|`).test(l))).toBe(true);
    }
    expect(lines.at(-1)).toBe(`(${perType(stored).size} rows)`);
  });

  it("runs any SQL, read-only, and prints JSON rows with --json", async () => {
    const count = await archive(
      target,
      "SELECT count(*)::int AS n, count(DISTINCT aggregate)::int AS aggregates FROM events",
      "--json",
    );
    expect(count.code).toBe(0);
    expect(JSON.parse(count.output)).toEqual({
      n: stored.length,
      aggregates: new Set(stored.map((e) => e.aggregate)).size,
    });

    const refused = await archive(target, "DELETE FROM events");
    expect(refused.code).toBe(1);
    expect(refused.lines).toEqual(["rushgate: cannot execute DELETE in a read-only transaction"]);
    expect(JSON.parse((await archive(target, "SELECT count(*)::int AS n FROM events", "--json")).output).n).toBe(
      stored.length,
    );
  });

  it.each(Object.keys(READY))("ready query %s runs", async (name) => {
    const { code, output } = await archive(target, name);
    expect(output).not.toMatch(/^rushgate:/m);
    expect(code).toBe(0);
    expect(output).toMatch(/\(\d+ rows?\)$/);
  });

  it("says what to do with an unknown name or an archive that is not there", async () => {
    const unknown = await archive(target, "events-by-tpye");
    expect([unknown.code, unknown.lines]).toEqual([
      2,
      ["rushgate: no ready query named events-by-tpye: see npm run archive -- --help"],
    ]);
    const missing = await archive({ DATABASE_URL: "", ARCHIVE_DIR: join(scratch, "nothing") }, "recent");
    expect(missing.code).toBe(2);
    expect(missing.lines).toEqual([
      expect.stringMatching(/^rushgate: no archive in .*nothing yet: `npm run dev` creates it/),
    ]);
  });
});

describe("an embedded archive another process has open", () => {
  const dataDir = join(scratch, "live");
  let live: Archive;
  beforeAll(async () => {
    live = await openArchive({ dataDir });
    await live.insert(mixedEvents(3, "live"));
  });
  afterAll(() => live?.close());

  it("is queried through a copy, and cannot be opened by a second writer", async () => {
    const { code, lines } = await archive(
      { DATABASE_URL: "", ARCHIVE_DIR: dataDir },
      "SELECT count(*)::int AS n FROM events",
      "--json",
    );
    expect(code).toBe(0);
    expect(lines).toEqual([`(process ${process.pid} has ${dataDir} open: querying a copy taken now)`, '{"n":12}']);

    const second = await runToEnd(
      process.execPath,
      ["--import", "./workers/preflight.mjs", "workers/archiver/index.ts"],
      { ...process.env, KAFKA_BROKERS: "127.0.0.1:1", DATABASE_URL: "", ARCHIVE_DIR: dataDir, ARCHIVER_PORT: "0" },
    );
    expect(second.code).toBe(2);
    expect(second.lines).toEqual([
      `rushgate: the archive in ${dataDir} is open in process ${process.pid} (npm run dev or the archiver); stop that first, or give this one its own ARCHIVE_DIR`,
    ]);
  });
});
