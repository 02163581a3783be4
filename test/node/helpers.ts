import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { sql } from "drizzle-orm";
import { openArchive, type Archive } from "../../workers/archiver/archive.ts";
import type { Envelope, Json } from "../../src/lib/envelope.ts";
import type { EventData, EventType } from "../../src/lib/events.ts";
import { bets, claimLog, couponClaims, events, ledgerEntries } from "../../drizzle/schema.ts";

/** Real PostgreSQL when DATABASE_URL is set, PGlite otherwise. */
export const databaseUrl = process.env.DATABASE_URL || undefined;
export const store = databaseUrl ? "postgres" : "pglite";

/**
 * A fresh archive: on Postgres in a schema of its own (dropped by cleanup), on
 * PGlite in a temp directory. open() may be called again to reopen the same one.
 */
export function testArchive(): {
  schema: string;
  dataDir?: string;
  open(migrationsFolder?: string): Promise<Archive>;
  cleanup(): Promise<void>;
} {
  const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), "rushgate-archive-"));
  return {
    schema,
    dataDir,
    open: (migrationsFolder?: string) => openArchive({ databaseUrl, dataDir, schema, migrationsFolder }),
    async cleanup() {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (!databaseUrl) return;
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
    },
  };
}

const TABLES = { events, coupon_claims: couponClaims, claim_log: claimLog, ledger_entries: ledgerEntries, bets };

/** Row counts of every archive table. */
export async function counts(archive: Archive): Promise<Record<keyof typeof TABLES, number>> {
  const entries = Object.entries(TABLES).map(async ([name, table]) => [name, await archive.db.$count(table)] as const);
  return Object.fromEntries(await Promise.all(entries)) as Record<keyof typeof TABLES, number>;
}

export async function truncate(archive: Archive): Promise<void> {
  await archive.db.execute(sql.raw(`TRUNCATE ${Object.keys(TABLES).join(", ")}`));
}

const T0 = Date.parse("2026-11-22T03:00:00.000Z");

/** An envelope as an actor would emit it: id = `${aggregate}:${seq}`. */
export function envelope(aggregate: string, seq: number, type: string, data: Json): Envelope {
  return { id: `${aggregate}:${seq}`, type, aggregate, seq, time: new Date(T0 + seq * 1000).toISOString(), data };
}

/** An envelope of a catalogued type: its data must have the catalogue's shape (compile-time checked). */
export const event = <T extends EventType>(aggregate: string, seq: number, type: T, data: EventData<T>): Envelope =>
  envelope(aggregate, seq, type, data as Json);

/** `n` events of every projected type (n of each), spread over a few aggregates. */
export function mixedEvents(n: number, tag = "a"): Envelope[] {
  const out: Envelope[] = [];
  for (let i = 1; i <= n; i++) {
    const ts = new Date(T0 + i * 1000).toISOString();
    const user = `${tag}-user-${i}`;
    out.push(
      event(`coupon:${tag}-C${i % 3}`, i, "coupon.claimed", {
        coupon_name: `${tag}-C${i % 3}`, user_id: user, seq: i, remaining_amount: 1000 - i, claimed_at: ts,
      }),
      event(`campaign:${tag}-R/${i % 2}`, i, "campaign.packet_opened", {
        campaign_id: `${tag}-R`, user_id: user, amount: 50 + i, shard: i % 2, ts,
      }),
      event(`wallet:${user}`, 1, "wallet.deposited", {
        user_id: user, currency: "GBP", amount_cents: 10_000, ledger_seq: 1,
        entry: { id: `${user}-e1`, seq: 1, kind: "DEPOSIT", balance: "cash", amount_cents: 10_000, balance_after_cents: 10_000, ref: null, created_at: ts },
        cash_posted_cents: 10_000, cash_held_cents: 0, bonus_posted_cents: 0, updated_at: ts,
      }),
      event(`wallet:${user}`, 2, "bet.placed", {
        eventId: `match-${i % 4}`, ts: T0 + i * 1000, userId: user, market: "1X2", stake: 250, currency: "EUR",
        bet_id: `${tag}-B${i}`, selection: "home", odd_value: "1.85", potential_win_cents: 462,
      }),
    );
  }
  return out;
}

/** Polls until `done()` holds; the deadline is only an upper bound, never the verdict. */
export async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
