// The bridge against real parts: the Worker on workerd (Miniflare), librdkafka's
// mock Kafka cluster (or KAFKA_BROKERS), and a fault-injecting HTTP proxy in
// front of the Worker for the retry and dead-letter paths.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { events } from "../../drizzle/schema.ts";
import { openArchive } from "../../workers/archiver/archive.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, startRushgate, type Runtime } from "../../bench/lib/runtime.ts";
import { startBridge, type Bridge } from "../../workers/kafka-bridge/index.ts";
import { groupTimings } from "../../workers/lib/kafka-group.ts";
import { createLogger } from "../../workers/lib/log.ts";
import { startKafka, type KafkaHandle } from "../../workers/lib/mock-kafka.ts";
import { waitFor } from "./helpers.ts";
import { consumeUntil, headerOf, produce } from "./kafka-helpers.ts";

const token = "node-test-token";
const adminToken = "node-test-admin-token";
const run = Date.now().toString(36);
let kafka: KafkaHandle;
let worker: Runtime;
const bridges: Bridge[] = [];

const api = (path: string, body?: unknown) =>
  fetch(new URL(path, worker.url), {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));

/** The bridge's failures as the live stats count them. */
async function failures(): Promise<{ retries: number; dlq: number }> {
  const { totals } = (await api("/api/stats")).body;
  return { retries: totals.failures_retries, dlq: totals.failures_dlq };
}

async function bridge(workerUrl: string, groupId: string, withKafka = true, archive: { dataDir?: string; schema?: string } = {}) {
  const b = await startBridge(
    {
      workerUrl,
      token,
      brokers: withKafka ? kafka.brokers : [],
      databaseUrl: process.env.DATABASE_URL,
      ...archive,
      idempotent: kafka.idempotent,
      clientId: "bridge-test",
      groupId,
      port: 0,
      pullLimit: 500,
      pullWaitMs: 500,
      retryAttempts: 2,
      retryBaseMs: 100,
      group: groupTimings(kafka.groupEnv),
      bridgeId: `bridge-test-${Math.random().toString(36).slice(2)}`,
      leaseTtlMs: 2000,
    },
    createLogger("bridge-test", "error"),
  );
  bridges.push(b);
  return b;
}

beforeAll(async () => {
  build();
  [kafka, worker] = await Promise.all([startKafka(), startRushgate({ BRIDGE_TOKEN: token, ADMIN_TOKEN: adminToken })]);
  await bridge(worker.url.href, `bridge-${run}`);
}, 120_000);

afterAll(async () => {
  for (const b of bridges) await b.stop();
  await worker?.stop();
  await kafka?.stop();
});

describe("outbound: actor events reach Kafka", () => {
  it("with key = aggregate, value = data and the envelope headers", async () => {
    const name = `OUT_${run}`;
    await api("/api/coupons", { name, amount: 3 });
    for (const user of ["a", "b"]) await api("/api/coupons/claim", { coupon_name: name, user_id: user });

    const aggregate = `coupon:${name}`;
    const mine = (seen: { message: { key: Buffer | null } }[]) => seen.filter((s) => s.message.key?.toString() === aggregate);
    const seen = mine(await consumeUntil(kafka.brokers, ["coupon.events"], (s) => new Set(mine(s).map((x: any) => headerOf(x.message, "event-id"))).size >= 3));
    const byId = new Map(seen.map((s: any) => [headerOf(s.message, "event-id"), s.message]));
    expect([...byId.keys()].sort()).toEqual([`${aggregate}:1`, `${aggregate}:2`, `${aggregate}:3`]);
    const claimed = byId.get(`${aggregate}:2`)!;
    expect(headerOf(claimed, "event-type")).toBe("coupon.claimed");
    expect(headerOf(claimed, "aggregate")).toBe(aggregate);
    expect(headerOf(claimed, "seq")).toBe("2");
    expect(Date.parse(headerOf(claimed, "time")!)).not.toBeNaN();
    expect(JSON.parse(claimed.value!.toString())).toMatchObject({ coupon_name: name, user_id: "a", remaining_amount: 2 });
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    const port = bridges[0]!.port;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", shards: 8, owned: [0, 1, 2, 3, 4, 5, 6, 7] });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/rushgate_bridge_produced_total\{topic="coupon.events"\} [1-9]/);
    for (const name of ["consumed_total", "retries_total", "dlq_total", "relay_lag"]) expect(metrics).toContain(`rushgate_bridge_${name}`);
  });
});

