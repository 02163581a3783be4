// The real thing: `wrangler dev`, the Kafka bridge and the archiver as separate
// processes, librdkafka's mock cluster (or KAFKA_BROKERS), and PostgreSQL
// (DATABASE_URL) or PGlite. Claims and bets go in over HTTP; the bridge and the
// archiver are SIGKILLed mid-stream and restarted; every event must reach Kafka
// and the archive, and the archive must hold each exactly once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openArchive } from "../../workers/archiver/archive.ts";
import { bets, couponClaims, events, offerAwards } from "../../drizzle/schema.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { consumeUntil, headerOf, produce, waitForZeroLag, type Seen } from "../node/kafka-helpers.ts";

const root = new URL("../..", import.meta.url).pathname;
const run = `e2e${Date.now().toString(36)}`;
const token = `token-${run}`;
const adminToken = `admin-${run}`;
const scratch = mkdtempSync(join(tmpdir(), "rushgate-e2e-"));
const archiveDir = join(scratch, "archive");
const archiveSchema = run; // isolates this run's tables on a shared PostgreSQL
const archivedTopics = ["coupon.events", "campaign.events", "wallet.events", "bet.events", "offer.events", "events.bet_placed"];

let kafka: KafkaHandle;
let workerUrl: string;
const procs = new Map<string, ChildProcess>();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(name: string, args: string[], env: Record<string, string>) {
  const child = spawn(args[0]!, args.slice(1), {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  procs.set(name, child);
  return child;
}

/** Stops a process; its exit code, or the signal that ended it. */
async function stop(name: string, signal: NodeJS.Signals): Promise<number | string | null> {
  const child = procs.get(name)!;
  procs.delete(name);
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | string | null>((r) => child.once("exit", (code, sig) => r(code ?? sig)));
  child.kill(signal);
  return exited;
}

const bridgeEnv = () => ({
  ...kafka.groupEnv,
  WORKER_URL: workerUrl,
  BRIDGE_TOKEN: token,
  KAFKA_BROKERS: kafka.brokers.join(","),
  KAFKA_IDEMPOTENT: String(kafka.idempotent),
  BRIDGE_GROUP_ID: `bridge-${run}`,
  BRIDGE_PORT: "0",
  PULL_WAIT_MS: "500",
});
const archiverEnv = () => ({
  ...kafka.groupEnv,
  KAFKA_BROKERS: kafka.brokers.join(","),
  ARCHIVER_GROUP_ID: `archiver-${run}`,
  ARCHIVE_DIR: archiveDir,
  ARCHIVE_SCHEMA: archiveSchema,
  ARCHIVER_PORT: "0",
  DATABASE_URL: process.env.DATABASE_URL ?? "",
});
const startBridge = () => start("bridge", [process.execPath, "workers/kafka-bridge/index.ts"], bridgeEnv());
const startArchiver = () => start("archiver", [process.execPath, "workers/archiver/index.ts"], archiverEnv());

async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(workerUrl + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  kafka = await startKafka();
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  start(
    "worker",
    [
      join(root, "node_modules/.bin/wrangler"),
      "dev",
      "--port", String(port),
      "--ip", "127.0.0.1",
      "--var", `BRIDGE_TOKEN:${token}`,
      "--var", `ADMIN_TOKEN:${adminToken}`,
      // Short stake windows, so the offers engine closes them within the test (real
      // alarms); the lateness leaves the bridge 20 s to deliver the bets first.
      "--var", "WINDOW_SECONDS:5",
      "--var", "ALLOWED_LATENESS_SECONDS:20",
      "--persist-to", join(scratch, "worker-state"),
      "--inspector-port", String(await freePort()),
      "--show-interactive-dev-session=false",
      "--log-level", "warn",
    ],
    {},
  );
  for (let i = 0; ; i++) {
    const up = await fetch(`${workerUrl}/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 240) throw new Error("wrangler dev did not come up");
    await new Promise((r) => setTimeout(r, 250));
  }
  startBridge();
  startArchiver();
}, 120_000);

afterAll(async () => {
  for (const name of [...procs.keys()].reverse()) await stop(name, "SIGTERM"); // the Worker last
  await kafka?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("end to end: actors → relay → bridge → Kafka → archiver → PostgreSQL", () => {
  it("delivers every claim and bet event, through SIGKILLs of the bridge and the archiver, exactly once into the archive", async () => {
    const coupon = `E2E_${run}`;
    const user = `bettor-${run}`;
    const claims = 300;
    expect((await http("POST", "/api/coupons", { name: coupon, amount: claims })).status).toBe(201);
    const idem = (k: string) => ({ "idempotency-key": `${run}-${k}` });
    expect((await http("POST", `/api/wallets/${user}/deposits`, { amount_cents: 10_000 }, idem("dep"))).status).toBe(201);
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const bet = { user_id: user, event_id: `match-${i}`, market: "1X2", selection: "HOME", stake_cents: 500, odd_value: 2.5 };
      const res = await http("POST", "/api/bets", bet, idem(`bet${i}`));
      expect(res.status).toBe(201);
      placed.push(res.body.bet_id);
    }
    expect((await http("POST", `/api/bets/${placed[0]}/settle`, { result: "WON" }, idem("settle"))).status).toBe(200);
    // A bet placed outside rushgate, on the original system's topic: accepted and archived.
    const external = { eventId: `ext-${run}`, ts: Date.now(), userId: "outsider", market: "1X2", stake: 700, currency: "GBP" };
    await produce(kafka.brokers, "events.bet_placed", [{ key: "outsider", value: JSON.stringify(external) }]);

    // The offers engine: an offer, and two bets from outside on events.bet_placed
    // that fill one stake window past the threshold (5000), so each earns 10 %.
    const market = `offers-${run}`;
    const awardee = `awardee-${run}`;
    const offer = await http("POST", "/api/offers", { name: "e2e", min_stake_cents: 0, bonus_pct: 0.1, markets: [market] });
    expect(offer.status).toBe(201);
    const now = Date.now();
    await produce(
      kafka.brokers,
      "events.bet_placed",
      [1, 2].map((i) => ({ key: awardee, value: JSON.stringify({ eventId: `m${i}`, ts: now, userId: awardee, market, stake: 3000, currency: "GBP", odds: 2 }) })),
    );

    // Claims stream in while the bridge, then the archiver, die without warning.
    for (let chunk = 0; chunk < 15; chunk++) {
      const results = await Promise.all(
        Array.from({ length: claims / 15 }, (_, i) =>
          http("POST", "/api/coupons/claim", { coupon_name: coupon, user_id: `u${chunk}-${i}` }),
        ),
      );
      expect(results.every((r) => r.body.status === "CLAIMED")).toBe(true);
      if (chunk === 4) {
        await stop("bridge", "SIGKILL");
        startBridge();
      }
      if (chunk === 9) {
        await stop("archiver", "SIGKILL");
        startArchiver();
      }
    }

    // Kafka: every event, keyed by aggregate, with the envelope headers (duplicates
    // after a crash are allowed there; consumers dedupe by event-id).
    const couponAggregate = `coupon:${coupon}`;
    const walletAggregate = `wallet:${user}`;
    const ids = (seen: Seen[], key: string) =>
      new Set(seen.filter((s) => s.message.key?.toString() === key).map((s) => headerOf(s.message, "event-id")));
    // The wallet's events, as produced: on wallet.events and bet.events, keyed by its aggregate.
    // Settling is the last thing the wallet did, and its bet.settled its last event, so the
    // stream is complete once bet.settled and every seq before it have arrived.
    const walletSeqsIn = (seen: Seen[]) => {
      const mine = seen.filter((s) => s.message.key?.toString() === walletAggregate);
      const settled = mine.find((s) => headerOf(s.message, "event-type") === "bet.settled");
      const seqs = new Set(mine.map((s) => Number(headerOf(s.message, "seq"))));
      const last = settled ? Number(headerOf(settled.message, "seq")) : 0;
      return { mine, last, complete: last > 0 && Array.from({ length: last }, (_, i) => i + 1).every((q) => seqs.has(q)) };
    };
    const seen = await consumeUntil(
      kafka.brokers,
      ["coupon.events", "bet.events", "wallet.events"],
      (s) => ids(s, couponAggregate).size >= claims + 1 && walletSeqsIn(s).complete,
      90_000,
    );
    expect(ids(seen, couponAggregate).size).toBe(claims + 1);
    for (const s of seen.filter((x) => x.message.key?.toString() === couponAggregate)) {
      const id = headerOf(s.message, "event-id")!;
      expect(s.topic).toBe("coupon.events");
      expect(id).toBe(`${couponAggregate}:${headerOf(s.message, "seq")}`);
      expect(headerOf(s.message, "aggregate")).toBe(couponAggregate);
      expect(headerOf(s.message, "event-type")).toMatch(/^coupon\.(created|claimed)$/);
      expect(Date.parse(headerOf(s.message, "time")!)).not.toBeNaN();
    }
    const betTypes = seen
      .filter((s) => s.topic === "bet.events" && s.message.key?.toString() === walletAggregate)
      .map((s) => headerOf(s.message, "event-type"));
    expect(new Set(betTypes)).toEqual(new Set(["bet.placed", "bet.settled"]));
    const produced = walletSeqsIn(seen);
    expect(produced.complete).toBe(true);
    // What the HTTP calls above did: one deposit, three bets placed, one settled.
    const typesProduced = new Map<string, string>(produced.mine.map((s) => [headerOf(s.message, "event-id")!, headerOf(s.message, "event-type")!]));
    const howMany = (type: string) => [...typesProduced.values()].filter((t) => t === type).length;
    expect([howMany("wallet.deposited"), howMany("bet.placed"), howMany("bet.settled")]).toEqual([1, 3, 1]);
    expect(typesProduced.size).toBe(produced.last); // ids 1..last, each once

    // Awards reach events.offer_awarded in the original shape (minor units, ts epoch ms).
    const awardSeen = await consumeUntil(kafka.brokers, ["events.offer_awarded"], (s) => s.filter((x) => x.message.key?.toString() === awardee).length >= 2, 90_000);
    const awarded = [...new Map(awardSeen.filter((x) => x.message.key?.toString() === awardee).map((x) => [headerOf(x.message, "event-id"), JSON.parse(x.message.value!.toString())])).values()];
    expect(awarded).toHaveLength(2);
    for (const a of awarded) {
      expect(Object.keys(a).sort()).toEqual(["awardId", "bonusAmount", "eventId", "offerId", "stake", "ts", "userId"]);
      expect(a).toMatchObject({ userId: awardee, offerId: offer.body.id, stake: 3000, bonusAmount: 300 });
    }
    const listed = (await http("GET", `/api/awards?user_id=${awardee}`)).body.awards;
    expect(listed.map((a: any) => a.award_id).sort()).toEqual(awarded.map((a) => a.awardId).sort());
    expect((await http("GET", `/api/wallets/${awardee}`)).body.bonus.posted).toBe(600);

    // The archive: once the archiver has committed everything, each event is there once.
    await waitForZeroLag(kafka.brokers, `archiver-${run}`, archivedTopics, 90_000);
    await waitForZeroLag(kafka.brokers, `bridge-${run}`, ["events.bet_placed"], 60_000);
    // Graceful shutdown: both finish what is in flight, commit and exit 0.
    expect(await stop("bridge", "SIGTERM")).toBe(0);
    expect(await stop("archiver", "SIGTERM")).toBe(0);
    const archive = await openArchive({ databaseUrl: process.env.DATABASE_URL, dataDir: archiveDir, schema: archiveSchema });
    try {
      const rows = await archive.db
        .select({ seq: events.seq })
        .from(events)
        .where(eq(events.aggregate, couponAggregate))
        .orderBy(events.seq);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: claims + 1 }, (_, i) => i + 1));
      const [claimRows] = await archive.db
        .select({ n: sql<number>`count(*)::int` })
        .from(couponClaims)
        .where(eq(couponClaims.coupon_name, coupon));
      expect(claimRows!.n).toBe(claims);
      const betRows = await archive.db.select().from(bets).where(eq(bets.user_id, user));
      expect(betRows.map((b) => b.bet_id).sort()).toEqual([...placed].sort());
      const won = await archive.db.select().from(bets).where(and(eq(bets.bet_id, placed[0]!)));
      expect(won[0]).toMatchObject({ status: "settled", result: "WON", stake_cents: 500, payout_cents: 1250, potential_win_cents: 1250 });
      // The archive holds exactly the wallet events that were produced: same ids, same types, once each.
      const walletRows = await archive.db
        .select({ id: events.event_id, type: events.type })
        .from(events)
        .where(eq(events.aggregate, walletAggregate))
        .orderBy(events.seq);
      expect(walletRows.length).toBeGreaterThanOrEqual(5);
      expect(walletRows.map((r) => [r.id, r.type])).toEqual(
        Array.from({ length: produced.last }, (_, i) => `${walletAggregate}:${i + 1}`).map((id) => [id, typesProduced.get(id)]),
      );
      const outside = await archive.db
        .select({ data: events.data })
        .from(events)
        .where(and(eq(events.type, "bet.placed_external"), sql`${events.data}->>'eventId' = ${external.eventId}`));
      expect(outside.map((r) => r.data)).toEqual([external]);
      const awardRows = await archive.db.select().from(offerAwards).where(eq(offerAwards.user_id, awardee));
      expect(awardRows.map((r) => [r.award_id, r.bonus_cents, r.stake_cents]).sort()).toEqual(
        awarded.map((a) => [a.awardId, 300, 3000]).sort(),
      );
    } finally {
      await archive.close();
    }
  });
});
