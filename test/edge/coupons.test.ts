import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventsOf, get, post, unique } from "./helpers";

const createCoupon = (name: string, amount: number) => post("/api/coupons", { name, amount });
const claim = (coupon_name: string, user_id: string) => post("/api/coupons/claim", { coupon_name, user_id });

describe("coupon contract", () => {
  it("creates a coupon: 201 with its counts", async () => {
    const name = unique("PROMO");
    const res = await createCoupon(name, 100);
    expect(res).toEqual({ status: 201, body: { name, amount: 100, remaining_amount: 100 } });
  });

  it("refuses a duplicate name: 409 DUPLICATE_COUPON", async () => {
    const name = unique("DUP");
    await createCoupon(name, 5);
    const res = await createCoupon(name, 7);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: "DUPLICATE_COUPON", message: expect.any(String) });
    expect((await get(`/api/coupons/${name}`)).body.amount).toBe(5);
  });

  it("claims: 200 CLAIMED, then 409 ALREADY_CLAIMED, then 409 SOLD_OUT", async () => {
    const name = unique("ONE");
    await createCoupon(name, 1);
    expect(await claim(name, "user_12345")).toEqual({
      status: 200,
      body: { status: "CLAIMED", coupon_name: name, user_id: "user_12345", remaining_amount: 0 },
    });
    expect(await claim(name, "user_12345")).toEqual({ status: 409, body: { status: "ALREADY_CLAIMED" } });
    expect(await claim(name, "user_2")).toEqual({ status: 409, body: { status: "SOLD_OUT" } });
  });

  it("claiming a missing coupon: 404 NOT_FOUND", async () => {
    expect(await claim(unique("NOPE"), "u1")).toEqual({ status: 404, body: { status: "NOT_FOUND" } });
  });

  it("reads a coupon with claimants in claim order", async () => {
    const name = unique("READ");
    await createCoupon(name, 3);
    await claim(name, "b");
    await claim(name, "a");
    expect(await get(`/api/coupons/${name}`)).toEqual({
      status: 200,
      body: { name, amount: 3, remaining_amount: 1, claimed_by: ["b", "a"] },
    });
  });

  it("pages claimed_by with limit and cursor", async () => {
    const name = unique("PAGE");
    await createCoupon(name, 10);
    for (const u of ["u0", "u1", "u2", "u3", "u4"]) await claim(name, u);
    const first = await get(`/api/coupons/${name}?limit=2`);
    expect(first.body.claimed_by).toEqual(["u0", "u1"]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await get(`/api/coupons/${name}?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.claimed_by).toEqual(["u2", "u3"]);
    const last = await get(`/api/coupons/${name}?limit=2&cursor=${second.body.next_cursor}`);
    expect(last.body.claimed_by).toEqual(["u4"]);
    expect(last.body.next_cursor).toBeUndefined();
  });

  it("defaults to the first 1,000 claimants", async () => {
    const name = unique("BIG");
    await createCoupon(name, 1001);
    await Promise.all(Array.from({ length: 1001 }, (_, i) => claim(name, `u${i}`)));
    const page = await get(`/api/coupons/${name}`);
    expect(page.body.claimed_by).toHaveLength(1000);
    expect(page.body.remaining_amount).toBe(0);
    const rest = await get(`/api/coupons/${name}?cursor=${page.body.next_cursor}`);
    expect(rest.body.claimed_by).toHaveLength(1);
    expect(new Set([...page.body.claimed_by, ...rest.body.claimed_by]).size).toBe(1001);
  });

  it("reading a missing coupon: 404 JSON error", async () => {
    const res = await get(`/api/coupons/${unique("MISSING")}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: "NOT_FOUND", message: expect.any(String) });
  });

  it("health: 200 ok", async () => {
    expect(await get("/health")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("unknown route: 404 JSON", async () => {
    const res = await get("/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: "NOT_FOUND" });
  });

  it("a body over 16 KiB: 413", async () => {
    const res = await post("/api/coupons", { name: "BIG_BODY", amount: 1, pad: "x".repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: "PAYLOAD_TOO_LARGE" });
  });
});

describe("coupon bad input", () => {
  const cases: [string, string, unknown, Record<string, string>?][] = [
    ["create: missing name", "/api/coupons", { amount: 1 }],
    ["create: empty name", "/api/coupons", { name: "", amount: 1 }],
    ["create: name over 64", "/api/coupons", { name: "x".repeat(65), amount: 1 }],
    ["create: name with a space", "/api/coupons", { name: "a b", amount: 1 }],
    ["create: name with a slash", "/api/coupons", { name: "a/b", amount: 1 }],
    ["create: name not a string", "/api/coupons", { name: 42, amount: 1 }],
    ["create: missing amount", "/api/coupons", { name: "X" }],
    ["create: zero amount", "/api/coupons", { name: "X", amount: 0 }],
    ["create: negative amount", "/api/coupons", { name: "X", amount: -3 }],
    ["create: fractional amount", "/api/coupons", { name: "X", amount: 1.5 }],
    ["create: amount as string", "/api/coupons", { name: "X", amount: "10" }],
    ["create: amount over 10,000,000", "/api/coupons", { name: "X", amount: 10_000_001 }],
    ["create: body is an array", "/api/coupons", [1, 2]],
    ["create: body is null", "/api/coupons", "null"],
    ["create: malformed JSON", "/api/coupons", "{\"name\": "],
    ["create: wrong content type", "/api/coupons", "name=X&amount=1", { "content-type": "application/x-www-form-urlencoded" }],
    ["create: text/plain", "/api/coupons", JSON.stringify({ name: "X", amount: 1 }), { "content-type": "text/plain" }],
    ["claim: missing user_id", "/api/coupons/claim", { coupon_name: "X" }],
    ["claim: empty user_id", "/api/coupons/claim", { coupon_name: "X", user_id: "" }],
    ["claim: user_id over 128", "/api/coupons/claim", { coupon_name: "X", user_id: "u".repeat(129) }],
    ["claim: user_id a number", "/api/coupons/claim", { coupon_name: "X", user_id: 7 }],
    ["claim: missing coupon_name", "/api/coupons/claim", { user_id: "u" }],
    ["claim: bad coupon_name", "/api/coupons/claim", { user_id: "u", coupon_name: "no spaces" }],
    ["claim: malformed JSON", "/api/coupons/claim", "not json"],
  ];
  it.each(cases)("%s → 400 JSON error", async (_, path, body, headers) => {
    const res = await post(path, body, headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  });

  it.each([
    ["limit=0"],
    ["limit=1001"],
    ["limit=abc"],
    ["cursor=-1"],
    ["cursor=abc"],
  ])("read with %s → 400", async (q) => {
    const res = await get(`/api/coupons/ANY?${q}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("INVALID_REQUEST");
  });

  it("read with a name outside the charset → 400", async () => {
    const res = await get("/api/coupons/bad%20name");
    expect(res.status).toBe(400);
  });

  it("user_id of exactly 128 characters is accepted", async () => {
    const name = unique("EDGE");
    await createCoupon(name, 1);
    expect((await claim(name, "u".repeat(128))).status).toBe(200);
  });
});

describe("coupon concurrency", () => {
  it("500 distinct users race for 50: exactly 50 CLAIMED, 450 SOLD_OUT, 50 events", async () => {
    const name = unique("RACE");
    await createCoupon(name, 50);
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => claim(name, `user_${i}`)));
    const by = (s: string) => results.filter((r) => r.body.status === s);
    expect(by("CLAIMED")).toHaveLength(50);
    expect(by("SOLD_OUT")).toHaveLength(450);
    expect(by("SOLD_OUT").every((r) => r.status === 409)).toBe(true);

    const snap = await get(`/api/coupons/${name}`);
    expect(snap.body.remaining_amount).toBe(0);
    expect(snap.body.claimed_by).toHaveLength(50);
    expect(new Set(snap.body.claimed_by)).toEqual(new Set(by("CLAIMED").map((r) => r.body.user_id)));

    const events = await eventsOf(env.COUPON.getByName(name), `coupon:${name}`);
    const claimed = events.filter((e) => e.type === "coupon.claimed");
    expect(claimed).toHaveLength(50);
    expect(new Set(claimed.map((e) => (e.data as { user_id: string }).user_id)).size).toBe(50);
  });

  it("100 concurrent claims by one user: exactly one CLAIMED", async () => {
    const name = unique("SAME");
    await createCoupon(name, 10);
    const results = await Promise.all(Array.from({ length: 100 }, () => claim(name, "same_user")));
    expect(results.filter((r) => r.body.status === "CLAIMED")).toHaveLength(1);
    expect(results.filter((r) => r.body.status === "ALREADY_CLAIMED")).toHaveLength(99);
    expect((await get(`/api/coupons/${name}`)).body.remaining_amount).toBe(9);
  });
});

describe("coupon events", () => {
  it("emit coupon.created then coupon.claimed with gapless seq and deterministic ids", async () => {
    const name = unique("EVT");
    await createCoupon(name, 2);
    await claim(name, "a");
    await claim(name, "b");
    await claim(name, "c"); // sold out: no event
    const events = await eventsOf(env.COUPON.getByName(name), `coupon:${name}`);
    expect(events.map((e) => [e.type, e.seq, e.id])).toEqual([
      ["coupon.created", 1, `coupon:${name}:1`],
      ["coupon.claimed", 2, `coupon:${name}:2`],
      ["coupon.claimed", 3, `coupon:${name}:3`],
    ]);
    expect(events[1]).toMatchObject({
      aggregate: `coupon:${name}`,
      data: { coupon_name: name, user_id: "a", remaining_amount: 1 },
    });
    expect(new Date(events[1]!.time).toISOString()).toBe(events[1]!.time);
  });
});

describe("coupon durability", () => {
  it("loses nothing when the object is evicted between claims", async () => {
    const name = unique("EVICT");
    const stub = env.COUPON.getByName(name);
    await createCoupon(name, 20);
    const winners: string[] = [];
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(name, `r${round}_${i}`)));
      winners.push(...results.filter((r) => r.body.status === "CLAIMED").map((r) => r.body.user_id));
      // Once sold out the Worker answers for the object, which may then be idle: wake it to evict it.
      await stub.get(1);
      await evictDurableObject(stub);
      // A user who won before the eviction is still remembered after it. Asked
      // of the object itself: once sold out, the Worker answers claims alone
      // and the object would not even wake (nor could it be evicted next round).
      expect(await stub.claim(winners[0]!)).toEqual({ status: "ALREADY_CLAIMED" });
    }
    expect(winners).toHaveLength(20);
    const snap = await get(`/api/coupons/${name}`);
    expect(snap.body.amount - snap.body.remaining_amount).toBe(snap.body.claimed_by.length);
    expect(snap.body.claimed_by).toEqual(winners.slice().sort((a, b) => snap.body.claimed_by.indexOf(a) - snap.body.claimed_by.indexOf(b)));
    expect(new Set(snap.body.claimed_by)).toEqual(new Set(winners));
    const events = await eventsOf(stub, `coupon:${name}`);
    expect(events.filter((e) => e.type === "coupon.claimed")).toHaveLength(20);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });
});

describe("coupon: a failed mutation leaves memory as storage", () => {
  it("a claim inside once() whose outer record fails is undone in the cache too", async () => {
    const name = unique("ROLLBACK");
    await post("/api/coupons", { name, amount: 2 });
    const stub = env.COUPON.getByName(name);
    // The request record (written after the claim, in the same transaction) fails once.
    const outcome = await runInDurableObject(stub, (instance: unknown) => {
      const coupon = instance as { remember: () => void; once: (id: string, r: object) => unknown };
      const remember = coupon.remember;
      coupon.remember = () => {
        throw new Error("disk full");
      };
      try {
        return coupon.once("corr-1", { op: "claim", user_id: "alice" });
      } catch (err) {
        return String(err);
      } finally {
        coupon.remember = remember;
      }
    });
    expect(outcome).toBe("Error: disk full");
    // Storage rolled back, and so must the cached count: no claim happened.
    expect((await get(`/api/coupons/${name}`)).body).toMatchObject({ remaining_amount: 2, claimed_by: [] });
    expect((await post("/api/coupons/claim", { coupon_name: name, user_id: "bob" })).body).toMatchObject({ remaining_amount: 1 });
    expect((await post("/api/coupons/claim", { coupon_name: name, user_id: "carol" })).body).toMatchObject({ remaining_amount: 0 });
  });
});

describe("coupon: group commit (claims of one moment share a commit)", () => {
  type Inside = {
    claim(user: string | null): unknown;
    batched<T>(fn: () => T): Promise<T>;
    claimNow(user: string): unknown;
  };
  const settle = (p: unknown) =>
    Promise.resolve(p).then(
      (v) => v,
      (e: Error) => `error: ${e.message}`,
    );

  it("claims queued in one turn get distinct answers and consecutive seqs; one violating a constraint fails alone", async () => {
    const name = unique("BATCH");
    await createCoupon(name, 3);
    const stub = env.COUPON.getByName(name);
    // All issued in one synchronous turn, so they are in one batch. The null
    // user violates claims.user_id NOT NULL inside its own savepoint.
    const answers = await runInDurableObject(stub, (instance: unknown) =>
      Promise.all(["a", null, "b", "a", "c", "d"].map((u) => settle((instance as Inside).claim(u)))),
    );
    expect(answers).toEqual([
      { status: "CLAIMED", coupon_name: name, user_id: "a", remaining_amount: 2 },
      expect.stringMatching(/^error: .*NOT NULL constraint failed: claims\.user_id/),
      { status: "CLAIMED", coupon_name: name, user_id: "b", remaining_amount: 1 },
      { status: "ALREADY_CLAIMED" },
      { status: "CLAIMED", coupon_name: name, user_id: "c", remaining_amount: 0 },
      { status: "SOLD_OUT" },
    ]);
    expect((await get(`/api/coupons/${name}`)).body).toMatchObject({ remaining_amount: 0, claimed_by: ["a", "b", "c"] });
    const events = await eventsOf(stub, `coupon:${name}`);
    expect(events.map((e) => [e.type, e.seq, (e.data as { seq?: number }).seq])).toEqual([
      ["coupon.created", 1, undefined],
      ["coupon.claimed", 2, 1],
      ["coupon.claimed", 3, 2],
      ["coupon.claimed", 4, 3],
    ]);
  });

  it("a mutation that throws after writing rolls back its writes and the cached count, and only its own", async () => {
    const name = unique("BATCHFAIL");
    await createCoupon(name, 5);
    const stub = env.COUPON.getByName(name);
    const answers = await runInDurableObject(stub, (instance: unknown) => {
      const c = instance as Inside;
      return Promise.all([
        settle(c.claim("before")),
        settle(
          c.batched(() => {
            c.claimNow("doomed"); // writes the claim row and its event, bumps the cached count
            throw new Error("fails after its writes");
          }),
        ),
        settle(c.claim("after")),
      ]);
    });
    expect(answers).toEqual([
      { status: "CLAIMED", coupon_name: name, user_id: "before", remaining_amount: 4 },
      "error: fails after its writes",
      { status: "CLAIMED", coupon_name: name, user_id: "after", remaining_amount: 3 },
    ]);
    expect((await get(`/api/coupons/${name}`)).body).toMatchObject({ remaining_amount: 3, claimed_by: ["before", "after"] });
    const events = await eventsOf(stub, `coupon:${name}`);
    expect(events.map((e) => [e.seq, (e.data as { user_id?: string }).user_id])).toEqual([
      [1, undefined],
      [2, "before"],
      [3, "after"],
    ]);
    // The doomed user never claimed: the object still lets them.
    expect(await stub.claim("doomed")).toMatchObject({ status: "CLAIMED", remaining_amount: 2 });
  });
});
