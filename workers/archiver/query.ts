/**
 * `npm run archive -- "<SQL>"` or `npm run archive -- <ready query>`: a look into the
 * archive, read-only. PostgreSQL when DATABASE_URL is set (tables in ARCHIVE_SCHEMA),
 * otherwise the embedded PGlite in ARCHIVE_DIR (default .data/archive). While
 * `npm run dev` has the PGlite archive open, it queries a copy taken now, since
 * PGlite allows one process per directory. `--json` prints one JSON object per row.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { ConfigError } from "../lib/config-error.ts";
import { archiveHolder, DEFAULT_DATA_DIR } from "./archive.ts";
import { formatTable } from "./table.ts";

export const READY: Record<string, { what: string; sql: string }> = {
  "events-per-type": {
    what: "how many events of each type, first and last",
    sql: `SELECT type, count(*) AS events, min(occurred_at) AS first, max(occurred_at) AS last
          FROM events GROUP BY type ORDER BY type`,
  },
  recent: {
    what: "the 20 latest events",
    sql: `SELECT occurred_at, type, aggregate, seq, data FROM events ORDER BY occurred_at DESC, seq DESC LIMIT 20`,
  },
  "delivery-lag": {
    what: "commit → archive time per type over the last hour (ms)",
    sql: `SELECT type, count(*) AS events,
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000)::numeric) AS p50_ms,
            round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM archived_at - occurred_at)) * 1000)::numeric) AS p99_ms
          FROM events WHERE archived_at > now() - interval '1 hour' GROUP BY type ORDER BY type`,
  },
  gaps: {
    what: "aggregates whose archived seqs have holes (should be none)",
    sql: `SELECT aggregate, count(*) AS events, min(seq) AS first_seq, max(seq) AS last_seq
          FROM events WHERE aggregate NOT LIKE 'kafka:%' GROUP BY aggregate
          HAVING count(*) <> max(seq) - min(seq) + 1 ORDER BY aggregate LIMIT 100`,
  },
  coupons: {
    what: "claims per coupon",
    sql: `SELECT coupon_name, count(*) AS claims, min(remaining_amount) AS remaining, max(claimed_at) AS last_claim
          FROM coupon_claims GROUP BY coupon_name ORDER BY last_claim DESC LIMIT 50`,
  },
  campaigns: {
    what: "packets opened per campaign",
    sql: `SELECT campaign_id, count(*) AS opened, sum(amount) AS amount, max(ts) AS last_open
          FROM claim_log GROUP BY campaign_id ORDER BY last_open DESC LIMIT 50`,
  },
  bets: {
    what: "bets by status, with stakes and payouts",
    sql: `SELECT status, count(*) AS bets, sum(stake_cents) AS stake_cents, sum(payout_cents) AS payout_cents
          FROM bets GROUP BY status ORDER BY status`,
  },
  "events-per-month": {
    what: "events per month (for partitioning, docs/operations.md)",
    sql: `SELECT to_char(date_trunc('month', occurred_at), 'YYYY-MM') AS month, count(*) AS events,
            pg_size_pretty(sum(pg_column_size(data))) AS payload
          FROM events GROUP BY 1 ORDER BY 1`,
  },
};

const usage = () =>
  [
    'usage: npm run archive -- "<SQL>"          run a read-only query',
    "       npm run archive -- <name> [--json]   a ready query:",
    ...Object.entries(READY).map(([name, q]) => `         ${name.padEnd(18)} ${q.what}`),
    "The archive: PostgreSQL at DATABASE_URL (schema ARCHIVE_SCHEMA), else PGlite in ARCHIVE_DIR (.data/archive).",
  ].join("\n");

type Rows = { rows: Record<string, unknown>[]; fields: { name: string }[] };

async function onPostgres(url: string, schema: string, sql: string): Promise<Rows> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path="${schema}"` });
  await client.connect();
  try {
    await client.query("BEGIN READ ONLY");
    return await client.query(sql);
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

async function onPglite(dataDir: string, schema: string, sql: string): Promise<Rows> {
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    throw new ConfigError(
      `no archive in ${dataDir} yet: \`npm run dev\` creates it with the first events (or set ARCHIVE_DIR or DATABASE_URL)`,
    );
  }
  let dir = dataDir;
  let copy: string | undefined;
  const holder = archiveHolder(dataDir);
  if (holder) {
    copy = mkdtempSync(join(tmpdir(), "rushgate-archive-copy-"));
    cpSync(dataDir, copy, { recursive: true, filter: (src) => !src.endsWith("rushgate.pid") });
    dir = copy;
    process.stderr.write(`(process ${holder} has ${dataDir} open: querying a copy taken now)\n`);
  }
  const db = new PGlite(dir);
  try {
    await db.exec(`SET search_path TO "${schema}"; BEGIN READ ONLY`);
    const result = await db.query<Record<string, unknown>>(sql);
    await db.exec("ROLLBACK");
    return result;
  } finally {
    await db.close();
    if (copy) rmSync(copy, { recursive: true, force: true });
  }
}

export async function query(sql: string, env: NodeJS.ProcessEnv = process.env): Promise<Rows> {
  const schema = env.ARCHIVE_SCHEMA || "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ConfigError(`ARCHIVE_SCHEMA is not a schema name: ${schema}`);
  return env.DATABASE_URL
    ? onPostgres(env.DATABASE_URL, schema, sql)
    : onPglite(env.ARCHIVE_DIR || DEFAULT_DATA_DIR, schema, sql);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const wide = args.includes("--wide");
  const [what, ...extra] = args.filter((a) => a !== "--json" && a !== "--wide");
  if (!what || what === "--help" || what === "-h" || extra.length) {
    console.log(usage());
    process.exit(what && !extra.length ? 0 : 2);
  }
  const sql = READY[what]?.sql ?? what;
  if (!READY[what] && !/\s/.test(what))
    throw new ConfigError(`no ready query named ${what}: see npm run archive -- --help`);
  let result: Rows;
  try {
    result = await query(sql);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // The query's own mistake (a typo, a missing table): PostgreSQL's message is the answer.
    process.stderr.write(`rushgate: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (json) for (const row of result.rows) console.log(JSON.stringify(row));
  else
    console.log(
      formatTable(
        result.fields.map((f) => f.name),
        result.rows,
        wide ? Infinity : 60,
      ),
    );
}
