// Scheduled work on the one alarm (src/lib/actor.ts, src/lib/schedule.ts), with
// an injected clock: no test here waits on the wall clock.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { relayFor } from "../../src/lib/relays";
import { post, unique } from "./helpers";

const T = Date.parse("2030-01-01T00:00:00.000Z");

/** What a test reaches inside an actor: its clock, handlers and schedule. */
type Inside = {
  clock: () => number;
  handlers: Record<string, (payload: unknown) => unknown>;
  schedule(at: number, kind: string, payload: unknown, key?: string | null): void;
};

/** A Coupon actor (any actor would do) with a fixed clock and the given handlers. */
async function actor(handlers: Record<string, (payload: any) => unknown>) {
  const stub = env.COUPON.getByName(unique("SCHED"));
  const clock = { now: T };
  await runInDurableObject(stub, (instance: unknown) => {
    const a = instance as Inside;
    a.clock = () => clock.now;
    Object.assign(a.handlers, handlers);
  });
  const schedule = (at: number, kind: string, payload: unknown, key?: string) =>
    runInDurableObject(stub, (instance: unknown) => (instance as Inside).schedule(at, kind, payload, key));
  return { stub, clock, schedule };
}

describe("scheduled work on the one alarm", () => {
  it("runs rows in due order, each once the alarm reaches its time", async () => {
    const ran: number[] = [];
    const { stub, schedule } = await actor({ t: (p: { n: number }) => void ran.push(p.n) });
    await schedule(T + 5_000, "t", { n: 2 });
    await schedule(T + 1_000, "t", { n: 1 });
    expect(await runDurableObjectAlarm(stub)).toBe(true); // armed for T+1000: only n=1 is due
    expect(ran).toEqual([1]);
    expect((await stub.scheduledWork()).map((r) => r.due_at)).toEqual([T + 5_000]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(ran).toEqual([1, 2]);
    expect(await stub.scheduledWork()).toEqual([]);
    expect(await runDurableObjectAlarm(stub)).toBe(false); // nothing left, nothing armed
  });

  it("a failing row backs off alone, with growing delays, and does not hold up the others", async () => {
    const ran: string[] = [];
    let healthy = false;
    const { stub, clock, schedule } = await actor({
      bad: () => {
        if (!healthy) throw new Error("down");
        ran.push("bad");
      },
      good: (p: { id: string }) => void ran.push(p.id),
    });
    await schedule(T, "bad", null);
    await schedule(T, "good", { id: "g1" });
    await runDurableObjectAlarm(stub);
    expect(ran).toEqual(["g1"]);
    const [first] = await stub.scheduledWork();
    expect(first).toMatchObject({ kind: "bad", attempts: 1 });
    expect(first!.due_at).toBeGreaterThanOrEqual(T + 100);
    expect(first!.due_at).toBeLessThanOrEqual(T + 200);

    // Work scheduled before the retry runs first; the failing row waits its turn.
    await schedule(T + 1, "good", { id: "g2" });
    await runDurableObjectAlarm(stub);
    expect(ran).toEqual(["g1", "g2"]);

    clock.now = T + 10_000;
    await runDurableObjectAlarm(stub);
    const [second] = await stub.scheduledWork();
    expect(second).toMatchObject({ kind: "bad", attempts: 2 });
    expect(second!.due_at).toBeGreaterThanOrEqual(T + 10_000 + 200);
    expect(second!.due_at).toBeLessThanOrEqual(T + 10_000 + 400);

    healthy = true;
    clock.now = T + 20_000;
    await runDurableObjectAlarm(stub);
    expect(ran).toEqual(["g1", "g2", "bad"]);
    expect(await stub.scheduledWork()).toEqual([]);
  });

  it("a keyed row is kept once, due at the earlier time", async () => {
    const ran: string[] = [];
    const { stub, schedule } = await actor({ close: (p: { v: string }) => void ran.push(p.v) });
    await schedule(T + 9_000, "close", { v: "a" }, "window-1");
    await schedule(T + 3_000, "close", { v: "b" }, "window-1");
    await schedule(T + 6_000, "close", { v: "c" }, "window-1");
    expect(await stub.scheduledWork()).toEqual([{ kind: "close", key: "window-1", due_at: T + 3_000, attempts: 0 }]);
    await runDurableObjectAlarm(stub);
    expect(ran).toEqual(["c"]);
    expect(await stub.scheduledWork()).toEqual([]);
  });

  it("outbox delivery is one kind of row: an emit schedules it, the alarm delivers and removes it", async () => {
    const name = unique("SCHEDOUT");
    await post("/api/coupons", { name, amount: 2 });
    await post("/api/coupons/claim", { coupon_name: name, user_id: "u1" });
    const stub = env.COUPON.getByName(name);
    expect((await stub.scheduledWork()).map((r) => [r.kind, r.key])).toEqual([["outbox", "outbox"]]);
    await runDurableObjectAlarm(stub);
    expect(await stub.scheduledWork()).toEqual([]);
    expect(await stub.outbox()).toEqual([]);
    const mine = (await relayFor(env, `coupon:${name}`).read(0, 100_000)).filter((e) => e.event.aggregate === `coupon:${name}`);
    expect(mine.map((e) => e.event.seq)).toEqual([1, 2]);
  });
});
