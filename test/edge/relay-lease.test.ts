import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { relayShard } from "../../src/actors/relay";
import { Lease } from "../../src/lib/lease";
import { bridgeAuth, call, post, unique } from "./helpers";

const lease = (shard: number, body: unknown) => post(`/internal/relay/${shard}/lease`, body, bridgeAuth);
const pull = (shard: number, body: object) => post(`/internal/relay/${shard}/pull`, body, bridgeAuth);
const backlog = async (shard: number) => (await call("GET", `/internal/relay/${shard}/backlog`, undefined, bridgeAuth)).body.backlog;

describe("the relay lease (injected clock)", () => {
  it("grants one holder at a time, hands over on expiry with a larger token, and fences the old one", async () => {
    await runInDurableObject(env.RELAY.getByName(unique("lease")), (_relay, state) => {
      const l = new Lease(state.storage.sql);
      const t0 = 1_000_000;
      expect(l.check(undefined, t0)).toMatchObject({ ok: true }); // nobody holds it: a lease-less pull may go

      const a = l.acquire("a", 5000, t0);
      expect(a).toMatchObject({ status: "GRANTED", holder: "a", token: 1 });
      expect(l.acquire("b", 5000, t0 + 4999)).toMatchObject({ status: "HELD", holder: "a", token: 1 });
      expect(l.check(undefined, t0 + 1)).toMatchObject({ ok: false });

      // Renewing keeps the token; using the lease (check) extends it too.
      expect(l.acquire("a", 5000, t0 + 3000)).toMatchObject({ status: "GRANTED", token: 1 });
      expect(l.check(1, t0 + 6000)).toMatchObject({ ok: true });
      expect(l.acquire("b", 5000, t0 + 10_999)).toMatchObject({ status: "HELD" });

      // A lapsed lease goes to the next holder, with a new token; the old token is fenced.
      const b = l.acquire("b", 5000, t0 + 11_000);
      expect(b).toMatchObject({ status: "GRANTED", holder: "b", token: 2 });
      expect(l.check(1, t0 + 11_001)).toMatchObject({ ok: false, current: { holder: "b", token: 2 } });
      expect(l.release(1)).toBe(false);

      // An owner that lapsed but was not replaced carries on.
      expect(l.check(2, t0 + 60_000)).toMatchObject({ ok: true });

      // Released: the next holder need not wait for expiry.
      expect(l.release(2)).toBe(true);
      expect(l.acquire("a", 5000, t0 + 60_001)).toMatchObject({ status: "GRANTED", holder: "a", token: 3 });
    });
  });
});

describe("lease endpoints", () => {
  it("a pull under a lost lease is refused with 409 and acknowledges nothing", async () => {
    const shard = 3;
    // Put an event of our own on the shard, so there is something to (not) trim.
    const aggregate = `test:${unique("fence")}`;
    await relayShard(env, shard).append([{ id: `${aggregate}:1`, type: "t", aggregate, seq: 1, time: new Date().toISOString(), data: {} }]);

    const a = await lease(shard, { holder: "bridge-a", ttl_ms: 60_000 });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ status: "GRANTED", holder: "bridge-a", ttl_ms: 60_000 });
    expect((await lease(shard, { holder: "bridge-b", ttl_ms: 60_000 })).body).toMatchObject({ status: "HELD", holder: "bridge-a" });

    const first = await pull(shard, { ack: 0, limit: 1000, token: a.body.token });
    expect(first.status).toBe(200);
    expect(first.body.entries.length).toBeGreaterThan(0);
    // Without a token, while a lease is live: refused.
    expect((await pull(shard, { ack: first.body.cursor })).status).toBe(409);

    expect((await post(`/internal/relay/${shard}/lease/release`, { token: a.body.token }, bridgeAuth)).body).toEqual({ released: true });
    const b = await lease(shard, { holder: "bridge-b", ttl_ms: 60_000 });
    expect(b.body).toMatchObject({ status: "GRANTED", holder: "bridge-b", token: a.body.token + 1 });

    const before = await backlog(shard);
    const stale = await pull(shard, { ack: first.body.cursor, limit: 1000, token: a.body.token });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: "LEASE_LOST" });
    expect(stale.body.message).toContain("bridge-b");
    expect(await backlog(shard)).toBe(before);

    const fresh = await pull(shard, { ack: 0, limit: 1000, token: b.body.token });
    expect(fresh.body.entries).toEqual(first.body.entries);
  });

  it("validate input: 400 for a bad holder, ttl or token", async () => {
    expect((await lease(1, { holder: "", ttl_ms: 5000 })).status).toBe(400);
    expect((await lease(1, { holder: "x", ttl_ms: 10 })).status).toBe(400);
    expect((await lease(1, { holder: "x" })).status).toBe(400);
    expect((await lease(99, { holder: "x", ttl_ms: 5000 })).status).toBe(400);
    expect((await pull(1, { ack: 0, token: 0 })).status).toBe(400);
    expect((await post("/internal/relay/1/lease/release", { token: "1" }, bridgeAuth)).status).toBe(400);
    expect((await post("/internal/relay/1/lease", { holder: "x", ttl_ms: 5000 })).status).toBe(401);
  });
});