describe("outbound with no KAFKA_BROKERS: straight into the archive", () => {
  it("archives relay batches itself, each event once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rushgate-bridge-archive-"));
    const schema = `bridge_${run}`;
    // The Kafka bridge drains the relay too: stop it, so these events wait for the embedded one.
    await bridges.shift()!.stop();
    const name = `EMB_${run}`;
    await api("/api/coupons", { name, amount: 5 });
    for (const user of ["a", "b", "c"]) await api("/api/coupons/claim", { coupon_name: name, user_id: user });
    const embedded = await bridge(worker.url.href, `unused-${run}`, false, { dataDir, schema });
    const aggregate = `coupon:${name}`;
    // The bridge owns the (single-process) PGlite while it runs: poll the relay until drained, then read.
    const backlog = () =>
      fetch(new URL("/internal/relay", worker.url), { headers: { authorization: `Bearer ${token}` } })
        .then((r) => r.json() as Promise<{ shards: number }>)
        .then(({ shards }) =>
          Promise.all(
            Array.from({ length: shards }, (_, s) =>
              fetch(new URL(`/internal/relay/${s}/backlog`, worker.url), { headers: { authorization: `Bearer ${token}` } }).then(
                (r) => r.json() as Promise<{ backlog: number }>,
              ),
            ),
          ),
        )
        .then((all) => all.reduce((n, b) => n + b.backlog, 0));
    for (let i = 0; i < 120 && (await backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 250));
    await embedded.stop();
    bridges.splice(bridges.indexOf(embedded), 1);
    await bridge(worker.url.href, `bridge-${run}`); // back to Kafka, resuming the group's committed offsets

    const archive = await openArchive({ databaseUrl: process.env.DATABASE_URL, dataDir, schema });
    try {
      const rows = await archive.db.select({ id: events.event_id }).from(events).where(eq(events.aggregate, aggregate)).orderBy(events.seq);
      expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4].map((seq) => `${aggregate}:${seq}`));
    } finally {
      await archive.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("inbound: the coupon request/reply protocol", () => {
  it("50 concurrent claims for stock 5 → exactly 5 SUCCESS, 45 SOLD_OUT or ALREADY_CLAIMED", async () => {
    const name = `RR_${run}`;
    const replyTo = `replies.${run}`;
    const request = (correlation_id: string, extra: object) =>
      ({ key: correlation_id, value: JSON.stringify({ schema_version: 1, correlation_id, reply_to: replyTo, ...extra }) });
    await produce(kafka.brokers, "coupon.create.req", [request("create", { name, amount: 5 })]);
    const created = await consumeUntil(kafka.brokers, [replyTo], (s) => s.length >= 1);
    expect(JSON.parse(created[0]!.message.value!.toString())).toMatchObject({ correlation_id: "create", status: "SUCCESS" });

    await produce(
      kafka.brokers,
      "coupon.claim.req",
      Array.from({ length: 50 }, (_, i) => request(`claim-${i}`, { coupon_name: name, user_id: `user-${i % 45}` })),
    );
    const replies = (await consumeUntil(kafka.brokers, [replyTo], (s) => s.length >= 51))
      .map((s) => JSON.parse(s.message.value!.toString()))
      .filter((r) => r.correlation_id.startsWith("claim-"));
    expect(replies).toHaveLength(50);
    expect(replies.filter((r) => r.status === "SUCCESS")).toHaveLength(5);
    expect(replies.filter((r) => ["SOLD_OUT", "ALREADY_CLAIMED"].includes(r.error_code))).toHaveLength(45);
    expect((await api(`/api/coupons/${name}`)).body.claimed_by).toHaveLength(5);
  });

  it("sends a message that is not JSON straight to the DLQ with its origin, counted once in the live stats", async () => {
    const before = await failures();
    await produce(kafka.brokers, "coupon.get.req", [{ key: `bad-${run}`, value: "{not json" }]);
    const dead = await consumeUntil(kafka.brokers, ["coupon.get.req.dlq"], (s) => s.some((x) => x.message.key?.toString() === `bad-${run}`));
    const mine = dead.find((x) => x.message.key?.toString() === `bad-${run}`)!;
    expect(headerOf(mine.message, "original-topic")).toBe("coupon.get.req");
    expect(headerOf(mine.message, "original-partition")).toMatch(/^\d+$/);
    expect(headerOf(mine.message, "original-offset")).toMatch(/^\d+$/);
    expect(headerOf(mine.message, "error")).toContain("JSON");
    await waitFor("the dead letter in /api/stats", async () => (await failures()).dlq > before.dlq);
    expect(await failures()).toEqual({ retries: before.retries, dlq: before.dlq + 1 });
  });
});

describe("offers.rules, both ways", () => {
  const put = (path: string, body: unknown) =>
    fetch(new URL(path, worker.url), {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  it("every change is published as {type: UPSERT, rule} in the original units, keyed by rule id, and not read back", async () => {
    const created = await api("/api/offers", { name: `kafka ${run}`, min_stake_cents: 1050, bonus_pct: 0.125, budget_cents: 100_000 });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await put(`/api/offers/${id}`, { bonus_pct: 0.2 })).status).toBe(200);
    const mine = (seen: { message: { key: Buffer | null } }[]) => seen.filter((s) => s.message.key?.toString() === id);
    const seen = mine(await consumeUntil(kafka.brokers, ["offers.rules"], (s) => mine(s).length >= 2));
    expect(seen.map((s: any) => JSON.parse(s.message.value.toString()))).toEqual([
      { type: "UPSERT", rule: expect.objectContaining({ id, minStake: 10.5, bonusPct: 12.5, budget: 1000, version: 1, active: true }) },
      { type: "UPSERT", rule: expect.objectContaining({ id, bonusPct: 20, version: 2 }) },
    ]);
    // The bridge consumes offers.rules too, and must skip its own publications:
    // a rule from outside, produced after ours, is applied once it has passed them.
    await produce(kafka.brokers, "offers.rules", [{ key: id, value: JSON.stringify({ type: "UPSERT", rule: { id, maxAwardsPerUser: 2 } }) }]);
    let offer: any;
    for (let i = 0; i < 120; i++) {
      offer = (await api(`/api/offers/${id}`)).body;
      if (offer.max_awards_per_user === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(offer).toMatchObject({ bonus_pct: 0.2, max_awards_per_user: 2, version: 3 });
    const versions = (await api(`/api/offers/${id}/versions`)).body.versions;
    expect(versions.map((v: any) => v.made_by)).toEqual(["service", "service", "kafka:offers.rules"]);
  });

  it("a rule that cannot apply is dead-lettered with the reason", async () => {
    const key = `bad-rule-${run}`;
    await produce(kafka.brokers, "offers.rules", [{ key, value: JSON.stringify({ type: "UPSERT", rule: { id: key, name: "x", minStake: 1, bonusPct: 101 } }) }]);
    const dead = await consumeUntil(kafka.brokers, ["offers.rules.dlq"], (s) => s.some((x) => x.message.key?.toString() === key));
    expect(headerOf(dead.find((x) => x.message.key?.toString() === key)!.message, "error")).toMatch(/bonus_pct/);
  });
});

describe("inbound failures: retry, then dead-letter, never a late claim", () => {
  let proxy: Server;
  let failing = true;

  beforeAll(async () => {
    // Fails every ingest with 503 while `failing`, except the bridge's abandon call.
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const abandon = req.url === "/internal/ingest" && JSON.parse(body.toString()).abandon === true;
      if (failing && req.url === "/internal/ingest" && !abandon) {
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":"INJECTED"}');
        return;
      }
      try {
        const upstream = await fetch(new URL(req.url!, worker.url), {
          method: req.method,
          headers: { authorization: req.headers.authorization!, "content-type": "application/json" },
          body: req.method === "GET" ? undefined : body,
        });
        res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
      } catch (err) {
        // The Worker dropped the connection (a pooled keep-alive it had closed): a proxy answers 502, and the bridge retries.
        res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: "BAD_GATEWAY", message: String(err) }));
      }
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    for (const b of bridges.splice(0)) await b.stop(); // the bridge behind the proxy holds long-polls open
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it("a claim the Worker could not take is retried, dead-lettered, answered ERROR, and never applied", async () => {
    const name = `FAIL_${run}`;
    expect((await api("/api/coupons", { name, amount: 5 })).status).toBe(201);
    // Swap the healthy bridge for one that reaches the Worker only through the
    // proxy (same consumer group: it resumes from the committed offsets).
    const port = (proxy.address() as { port: number }).port;
    await bridges.shift()!.stop(); // flushes its failure reports: what came before is counted now
    const before = await failures();
    await bridge(`http://127.0.0.1:${port}`, `bridge-${run}`);

    const replyTo = `fail-replies.${run}`;
    const claim = { schema_version: 1, correlation_id: `late-${run}`, reply_to: replyTo, coupon_name: name, user_id: "late-user" };
    await produce(kafka.brokers, "coupon.claim.req", [{ key: claim.correlation_id, value: JSON.stringify(claim) }]);

    const retried = await consumeUntil(kafka.brokers, ["coupon.claim.req.retry"], (s) =>
      s.filter((x) => x.message.key?.toString() === claim.correlation_id).length >= 2,
    );
    const attempts = retried.filter((x) => x.message.key?.toString() === claim.correlation_id);
    expect(attempts.map((x) => headerOf(x.message, "attempt"))).toEqual(["1", "2"]);
    expect(Number(headerOf(attempts[0]!.message, "next-at"))).toBeGreaterThan(0);
    expect(headerOf(attempts[0]!.message, "error")).toContain("503");

    const dead = await consumeUntil(kafka.brokers, ["coupon.claim.req.dlq"], (s) =>
      s.some((x) => x.message.key?.toString() === claim.correlation_id),
    );
    const letter = dead.find((x) => x.message.key?.toString() === claim.correlation_id)!;
    expect(headerOf(letter.message, "original-topic")).toBe("coupon.claim.req");
    expect(headerOf(letter.message, "error")).toContain("gave up");

    // Two retries and one dead letter reach the live stats (reported through the proxy, which lets them by).
    await waitFor("the retries and the dead letter in /api/stats", async () => (await failures()).dlq > before.dlq);
    expect(await failures()).toEqual({ retries: before.retries + 2, dlq: before.dlq + 1 });

    const reply = await consumeUntil(kafka.brokers, [replyTo], (s) => s.length >= 1);
    expect(JSON.parse(reply[0]!.message.value!.toString())).toMatchObject({ status: "ERROR", error_code: "INTERNAL_ERROR" });

    // The Worker recovers and the same request arrives again: it must not apply.
    failing = false;
    await produce(kafka.brokers, "coupon.claim.req", [{ key: claim.correlation_id, value: JSON.stringify(claim) }]);
    const second = await consumeUntil(kafka.brokers, [replyTo], (s) => s.length >= 2);
    expect(JSON.parse(second[1]!.message.value!.toString())).toMatchObject({ status: "ERROR", error_code: "INTERNAL_ERROR" });
    expect((await api(`/api/coupons/${name}`)).body.claimed_by).toEqual([]);
  });
});
