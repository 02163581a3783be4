// The event contract end to end: real actors (the Worker on workerd, driven over
// HTTP) emit; the events are pulled from the relay as the bridge pulls them;
// the archiver's own code projects them; every typed table then agrees with the
// HTTP read of the same thing. No event here is written by hand.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bets, claimLog, couponClaims, events, ledgerEntries } from "../../drizzle/schema.ts";
import type { Envelope } from "../../src/lib/envelope.ts";
import { dataError, isCatalogued } from "../../src/lib/events.ts";
import { retry } from "../../src/lib/retry.ts";
import { build, startRushgate, type Runtime } from "../../bench/lib/runtime.ts";
import type { Archive } from "../../workers/archiver/archive.ts";
import { store, testArchive, waitFor } from "./helpers.ts";

const token = "contract-test-token";
const adminToken = "contract-test-admin";
const run = Date.now().toString(36);
let worker: Runtime;

async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const once = async () => {
    try {
      return await fetch(new URL(path, worker.url), {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}`, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      // workerd may close an idle keep-alive socket just as it is reused; a read may be sent again.
      throw Object.assign(new Error(`fetch ${path}: ${(err as Error).message}`), { retryable: true });
    }
  };
  const res = await retry(once, { attempts: 3, idempotent: method === "GET", baseMs: 50, maxMs: 200 });
  return { status: res.status, body: (await res.json()) as any };
}
let keys = 0;
const idem = () => ({ "idempotency-key": `${run}-${keys++}` });
const bridge = { authorization: `Bearer ${token}` };

/** Every event now in the relay, read as the bridge reads it (pull without ack). */
async function relayed(): Promise<Envelope[]> {
  const { shards } = (await http("GET", "/internal/relay", undefined, bridge)).body;
  const out: Envelope[] = [];
  for (let s = 0; s < shards; s++) {
    const { body } = await http("POST", `/internal/relay/${s}/pull`, { ack: 0, limit: 1000, wait_ms: 0 }, bridge);
    out.push(...body.entries.map((e: { event: Envelope }) => e.event));
  }
  return out;
}

const user = `bettor-${run}`;
const coupon = `CONTRACT_${run}`;
let campaignId: string;
let openers: string[];
const betIds: string[] = [];
let emitted: Envelope[];

beforeAll(async () => {
  build();
  worker = await startRushgate({ BRIDGE_TOKEN: token, ADMIN_TOKEN: adminToken });

  // Coupons.
  expect((await http("POST", "/api/coupons", { name: coupon, amount: 3 })).status).toBe(201);
  for (const u of ["a", "b"]) expect((await http("POST", "/api/coupons/claim", { coupon_name: coupon, user_id: u })).status).toBe(200);

  // A red-packet campaign on two shards.
  const hour = 3_600_000;
  const created = await http("POST", "/api/campaigns", {
    name: "Contract",
    start_time: new Date(Date.now() - hour).toISOString(),
    end_time: new Date(Date.now() + hour).toISOString(),
    inventory: { "20": 2, "5": 2 },
    shards: 2,
  });
  expect(created.status).toBe(201);
  campaignId = created.body.id;
  openers = ["p1", "p2", "p3"];
  for (const u of openers) expect((await http("POST", `/api/campaigns/${campaignId}/open`, { user_id: u })).status).toBe(200);

  // Every kind of wallet movement.
  const w = `/api/wallets/${user}`;
  expect((await http("POST", `${w}/deposits`, { amount_cents: 10_000 }, idem())).status).toBe(201);
  expect((await http("POST", `${w}/withdrawals`, { amount_cents: 2500 }, idem())).status).toBe(201);
  const hold = (await http("POST", `${w}/holds`, { amount_cents: 1000, ref: "order-1" }, idem())).body.hold_id;
  expect((await http("POST", `${w}/holds/${hold}/capture`, { amount_cents: 600 }, idem())).status).toBe(200);
  const hold2 = (await http("POST", `${w}/holds`, { amount_cents: 300 }, idem())).body.hold_id;
  expect((await http("POST", `${w}/holds/${hold2}/release`, undefined, idem())).status).toBe(200);
  for (const [i, [stake, odds]] of [[400, 1.5], [200, "2"], [100, 3], [100, 4]].entries()) {
    const bet = { user_id: user, event_id: `match-${i}`, market: "1X2", selection: "HOME", stake_cents: stake, odd_value: odds };
    const res = await http("POST", "/api/bets", bet, idem());
    expect(res.status).toBe(201);
    betIds.push(res.body.bet_id);
  }
  for (const [i, result] of (["WON", "LOST", "VOID"] as const).entries()) {
    expect((await http("POST", `/api/bets/${betIds[i]}/settle`, { result }, idem())).status).toBe(200);
  }
  // Bonus credits have no HTTP route yet (the offers engine calls the RPC).
  const wallets = await worker.miniflare.getDurableObjectNamespace("WALLET");
  type BonusRpc = { creditBonus(award: string, cents: number, ref: string): Promise<{ ok: boolean }> };
  const stub = wallets.get(wallets.idFromName(user)) as unknown as BonusRpc;
  expect((await stub.creditBonus(`award-${run}`, 300, "offer-1")).ok).toBe(true);
  // The last movement, so its arrival means all of the wallet's events arrived (outboxes deliver in order).
  expect((await http("POST", `${w}/deposits`, { amount_cents: 1 }, idem())).status).toBe(201);

  const arrived = (all: Envelope[]) =>
    all.filter((e) => e.aggregate === `wallet:${user}`).at(-1)?.type === "wallet.deposited" &&
    all.filter((e) => e.aggregate === `wallet:${user}`).length > 2 &&
    all.filter((e) => e.aggregate === `coupon:${coupon}`).length === 3 &&
    all.filter((e) => e.type === "campaign.packet_opened" && e.aggregate.startsWith(`campaign:${campaignId}/`)).length === 3;
  await waitFor("the actors' events to reach the relay", async () => arrived((emitted = await relayed())));
  emitted.sort((a, b) => a.aggregate.localeCompare(b.aggregate) || a.seq - b.seq);
}, 180_000);

afterAll(async () => {
  await (await shared)?.cleanup();
  await worker?.stop();
});

/** An archive holding exactly the emitted events, projected by the archiver's code (opened once). */
let shared: Promise<{ archive: Archive; cleanup(): Promise<void> }> | undefined;
async function archived(): Promise<{ archive: Archive; done(): Promise<void> }> {
  shared ??= (async () => {
    const target = testArchive();
    const archive = await target.open();
    await archive.insert(emitted);
    return { archive, cleanup: async () => (await archive.close(), await target.cleanup()) };
  })();
  return { archive: (await shared).archive, done: async () => {} };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** GET /ledger, oldest first, as archive rows. */
async function httpLedger() {
  const { body } = await http("GET", `/api/wallets/${user}/ledger?limit=1000`);
  return [...body.entries].reverse().map((e: any) => ({
    user_id: user,
    entry_id: e.id,
    ledger_seq: e.seq,
    kind: e.kind,
    balance: e.balance,
    amount_cents: e.amount_cents,
    balance_after_cents: e.balance_after_cents,
    ref: e.ref,
    created_at: e.created_at,
  }));
}

const ledgerRows = (archive: Archive) =>
  archive.db.select().from(ledgerEntries).where(eq(ledgerEntries.user_id, user)).orderBy(asc(ledgerEntries.ledger_seq));

describe(`event contract: real actors → relay → archive (${store})`, () => {
  it("every event is catalogued, has its catalogued shape, and its *_at fields are the envelope's time", () => {
    expect(emitted.length).toBeGreaterThan(20);
    for (const e of emitted) {
      expect(isCatalogued(e.type), e.type).toBe(true);
      expect(dataError(e.type, e.data), `${e.id} ${e.type}`).toBeUndefined();
      const data = e.data as Record<string, unknown>;
      for (const [field, value] of Object.entries(data)) {
        if (field.endsWith("_at")) expect(value, `${e.type}.${field}`).toBe(e.time);
      }
      if (e.type === "bet.placed") expect(data.ts).toBe(Date.parse(e.time));
      if (e.type === "campaign.packet_opened") expect(data.ts).toBe(e.time);
      if (data.entry) expect((data.entry as { created_at: string }).created_at).toBe(e.time);
    }
  });

  it("ledger_entries equals GET /ledger: the same entries, ids, kinds, signs and balances after", async () => {
    const { archive, done } = await archived();
    try {
      const rows = await ledgerRows(archive);
      const http = await httpLedger();
      expect(http.map((e) => e.kind)).toEqual(["DEPOSIT", "WITHDRAWAL", "CAPTURE", "CAPTURE", "WINNINGS", "CAPTURE", "BONUS_CREDIT", "DEPOSIT"]);
      expect(http.find((e) => e.kind === "WITHDRAWAL")!.amount_cents).toBe(-2500);
      expect(rows.map(({ event_id: _, ...r }) => ({ ...r, created_at: iso(r.created_at) }))).toEqual(http);
      for (const r of rows) {
        for (const [column, value] of Object.entries(r)) if (column !== "ref") expect(value, column).not.toBeNull();
      }
    } finally {
      await done();
    }
  });

  it("coupon_claims agrees with GET /api/coupons/{name}", async () => {
    const { archive, done } = await archived();
    try {
      const { body } = await http("GET", `/api/coupons/${coupon}`);
      const rows = await archive.db.select().from(couponClaims).where(eq(couponClaims.coupon_name, coupon));
      rows.sort((a, b) => b.remaining_amount! - a.remaining_amount!);
      expect(rows.map((r) => r.user_id)).toEqual(body.claimed_by);
      expect(rows.map((r) => r.remaining_amount)).toEqual(body.claimed_by.map((_: string, i: number) => body.amount - i - 1));
      expect(rows.at(-1)!.remaining_amount).toBe(body.remaining_amount);
      for (const r of rows) for (const [column, value] of Object.entries(r)) expect(value, column).not.toBeNull();
    } finally {
      await done();
    }
  });

  it("claim_log agrees with GET /api/campaigns/{id}/openings/{user}", async () => {
    const { archive, done } = await archived();
    try {
      const rows = await archive.db.select().from(claimLog).where(eq(claimLog.campaign_id, campaignId));
      expect(rows.map((r) => r.user_id).sort()).toEqual([...openers].sort());
      for (const r of rows) {
        const { body } = await http("GET", `/api/campaigns/${campaignId}/openings/${r.user_id}`);
        expect({ campaign_id: r.campaign_id, user_id: r.user_id, amount: r.amount, shard: r.shard, opened_at: iso(r.ts) }).toEqual(body);
      }
    } finally {
      await done();
    }
  });

  it("bets agrees with GET /api/bets/{id}, placed and settled", async () => {
    const { archive, done } = await archived();
    try {
      const { currency } = (await http("GET", `/api/wallets/${user}`)).body;
      const rows = await archive.db.select().from(bets).where(inArray(bets.bet_id, betIds));
      expect(rows).toHaveLength(betIds.length);
      for (const r of rows) {
        const { body } = await http("GET", `/api/bets/${r.bet_id}`);
        const settled = body.status !== "ACCEPTED";
        expect({
          ...r,
          odd_value: Number(r.odd_value),
          placed_at: iso(r.placed_at),
          settled_at: iso(r.settled_at),
        }).toEqual({
          bet_id: body.bet_id,
          user_id: body.user_id,
          event_ref: body.event_id,
          market: body.market,
          selection: body.selection,
          stake_cents: body.stake_cents,
          currency,
          odd_value: body.odd_value,
          potential_win_cents: body.potential_win_cents,
          status: settled ? "settled" : "placed",
          result: settled ? body.status : null,
          payout_cents: body.payout_cents,
          placed_at: body.placed_at,
          settled_at: body.settled_at,
          placed_event_id: expect.stringMatching(new RegExp(`^wallet:${user}:\\d+$`)),
          settled_event_id: settled ? expect.stringMatching(/^wallet:/) : null,
        });
      }
    } finally {
      await done();
    }
  });

  it("migration 0001 corrects ledger rows an older archiver wrote", async () => {
    // The archive as it was before 0001, with the rows the old projection wrote
    // for these same events (every wallet.* event; kind = the type's suffix;
    // unsigned amount; no entry id, no balance after).
    const folder = mkdtempSync(join(tmpdir(), "rushgate-migrations-"));
    const real = new URL("../../drizzle/migrations", import.meta.url).pathname;
    cpSync(real, folder, { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, "meta/_journal.json"), "utf8"));
    journal.entries = journal.entries.slice(0, 1);
    writeFileSync(join(folder, "meta/_journal.json"), JSON.stringify(journal));
    const target = testArchive();
    const old = await target.open(folder);
    try {
      const mine = emitted.filter((e) => e.aggregate === `wallet:${user}`);
      await old.db.insert(events).values(
        mine.map((e) => ({ event_id: e.id, type: e.type, aggregate: e.aggregate, seq: e.seq, occurred_at: new Date(e.time), data: e.data })),
      );
      const wallet = mine.filter((e) => e.type.startsWith("wallet."));
      // Only the columns 0000 had (ledger_seq and balance do not exist yet).
      for (const e of wallet) {
        const d = e.data as Record<string, any>;
        await old.db.execute(sql.raw(
          `INSERT INTO ledger_entries (event_id, user_id, entry_id, kind, amount_cents, balance_after_cents, ref, created_at)
           VALUES ('${e.id}', '${d.user_id}', NULL, '${e.type.slice("wallet.".length)}', ${d.amount_cents}, NULL,
                   ${d.ref ? `'${d.ref}'` : "NULL"}, '${e.time}')`,
        ));
      }
      await old.close();
      const upgraded = await target.open();
      try {
        const rows = await ledgerRows(upgraded);
        const http = await httpLedger();
        // Everything but the entry id, which the wallet did not emit before (and the
        // bonus credit's ref, not in its old event): see the migration's comment.
        expect(rows.map(({ event_id: _, ...r }) => ({ ...r, created_at: iso(r.created_at) }))).toEqual(
          http.map((e) => ({ ...e, entry_id: null, ref: e.kind === "BONUS_CREDIT" ? null : e.ref })),
        );
      } finally {
        await upgraded.close();
      }
    } finally {
      await target.cleanup();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
