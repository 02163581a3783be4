import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { relayFor } from "../../src/actors/relay";
import { bridgeAuth, call, post, unique } from "./helpers";

const pull = (shard: number, body: object, headers = bridgeAuth) => post(`/internal/relay/${shard}/pull`, body, headers);

async function makeClaims(name: string, users: number) {
  await post("/api/coupons", { name, amount: users });
  for (let i = 0; i < users; i++) await post("/api/coupons/claim", { coupon_name: name, user_id: `u${i}` });
}

/** Which shard carries an aggregate, as the bridge would find it: by scanning. */
async function shardCarrying(aggregate: string): Promise<number> {
  const { body } = await call("GET", "/internal/relay", undefined, bridgeAuth);
  for (let s = 0; s < body.shards; s++) {
    const res = await pull(s, { ack: 0, limit: 1000 });
    if (res.body.entries.some((e: any) => e.event.aggregate === aggregate)) return s;
  }
  throw new Error(`no shard carries ${aggregate}`);
}

describe("outbox → relay", () => {
  it("delivers an actor's events in order, then empties its outbox", async () => {
    const name = unique("RELAY");
    await makeClaims(name, 5);
    const stub = env.COUPON.getByName(name);
    await runDurableObjectAlarm(stub);
    expect(await stub.outbox()).toEqual([]);

    const entries = await relayFor(env, `coupon:${name}`).read(0, 1000);
    const mine = entries.filter((e) => e.event.aggregate === `coupon:${name}`);
    expect(mine.map((e) => e.event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(mine.map((e) => e.event.type)).toEqual(["coupon.created", ...Array(5).fill("coupon.claimed")]);
    expect(mine[1]!.event.id).toBe(`coupon:${name}:2`);
  });

  it("ignores a re-pushed batch, so the log holds each event once", async () => {
    const aggregate = `test:${unique("dup")}`;
    const relay = relayFor(env, aggregate);
    const batch = [1, 2, 3].map((seq) => ({
      id: `${aggregate}:${seq}`,
      type: "test.happened",
      aggregate,
      seq,
      time: new Date().toISOString(),
      data: { n: seq },
    }));
    expect(await relay.append(batch)).toBe(3);
    expect(await relay.append(batch)).toBe(0);
    expect(await relay.append([...batch, { ...batch[2]!, seq: 4, id: `${aggregate}:4` }])).toBe(1);
    const mine = (await relay.read(0, 1000)).filter((e) => e.event.aggregate === aggregate);
    expect(mine.map((e) => e.event.seq)).toEqual([1, 2, 3, 4]);
  });

  it("keeps events until the bridge acknowledges them, then trims", async () => {
    const name = unique("ACK");
    await makeClaims(name, 3);
    await runDurableObjectAlarm(env.COUPON.getByName(name));
    const shard = await shardCarrying(`coupon:${name}`);

    const first = await pull(shard, { ack: 0, limit: 1000 });
    expect(first.status).toBe(200);
    const again = await pull(shard, { ack: 0, limit: 1000 });
    expect(again.body.entries).toEqual(first.body.entries); // nothing lost without an ack

    const acked = await pull(shard, { ack: first.body.cursor, limit: 1000 });
    expect(acked.body.entries).toEqual([]);
    expect(acked.body.cursor).toBe(first.body.cursor);
    const backlog = await call("GET", `/internal/relay/${shard}/backlog`, undefined, bridgeAuth);
    expect(backlog.body.backlog).toBe(0);
  });

  it("long-poll: a waiting pull returns as soon as events arrive", async () => {
    const aggregate = `test:${unique("wait")}`;
    const relay = relayFor(env, aggregate);
    const tail = (await relay.read(0, 100_000)).at(-1)?.pos ?? 0;
    // A day's wait: if the append did not wake the pull, it would outlive the test's timeout and fail it.
    const waiting = relay.pull(tail, 100, 24 * 3_600_000);
    await relay.append([{ id: `${aggregate}:1`, type: "t", aggregate, seq: 1, time: new Date().toISOString(), data: {} }]);
    const result = await waiting;
    expect(result.entries.map((e) => e.event.id)).toEqual([`${aggregate}:1`]);
  });
});

/**
 * A busy actor: one that emits again within a second of its outbox emptying.
 * Its clock is set an hour ahead, so its alarm never fires on its own here:
 * only the delivery timer (real time) or runDurableObjectAlarm delivers.
 */
describe("outbox → relay, busy actor", () => {
  const ahead = () => Date.now() + 3_600_000;
  type Inside = { clock: () => number; sql: SqlStorage };
  const setClock = (stub: DurableObjectStub, at: number) =>
    runInDurableObject(stub, (instance: unknown) => {
      (instance as Inside).clock = () => at;
    });
  const stored = (stub: DurableObjectStub) =>
    runInDurableObject(stub, (instance: unknown) =>
      (instance as Inside).sql.exec<{ seq: number }>("SELECT seq FROM outbox ORDER BY seq").toArray().map((r) => r.seq),
    );
  const relayed = async (name: string) =>
    (await relayFor(env, `coupon:${name}`).read(0, 100_000)).filter((e) => e.event.aggregate === `coupon:${name}`).map((e) => e.event.seq);
  /** Polls the relay until it holds seqs 1..n of the coupon (the timer delivers within ~25 ms). */
  const relayedUpTo = async (name: string, n: number) => {
    for (let i = 0; i < 400 && (await relayed(name)).length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return relayed(name);
  };

  it("delivers from a timer with the alarm a second ahead, and deletes delivered rows in the next commit", async () => {
    const name = unique("BUSY");
    const stub = env.COUPON.getByName(name);
    const T = ahead();
    await setClock(stub, T);
    await post("/api/coupons", { name, amount: 10 });
    await runDurableObjectAlarm(stub); // delivers coupon.created; the outbox empties and the row goes
    expect(await stub.scheduledWork()).toEqual([]);

    await setClock(stub, T + 10);
    await post("/api/coupons/claim", { coupon_name: name, user_id: "u1" });
    // Emitting again within a second of emptying: the row is the backstop, a second ahead.
    expect(await stub.scheduledWork()).toEqual([{ kind: "outbox", key: "outbox", due_at: T + 1010, attempts: 0 }]);
    expect(await relayedUpTo(name, 2)).toEqual([1, 2]); // the timer delivered; no alarm ran
    expect(await stub.outbox()).toEqual([]);
    expect(await stored(stub)).toEqual([2]); // delivered, deleted by the next commit

    await post("/api/coupons/claim", { coupon_name: name, user_id: "u2" });
    expect(await stored(stub)).toEqual([3]);
    expect(await relayedUpTo(name, 3)).toEqual([1, 2, 3]);
    expect((await stub.scheduledWork()).map((r) => r.due_at)).toEqual([T + 1010]); // never re-armed

    // The backstop alarm finds nothing undelivered: it deletes the rest and the row.
    await runDurableObjectAlarm(stub);
    expect(await stub.scheduledWork()).toEqual([]);
    expect(await stored(stub)).toEqual([]);
    expect(await relayed(name)).toEqual([1, 2, 3]);
  });

  it("loses nothing when evicted mid-stream: the backstop alarm delivers the rest, once", async () => {
    const name = unique("BUSYEVICT");
    const stub = env.COUPON.getByName(name);
    const T = ahead();
    const claims = (round: string) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => post("/api/coupons/claim", { coupon_name: name, user_id: `${round}${i}` })));
    await setClock(stub, T);
    await post("/api/coupons", { name, amount: 100 });
    await runDurableObjectAlarm(stub);
    await setClock(stub, T + 10);
    await claims("a");
    expect(await relayedUpTo(name, 11)).toHaveLength(11); // the timer delivered them
    await evictDurableObject(stub); // delivered, not yet deleted: they go with the instance's memory
    expect(await stored(stub)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    await setClock(stub, T + 20);
    await claims("b");
    await evictDurableObject(stub); // b's events not delivered at all
    expect(await stub.scheduledWork()).toHaveLength(1);
    await runDurableObjectAlarm(stub);
    expect(await stub.scheduledWork()).toEqual([]);
    expect(await stored(stub)).toEqual([]);
    expect(await relayed(name)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1)); // each once
  });
});

describe("internal endpoints", () => {
  it("refuse a missing or wrong bearer token with 401 JSON", async () => {
    const none = await pull(0, { ack: 0 }, {} as typeof bridgeAuth);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("UNAUTHORIZED");
    const wrong = await pull(0, { ack: 0 }, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
  });

  it("validate input: bad shard, bad ack, bad ingest body → 400", async () => {
    expect((await pull(99, { ack: 0 })).status).toBe(400);
    expect((await pull(0, { ack: -1 })).status).toBe(400);
    expect((await post("/internal/ingest", { messages: [] }, bridgeAuth)).status).toBe(400);
    expect((await post("/internal/ingest", "nope", bridgeAuth)).status).toBe(400);
  });
});

describe("ingest: the coupon request/reply protocol", () => {
  const ingest = (messages: object[], abandon = false) => post("/internal/ingest", { messages, abandon }, bridgeAuth);
  const req = (topic: string, value: object) => ({ topic, key: null, value: { schema_version: 1, reply_to: "replies", ...value } });

  it("creates, claims and reads, answering on reply_to", async () => {
    const name = unique("KP");
    const res = await ingest([
      req("coupon.create.req", { correlation_id: "c1", name, amount: 1 }),
      req("coupon.claim.req", { correlation_id: "c2", coupon_name: name, user_id: "alice" }),
      req("coupon.claim.req", { correlation_id: "c3", coupon_name: name, user_id: "bob" }),
      req("coupon.claim.req", { correlation_id: "c4", coupon_name: name, user_id: "alice" }),
      req("coupon.get.req", { correlation_id: "c5", name }),
      req("coupon.get.req", { correlation_id: "c6", name: unique("NONE") }),
    ]);
    expect(res.status).toBe(200);
    const replies = res.body.results.map((r: any) => r.reply);
    expect(replies.every((r: any) => r.topic === "replies")).toBe(true);
    expect(replies.map((r: any) => [r.key, r.value.status, r.value.error_code])).toEqual([
      ["c1", "SUCCESS", undefined],
      ["c2", "SUCCESS", undefined],
      ["c3", "ERROR", "SOLD_OUT"],
      ["c4", "ERROR", "ALREADY_CLAIMED"],
      ["c5", "SUCCESS", undefined],
      ["c6", "ERROR", "NOT_FOUND"],
    ]);
    expect(replies[0].value.coupon).toEqual({ name, amount: 1, remaining_amount: 1, claimed_by: [] });
    expect(replies[4].value.coupon).toEqual({ name, amount: 1, remaining_amount: 0, claimed_by: ["alice"] });
  });

  it("a retried request replays its first outcome and applies once", async () => {
    const name = unique("KR");
    await ingest([req("coupon.create.req", { correlation_id: "r0", name, amount: 5 })]);
    const claim = req("coupon.claim.req", { correlation_id: "r1", coupon_name: name, user_id: "carol" });
    const first = await ingest([claim]);
    const retry = await ingest([claim]);
    expect(retry.body.results).toEqual(first.body.results);
    expect(first.body.results[0].reply.value.status).toBe("SUCCESS");
    const create = await ingest([req("coupon.create.req", { correlation_id: "r0", name, amount: 5 })]);
    expect(create.body.results[0].reply.value.status).toBe("SUCCESS"); // not DUPLICATE_COUPON
  });

  it("never applies a claim after its requester was told it failed", async () => {
    const name = unique("KA");
    await ingest([req("coupon.create.req", { correlation_id: "a0", name, amount: 5 })]);
    const claim = req("coupon.claim.req", { correlation_id: "a1", coupon_name: name, user_id: "dave" });
    const given_up = await ingest([claim], true);
    expect(given_up.body.results[0].reply.value).toMatchObject({ status: "ERROR", error_code: "INTERNAL_ERROR" });
    const late = await ingest([claim]);
    expect(late.body.results[0].reply.value).toMatchObject({ status: "ERROR", error_code: "INTERNAL_ERROR" });
    const coupon = await call("GET", `/api/coupons/${name}`);
    expect(coupon.body.claimed_by).toEqual([]);
  });

  it("giving up on a claim that did apply tells the requester it succeeded", async () => {
    const name = unique("KS");
    await ingest([req("coupon.create.req", { correlation_id: "s0", name, amount: 5 })]);
    const claim = req("coupon.claim.req", { correlation_id: "s1", coupon_name: name, user_id: "erin" });
    await ingest([claim]);
    const given_up = await ingest([claim], true);
    expect(given_up.body.results[0].reply.value.status).toBe("SUCCESS");
  });

  it("answers INVALID_REQUEST when it can reply, and dead-letters what it cannot", async () => {
    const res = await ingest([
      req("coupon.claim.req", { correlation_id: "v1", coupon_name: "bad name", user_id: "x" }),
      { topic: "coupon.claim.req", value: { nothing: true } },
      { topic: "no.such.topic", value: {} },
      { topic: "events.bet_placed", value: { eventId: "e1", ts: 1, userId: "u", market: "m", stake: 100, currency: "GBP" } },
    ]);
    const [invalid, noReplyTo, unknown, bet] = res.body.results;
    expect(invalid.reply.value).toMatchObject({ status: "ERROR", error_code: "INVALID_REQUEST" });
    expect(noReplyTo).toMatchObject({ ok: false });
    expect(unknown).toMatchObject({ ok: false });
    expect(bet).toEqual({ ok: true });
  });

  it("50 concurrent claims for stock 5: exactly 5 SUCCESS", async () => {
    const name = unique("K50");
    await ingest([req("coupon.create.req", { correlation_id: "k0", name, amount: 5 })]);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ingest([req("coupon.claim.req", { correlation_id: `k${i + 1}`, coupon_name: name, user_id: `u${i % 40}` })]),
      ),
    );
    const statuses = results.map((r) => r.body.results[0].reply.value);
    expect(statuses.filter((v) => v.status === "SUCCESS")).toHaveLength(5);
    expect(statuses.filter((v) => ["SOLD_OUT", "ALREADY_CLAIMED"].includes(v.error_code))).toHaveLength(45);
  });
});
