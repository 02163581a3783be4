/**
 * The Postgres archive: PGlite in a local directory by default (the embedded
 * mode), node-postgres against a real server when a database URL is given.
 * Migrations (drizzle/migrations) are applied on open.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Envelope } from "../../src/lib/envelope.ts";
import * as schema from "../../drizzle/schema.ts";
import { events } from "../../drizzle/schema.ts";
import { ConfigError } from "../lib/config-error.ts";
import { envelopeError } from "../lib/kafka-message.ts";
import { chunksFor, project, type ArchiveDb } from "./project.ts";

export type { ArchiveDb } from "./project.ts";

export type ArchiveOptions = {
  /** postgres://… — use a real PostgreSQL server (node-postgres). */
  databaseUrl?: string;
  /** PGlite data directory when there is no databaseUrl; "memory://" keeps it in memory. */
  dataDir?: string;
  /** Postgres schema to hold the tables (and drizzle's migration journal); default public. */
  schema?: string;
  /** Another migrations folder (tests: upgrade from an older schema); default drizzle/migrations. */
  migrationsFolder?: string;
};

export type Archive = {
  /** The drizzle database, for queries. */
  db: ArchiveDb;
  /**
   * Stores envelopes idempotently in one transaction: new ones go into
   * `events` and their typed tables; ones already archived are skipped.
   * Throws on an envelope that cannot be stored (see envelopeError).
   */
  insert(envelopes: Envelope[]): Promise<{ inserted: number }>;
  /** Throws unless the database answers (`SELECT 1`). */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_DATA_DIR = ".data/archive";

/**
 * PGlite is one process's database: a second process opening the same directory
 * would corrupt it. The process that has it open leaves its pid in this file.
 */
const LOCK_FILE = "rushgate.pid";

/** The pid of another live process that has this PGlite directory open, if any. */
export function archiveHolder(dataDir: string): number | undefined {
  const file = join(dataDir, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined; // ESRCH: a stale file
  }
}

function lockArchive(dataDir: string): () => void {
  const holder = archiveHolder(dataDir);
  if (holder) {
    throw new ConfigError(
      `the archive in ${dataDir} is open in process ${holder} (npm run dev or the archiver); stop that first, or give this one its own ARCHIVE_DIR`,
    );
  }
  const file = join(dataDir, LOCK_FILE);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    if (existsSync(file) && readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file);
  };
}
const migrationsFolder = fileURLToPath(new URL("../../drizzle/migrations", import.meta.url));

export async function openArchive(opts: ArchiveOptions = {}): Promise<Archive> {
  const pgSchema = opts.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(pgSchema)) throw new Error(`invalid schema name: ${pgSchema}`);
  const migration = { migrationsFolder: opts.migrationsFolder ?? migrationsFolder, migrationsSchema: pgSchema === "public" ? "drizzle" : pgSchema };
  const useSchema = `CREATE SCHEMA IF NOT EXISTS "${pgSchema}"`;

  let db: ArchiveDb;
  let close: () => Promise<void>;
  if (opts.databaseUrl) {
    const setup = new pg.Client({ connectionString: opts.databaseUrl });
    await setup.connect();
    await setup.query(useSchema).finally(() => setup.end());
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, options: `-c search_path="${pgSchema}"` });
    // An idle connection the server dropped (a restart): the pool replaces it on
    // next use, and that query's own error is what the archiver acts on. Unheard,
    // this event would kill the process.
    pool.on("error", () => {});
    const pgDb = drizzlePg({ client: pool, schema });
    await migratePg(pgDb, migration).catch(async (e) => {
      await pool.end();
      throw e;
    });
    db = pgDb;
    close = () => pool.end();
  } else {
    const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
    const onDisk = !dataDir.includes("://");
    if (onDisk) mkdirSync(dataDir, { recursive: true });
    const unlock = onDisk ? lockArchive(dataDir) : () => {};
    const client = new PGlite(dataDir);
    await client.exec(`${useSchema}; SET search_path TO "${pgSchema}"`);
    const liteDb = drizzlePglite({ client, schema });
    await migratePglite(liteDb, migration);
    db = liteDb;
    close = () => client.close().finally(unlock);
  }

  return {
    db,
    close,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async insert(envelopes) {
      for (const e of envelopes) {
        const invalid = envelopeError(e);
        if (invalid) throw new TypeError(`cannot archive event ${JSON.stringify(e.id)}: ${invalid}`);
      }
      const seen = new Set<string>();
      const unique = envelopes.filter((e) => !seen.has(e.id) && seen.add(e.id));
      if (unique.length === 0) return { inserted: 0 };
      return db.transaction(async (tx) => {
        const fresh: Envelope[] = [];
        for (const part of chunksFor(events, unique)) {
          const rows = part.map((e) => ({
            event_id: e.id,
            type: e.type,
            aggregate: e.aggregate,
            seq: e.seq,
            occurred_at: new Date(e.time),
            data: e.data,
          }));
          const added = await tx
            .insert(events)
            .values(rows)
            .onConflictDoNothing({ target: events.event_id })
            .returning({ id: events.event_id });
          const ids = new Set(added.map((r) => r.id));
          fresh.push(...part.filter((e) => ids.has(e.id)));
        }
        await project(tx, fresh);
        return { inserted: fresh.length };
      });
    },
  };
}
