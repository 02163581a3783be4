// Flash sales: sold-out answered in the Worker, bounded queues before sellout.
import { env, evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { claimantSet, claimantsOf, EXACT_CLAIMANTS_MAX } from "../../src/lib/claimants";
import { admitted, edgeAnswer, forgetSoldOut } from "../../src/lib/flash-sale";
import { HttpError } from "../../src/lib/errors";
import { call, get, post, serviceAuth, unique } from "./helpers";

const claim = (coupon_name: string, user_id: string) =>
  call("POST", "/api/coupons/claim", { coupon_name, user_id });
const byEdge = (r: { headers: Headers }) => r.headers.get("rushgate-answered-by") === "edge";

/** Claims by fresh users until this isolate has learned the coupon is sold out (bounded). */
async function untilEdge(coupon: string) {
  for (let i = 0; i < 50; i++) {
    const r = await claim(coupon, unique("late"));
    if (byEdge(r)) return r;
    expect(r.body.status).toBe("SOLD_OUT");
  }
  throw new Error("the isolate never learned the coupon is sold out");
}

describe("sold out, answered at the edge", () => {
  it("after the object says SOLD_OUT, later claims are answered without it, keeping the contract", async () => {
    forgetSoldOut();
    const coupon = unique("FLASH");
    await post("/api/coupons", { name: coupon, amount: 2 });
    expect((await claim(coupon, "a")).status).toBe(200);
    expect((await claim(coupon, "b")).body).toMatchObject({ status: "CLAIMED", remaining_amount: 0 });
    expect(edgeAnswer(coupon, "c")).toBeNull(); // only the object's answer teaches the Worker
    const late = await untilEdge(coupon);
    // The test shares the Worker's module, so forgetSoldOut() below really is a fresh isolate.
    expect(edgeAnswer(coupon, "zz")).toEqual({ status: "SOLD_OUT" });
    expect([late.status, late.body]).toEqual([409, { status: "SOLD_OUT" }]);
    const again = await claim(coupon, "a");
    expect([again.status, again.body, byEdge(again)]).toEqual([409, { status: "ALREADY_CLAIMED" }, true]);
    expect((await get(`/api/coupons/${coupon}`)).body).toMatchObject({ remaining_amount: 0, claimed_by: ["a", "b"] });
  });

  it("the edge path can be turned off", async () => {
    forgetSoldOut();
    const coupon = unique("NOEDGE");
    await post("/api/coupons", { name: coupon, amount: 1 });
    const off = { ...env, COUPON_EDGE_SOLD_OUT: "off" } as unknown as Env;
    const send = (user_id: string) =>
      app.request("/api/coupons/claim", { method: "POST", headers: { ...serviceAuth, "content-type": "application/json" }, body: JSON.stringify({ coupon_name: coupon, user_id }) }, off, { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext);
    for (const user of ["x", "y", "z", "w"]) {
      const res = await send(user);
      expect(res.headers.get("rushgate-answered-by")).toBeNull();
    }
    expect(edgeAnswer(coupon, "y")).toBeNull();
  });

  it("past the exact-set size the Worker keeps a filter: no false negatives, few false positives", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const set = claimantSet(claimantsOf(ids, ids.length));
    expect(set.exact).toBe(false);
    expect(ids.every((id) => set.has(id))).toBe(true);
    const strangers = Array.from({ length: 20_000 }, (_, i) => `stranger-${i}`);
    const falsePositives = strangers.filter((id) => set.has(id)).length;
    expect(falsePositives / strangers.length).toBeLessThan(0.02);
    expect(claimantsOf(ids.slice(0, EXACT_CLAIMANTS_MAX), EXACT_CLAIMANTS_MAX).kind).toBe("exact");
  });
});

describe("bounded queues before sellout", () => {
  it("past the in-flight bound a claim gets 503 with Retry-After at once, and nothing is lost", async () => {
    forgetSoldOut();
    const coupon = unique("BOUND");
    await post("/api/coupons", { name: coupon, amount: 100 });
    const tight = { ...env, COUPON_MAX_IN_FLIGHT: "2" } as unknown as Env;
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const replies = await Promise.all(
      users.map((user_id) =>
        app.request("/api/coupons/claim", { method: "POST", headers: { ...serviceAuth, "content-type": "application/json" }, body: JSON.stringify({ coupon_name: coupon, user_id }) }, tight, ctx),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    for (const r of replies.filter((r) => r.status === 503)) {
      expect(r.headers.get("retry-after")).toBe("1");
      expect(await r.json()).toEqual({ error: "OVERLOADED", message: expect.any(String) });
    }
    const claimed = users.filter((_, i) => statuses[i] === 200);
    expect((await get(`/api/coupons/${coupon}`)).body.claimed_by.sort()).toEqual(claimed.sort());
  });

  it("an object's overloaded error is the same fast 503, never retried", async () => {
    let calls = 0;
    const overloaded = Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true });
    const attempt = admitted("any", 10, async () => {
      calls++;
      throw overloaded;
    });
    await expect(attempt).rejects.toBeInstanceOf(HttpError);
    await expect(attempt).rejects.toMatchObject({ status: 503, code: "OVERLOADED" });
    expect(calls).toBe(1);
  });
});

describe("property: every answer agrees with the object's truth around sellout", () => {
  it("holds under random interleavings of claims, evictions and isolate restarts", async () => {
    type Step = { kind: "claims"; users: number[] } | { kind: "evict" } | { kind: "restart" };
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("claims" as const), users: fc.array(fc.nat(7), { minLength: 1, maxLength: 6 }) }) },
      fc.constant({ kind: "evict" as const }),
      fc.constant({ kind: "restart" as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(step, { minLength: 1, maxLength: 12 }), async (stock, steps: Step[]) => {
        forgetSoldOut();
        const coupon = unique("PROP");
        await post("/api/coupons", { name: coupon, amount: stock });
        const answers: { user: string; status: string }[] = [];
        for (const s of steps) {
          if (s.kind === "evict") {
            const stub = env.COUPON.getByName(coupon);
            await stub.get(1); // eviction needs a running object
            await evictDurableObject(stub);
          }
          else if (s.kind === "restart") forgetSoldOut();
          else {
            const replies = await Promise.all(s.users.map((u) => claim(coupon, `user${u}`)));
            replies.forEach((r, i) => {
              expect(r.status).toBeLessThan(500);
              answers.push({ user: `user${s.users[i]}`, status: r.body.status });
            });
          }
        }
        const truth = new Set<string>((await get(`/api/coupons/${coupon}`)).body.claimed_by);
        const claimedAnswers = answers.filter((a) => a.status === "CLAIMED").map((a) => a.user);
        expect(claimedAnswers.length).toBeLessThanOrEqual(stock);
        expect(new Set(claimedAnswers)).toEqual(truth);
        for (const a of answers) {
          if (a.status === "SOLD_OUT") {
            expect(truth.has(a.user), `SOLD_OUT to ${a.user}, who claimed`).toBe(false);
            expect(truth.size, "SOLD_OUT said before the stock was gone").toBe(stock);
          }
          if (a.status === "ALREADY_CLAIMED") expect(truth.has(a.user)).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);
});
