import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IdempotencyStore, IDEMPOTENCY_TTL_MS } from "../../src/lib/idempotency";
import { ok } from "../../src/lib/errors";
import { deposit, get, key, post, send, sendWith, serviceAuth, unique, walletEvents } from "./helpers";

const w = (user: string) => `/api/wallets/${encodeURIComponent(user)}`;
const withdraw = (user: string, amount_cents: number) => send(`${w(user)}/withdrawals`, { amount_cents });
const hold = (user: string, amount_cents: number, ref?: string) => send(`${w(user)}/holds`, { amount_cents, ref });
const capture = (user: string, id: string, amount_cents?: number) =>
  send(`${w(user)}/holds/${id}/capture`, amount_cents === undefined ? undefined : { amount_cents });
const release = (user: string, id: string) => send(`${w(user)}/holds/${id}/release`);
const cash = async (user: string) => (await get(w(user))).body.cash;

describe("wallet contract", () => {
  it("a wallet that never moved reads as zeros: 200", async () => {
    const user = unique("fresh");
    expect(await get(w(user))).toEqual({
      status: 200,
      body: { user_id: user, currency: "GBP", cash: { posted: 0, held: 0, available: 0 }, bonus: { posted: 0 }, updated_at: null },
    });
  });

  it("deposit: 201 with the ledger entry; the balance follows", async () => {
    const user = unique("dep");
    const res = await deposit(user, 1234);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      seq: 1,
      kind: "DEPOSIT",
      balance: "cash",
      amount_cents: 1234,
      balance_after_cents: 1234,
      ref: null,
      created_at: expect.any(String),
    });
    const view = (await get(w(user))).body;
    expect(view.cash).toEqual({ posted: 1234, held: 0, available: 1234 });
    expect(view.updated_at).toBe(res.body.created_at);
  });

  it("withdrawal: 201 with a negative entry, then 409 INSUFFICIENT_FUNDS", async () => {
    const user = unique("wd");
    await deposit(user, 500);
    const res = await withdraw(user, 200);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: "WITHDRAWAL", amount_cents: -200, balance_after_cents: 300, seq: 2 });
    const short = await withdraw(user, 301);
    expect(short).toEqual({ status: 409, body: { error: "INSUFFICIENT_FUNDS", message: expect.any(String) } });
    expect(await cash(user)).toEqual({ posted: 300, held: 0, available: 300 });
  });

  it("a withdrawal cannot take held funds", async () => {
    const user = unique("wdheld");
    await deposit(user, 100);
    expect((await hold(user, 80)).status).toBe(201);
    expect((await withdraw(user, 21)).body.error).toBe("INSUFFICIENT_FUNDS");
    expect((await withdraw(user, 20)).status).toBe(201);
    expect(await cash(user)).toEqual({ posted: 80, held: 80, available: 0 });
  });

  it("ledger: newest first, paged by cursor, default limit 100", async () => {
    const user = unique("ledger");
    for (const amount of [1, 2, 3, 4, 5]) await deposit(user, amount);
    const first = await get(`${w(user)}/ledger?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.entries.map((e: { amount_cents: number }) => e.amount_cents)).toEqual([5, 4]);
    expect(first.body.entries.map((e: { balance_after_cents: number }) => e.balance_after_cents)).toEqual([15, 10]);
    const second = await get(`${w(user)}/ledger?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.entries.map((e: { amount_cents: number }) => e.amount_cents)).toEqual([3, 2]);
    const last = await get(`${w(user)}/ledger?limit=2&cursor=${second.body.next_cursor}`);
    expect(last.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1]);
    expect(last.body.next_cursor).toBeUndefined();

    const many = unique("ledger_many");
    await Promise.all(Array.from({ length: 101 }, () => deposit(many, 1)));
    const page = await get(`${w(many)}/ledger`);
    expect(page.body.entries).toHaveLength(100);
    expect(page.body.entries[0].seq).toBe(101);
    expect(page.body.next_cursor).toBe("2");
  });

  it.each([["limit=0"], ["limit=1001"], ["limit=x"], ["cursor=-1"], ["cursor=abc"]])("ledger with %s → 400", async (q) => {
    const res = await get(`${w("anyone")}/ledger?${q}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("INVALID_REQUEST");
  });

  it("a user id of any characters up to 128 is one wallet; 129 → 400", async () => {
    const user = "ü/ ~.%?#x".padEnd(128, "z");
    expect((await deposit(user, 7)).status).toBe(201);
    expect((await get(w(user))).body).toMatchObject({ user_id: user, cash: { posted: 7 } });
    const long = await get(w("u".repeat(129)));
    expect(long.status).toBe(400);
    expect(long.body.message).toMatch(/user_id|at most 128/);
  });
});

describe("holds", () => {
  it("hold: 201 HELD; funds move from available to held", async () => {
    const user = unique("hold");
    await deposit(user, 1000);
    const res = await hold(user, 300, "order-1");
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ hold_id: expect.stringMatching(/^h_/), status: "HELD", amount_cents: 300, ref: "order-1" });
    expect(await cash(user)).toEqual({ posted: 1000, held: 300, available: 700 });
    expect((await get(`${w(user)}/holds/${res.body.hold_id}`)).body).toMatchObject({ status: "HELD", amount_cents: 300, captured_cents: 0 });
  });

  it("hold beyond available: 409 INSUFFICIENT_FUNDS", async () => {
    const user = unique("holdshort");
    await deposit(user, 100);
    await hold(user, 60);
    expect(await hold(user, 41)).toEqual({ status: 409, body: { error: "INSUFFICIENT_FUNDS", message: expect.any(String) } });
  });

  it("partial capture: 200; the captured part leaves, the rest returns", async () => {
    const user = unique("cap");
    await deposit(user, 1000);
    const { hold_id } = (await hold(user, 300)).body;
    const res = await capture(user, hold_id, 120);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hold_id, status: "CAPTURED", amount_cents: 300, captured_cents: 120, resolved_at: expect.any(String) });
    expect(await cash(user)).toEqual({ posted: 880, held: 0, available: 880 });
    const ledger = (await get(`${w(user)}/ledger`)).body.entries;
    expect(ledger[0]).toMatchObject({ kind: "CAPTURE", amount_cents: -120, balance_after_cents: 880 });
  });

  it("capture without a body captures the whole hold", async () => {
    const user = unique("capall");
    await deposit(user, 500);
    const { hold_id } = (await hold(user, 500)).body;
    const res = await capture(user, hold_id);
    expect(res.status).toBe(200);
    expect(res.body.captured_cents).toBe(500);
    expect(await cash(user)).toEqual({ posted: 0, held: 0, available: 0 });
  });

  it("capture of more than the hold: 409 CAPTURE_EXCEEDS_HOLD, and the hold stays", async () => {
    const user = unique("capover");
    await deposit(user, 500);
    const { hold_id } = (await hold(user, 100)).body;
    expect((await capture(user, hold_id, 101)).body.error).toBe("CAPTURE_EXCEEDS_HOLD");
    expect((await capture(user, hold_id, 101)).status).toBe(409);
    expect((await capture(user, hold_id, 100)).status).toBe(200);
  });

  it("release: 200; the whole hold returns", async () => {
    const user = unique("rel");
    await deposit(user, 400);
    const { hold_id } = (await hold(user, 400)).body;
    const res = await release(user, hold_id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hold_id, status: "RELEASED", captured_cents: 0 });
    expect(await cash(user)).toEqual({ posted: 400, held: 0, available: 400 });
  });

  it("a second resolution: 409 HOLD_ALREADY_RESOLVED, in every order", async () => {
    const user = unique("twice");
    await deposit(user, 1000);
    const a = (await hold(user, 100)).body.hold_id;
    const b = (await hold(user, 100)).body.hold_id;
    await capture(user, a, 50);
    await release(user, b);
    for (const again of [capture(user, a), release(user, a), capture(user, b, 1), release(user, b)]) {
      expect(await again).toEqual({ status: 409, body: { error: "HOLD_ALREADY_RESOLVED", message: expect.any(String) } });
    }
    expect(await cash(user)).toEqual({ posted: 950, held: 0, available: 950 });
  });

  it("20 concurrent resolutions of one hold: exactly one succeeds", async () => {
    const user = unique("race");
    await deposit(user, 1000);
    const { hold_id } = (await hold(user, 500)).body;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? capture(user, hold_id, 10) : release(user, hold_id))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === "HOLD_ALREADY_RESOLVED")).toHaveLength(19);
    const events = await walletEvents(user);
    expect(events.filter((e) => e.type === "wallet.captured" || e.type === "wallet.released")).toHaveLength(1);
  });

  it("unknown hold: 404 HOLD_NOT_FOUND on capture, release and read", async () => {
    const user = unique("nohold");
    for (const res of [await capture(user, "h_nope"), await release(user, "h_nope"), await get(`${w(user)}/holds/h_nope`)]) {
      expect(res).toEqual({ status: 404, body: { error: "HOLD_NOT_FOUND", message: expect.any(String) } });
    }
  });
});

describe("idempotency", () => {
  it("POST without an Idempotency-Key: 400 on every mutating route", async () => {
    const user = unique("nokey");
    const paths = [
      `${w(user)}/deposits`,
      `${w(user)}/withdrawals`,
      `${w(user)}/holds`,
      `${w(user)}/holds/h_x/capture`,
      `${w(user)}/holds/h_x/release`,
      "/api/bets",
      "/api/bets/dQ.00000000000000000000000000000000/settle",
    ];
    for (const path of paths) {
      const res = await post(path, { amount_cents: 1 });
      expect(res, path).toEqual({ status: 400, body: { error: "IDEMPOTENCY_KEY_REQUIRED", message: expect.any(String) } });
    }
    expect((await get(w(user))).body.cash.posted).toBe(0);
  });

  it("a key of 129 characters: 400; 128 is accepted", async () => {
    const user = unique("longkey");
    const bad = await post(`${w(user)}/deposits`, { amount_cents: 1 }, key("k".repeat(129)));
    expect(bad).toEqual({ status: 400, body: { error: "INVALID_IDEMPOTENCY_KEY", message: expect.any(String) } });
    expect((await post(`${w(user)}/deposits`, { amount_cents: 1 }, key("k".repeat(128)))).status).toBe(201);
  });

  it("same key, same body: the stored first response, marked replayed, with no second effect", async () => {
    const user = unique("replay");
    const k = unique("k");
    const first = await sendWith(k, `${w(user)}/deposits`, { amount_cents: 100 });
    const again = await SELF.fetch(`https://rushgate.test${w(user)}/deposits`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": k, ...serviceAuth },
      // Same body, other key order and spacing: the same request.
      body: '{ "amount_cents" : 100 }',
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(first.body);
    expect(await cash(user)).toEqual({ posted: 100, held: 0, available: 100 });
    expect((await walletEvents(user)).filter((e) => e.type === "wallet.deposited")).toHaveLength(1);
  });

  it("same key, different body: 422 IDEMPOTENCY_KEY_REUSED, and no effect", async () => {
    const user = unique("reuse");
    const k = unique("k");
    await sendWith(k, `${w(user)}/deposits`, { amount_cents: 100 });
    const res = await sendWith(k, `${w(user)}/deposits`, { amount_cents: 101 });
    expect(res).toEqual({ status: 422, body: { error: "IDEMPOTENCY_KEY_REUSED", message: expect.any(String) } });
    expect((await sendWith(k, `${w(user)}/withdrawals`, { amount_cents: 100 })).status).toBe(422);
    expect(await cash(user)).toEqual({ posted: 100, held: 0, available: 100 });
  });

  it("a failed first response is the response: a retry after a deposit still answers 409", async () => {
    const user = unique("failreplay");
    const k = unique("k");
    const first = await sendWith(k, `${w(user)}/withdrawals`, { amount_cents: 50 });
    expect(first.status).toBe(409);
    await deposit(user, 100);
    expect(await sendWith(k, `${w(user)}/withdrawals`, { amount_cents: 50 })).toEqual(first);
    expect((await withdraw(user, 50)).status).toBe(201);
  });

  it("invalid input is not stored: the same key works once the body is valid", async () => {
    const user = unique("invalid");
    const k = unique("k");
    expect((await sendWith(k, `${w(user)}/deposits`, { amount_cents: -1 })).status).toBe(400);
    expect((await sendWith(k, `${w(user)}/deposits`, { amount_cents: 1 })).status).toBe(201);
  });

  it("30 concurrent retries of one key: one effect, 30 identical responses", async () => {
    const user = unique("storm");
    await deposit(user, 1000);
    const k = unique("k");
    const results = await Promise.all(Array.from({ length: 30 }, () => sendWith(k, `${w(user)}/holds`, { amount_cents: 10 })));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]!.status).toBe(201);
    expect(await cash(user)).toEqual({ posted: 1000, held: 10, available: 990 });
  });

  it("keys are per wallet: one key used by two users is two requests", async () => {
    const [a, b] = [unique("ka"), unique("kb")];
    const k = unique("k");
    expect((await sendWith(k, `${w(a)}/deposits`, { amount_cents: 5 })).status).toBe(201);
    expect((await sendWith(k, `${w(b)}/deposits`, { amount_cents: 5 })).status).toBe(201);
    expect((await get(w(b))).body.cash.posted).toBe(5);
  });

  it("keys are kept 24 h, then expire; prune deletes only expired ones", async () => {
    const user = unique("ttl");
    await runInDurableObject(env.WALLET.getByName(user), (_, state) => {
      const store = new IdempotencyStore(state.storage.sql);
      let effects = 0;
      const effect = () => ok({ n: ++effects });
      const t0 = 1_000_000_000_000;
      const statuses = { ok: 201 } as const;
      const req = { key: "k1", fingerprint: "f", statuses };
      expect(store.run(req, effect, t0)).toEqual({ status: 201, body: '{"n":1}', replayed: false });
      expect(store.run(req, effect, t0 + IDEMPOTENCY_TTL_MS - 1)).toEqual({ status: 201, body: '{"n":1}', replayed: true });
      expect(store.run({ key: "k1", fingerprint: "g", statuses }, effect, t0 + 1).status).toBe(422);
      for (let i = 2; i <= 40; i++) store.run({ key: `k${i}`, fingerprint: "f", statuses }, effect, t0 + 1);
      // After 24 h a key is free again, even before the scheduled prune has deleted it.
      const later = t0 + 1 + IDEMPOTENCY_TTL_MS;
      expect(store.run(req, effect, later)).toEqual({ status: 201, body: '{"n":41}', replayed: false });
      const left = () => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM idempotency").one().n;
      expect(left()).toBe(40);
      // The prune deletes only expired keys and says when the next one expires.
      expect(store.nextExpiry()).toBe(t0 + 1 + IDEMPOTENCY_TTL_MS);
      expect(store.prune(later - 1)).toBe(later);
      expect(left()).toBe(40);
      expect(store.prune(later)).toBe(later + IDEMPOTENCY_TTL_MS);
      expect(left()).toBe(1);
    });
  });
});

describe("wallet bad input", () => {
  const user = "bad_input_user";
  const cases: [string, string, unknown, Record<string, string>?][] = [
    ["deposit: missing amount", "deposits", {}],
    ["deposit: zero", "deposits", { amount_cents: 0 }],
    ["deposit: negative", "deposits", { amount_cents: -5 }],
    ["deposit: fractional", "deposits", { amount_cents: 1.5 }],
    ["deposit: a string", "deposits", { amount_cents: "10" }],
    ["deposit: over the maximum", "deposits", { amount_cents: 1_000_000_000_001 }],
    ["deposit: malformed JSON", "deposits", '{"amount_cents":'],
    ["deposit: text/plain", "deposits", '{"amount_cents":1}', { "content-type": "text/plain" }],
    ["withdrawal: zero", "withdrawals", { amount_cents: 0 }],
    ["withdrawal: null body", "withdrawals", "null"],
    ["hold: missing amount", "holds", { ref: "x" }],
    ["hold: ref over 128", "holds", { amount_cents: 1, ref: "r".repeat(129) }],
    ["hold: ref a number", "holds", { amount_cents: 1, ref: 5 }],
    ["capture: zero", "holds/h_x/capture", { amount_cents: 0 }],
    ["capture: a string", "holds/h_x/capture", { amount_cents: "all" }],
    ["capture: a form body", "holds/h_x/capture", "amount_cents=1", { "content-type": "application/x-www-form-urlencoded" }],
  ];
  it.each(cases)("%s → 400 JSON naming the problem", async (_, path, body, headers) => {
    const res = await post(`${w(user)}/${path}`, body, { ...key(), ...headers });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect((await get(w(user))).body.cash.posted).toBe(0);
  });

  it("a body over 16 KiB: 413", async () => {
    const res = await post(`${w(user)}/deposits`, { amount_cents: 1, pad: "x".repeat(17 * 1024) }, key());
    expect(res).toEqual({ status: 413, body: { error: "PAYLOAD_TOO_LARGE", message: expect.any(String) } });
  });

  it("a balance past the safe-integer limit: 409 BALANCE_LIMIT", async () => {
    const rich = unique("rich");
    await deposit(rich, 1);
    await runInDurableObject(env.WALLET.getByName(rich), (_, state) => {
      state.storage.sql.exec("UPDATE wallet SET cash_posted = ?", Number.MAX_SAFE_INTEGER - 10);
    });
    expect(await deposit(rich, 11)).toEqual({ status: 409, body: { error: "BALANCE_LIMIT", message: expect.any(String) } });
    expect((await deposit(rich, 10)).status).toBe(201);
    expect((await get(w(rich))).body.cash.posted).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("bonus credits (RPC)", () => {
  it("credits the bonus balance once per award id and returns the first result", async () => {
    const user = unique("bonus");
    const stub = env.WALLET.getByName(user);
    const first = await stub.creditBonus("award-1", 500, "offer-7");
    expect(first).toEqual({
      ok: true,
      value: expect.objectContaining({ award_id: "award-1", kind: "BONUS_CREDIT", balance: "bonus", amount_cents: 500, balance_after_cents: 500, ref: "offer-7" }),
    });
    expect(await stub.creditBonus("award-1", 500, "offer-7")).toEqual(first);
    expect(await stub.creditBonus("award-1", 999)).toEqual(first);
    await evictDurableObject(stub);
    expect(await stub.creditBonus("award-1", 500)).toEqual(first);
    expect((await stub.creditBonus("award-2", 250)).ok).toBe(true);
    expect((await get(w(user))).body).toMatchObject({ cash: { posted: 0, held: 0, available: 0 }, bonus: { posted: 750 } });
    const events = (await walletEvents(user)).filter((e) => e.type === "wallet.bonus_credited");
    expect(events.map((e) => [e.data.award_id, e.data.amount_cents, e.data.bonus_posted_cents])).toEqual([
      ["award-1", 500, 500],
      ["award-2", 250, 750],
    ]);
  });

  it("concurrent credits of one award: one credit", async () => {
    const user = unique("bonusrace");
    const stub = env.WALLET.getByName(user);
    const results = await Promise.all(Array.from({ length: 10 }, () => stub.creditBonus("same", 100)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect((await get(w(user))).body.bonus.posted).toBe(100);
  });

  it("rejects a bad amount or award id without storing it", async () => {
    const user = unique("bonusbad");
    const stub = env.WALLET.getByName(user);
    expect(await stub.creditBonus("a", 0)).toMatchObject({ ok: false, error: "INVALID_REQUEST" });
    expect(await stub.creditBonus("a", 1.5)).toMatchObject({ ok: false, error: "INVALID_REQUEST" });
    expect(await stub.creditBonus("", 1)).toMatchObject({ ok: false, error: "INVALID_REQUEST" });
    expect(await stub.creditBonus("", 1)).not.toHaveProperty("http"); // actors return outcomes; routes pick statuses
    expect((await stub.creditBonus("a", 1)).ok).toBe(true);
  });
});

describe("wallet events", () => {
  it("every movement appends its event to one aggregate with gapless seq", async () => {
    const user = unique("evt");
    await deposit(user, 1000);
    await withdraw(user, 100);
    const a = (await hold(user, 200, "r-a")).body.hold_id;
    const b = (await hold(user, 300)).body.hold_id;
    await capture(user, a, 150);
    await release(user, b);
    await withdraw(user, 10_000); // refused: no event
    const events = await walletEvents(user);
    expect(events.map((e) => e.type)).toEqual([
      "wallet.deposited",
      "wallet.withdrawn",
      "wallet.held",
      "wallet.held",
      "wallet.captured",
      "wallet.released",
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.every((e) => e.aggregate === `wallet:${user}` && e.id === `wallet:${user}:${e.seq}`)).toBe(true);
    expect(events[4]!.data).toMatchObject({ user_id: user, currency: "GBP", hold_id: a, amount_cents: 150, released_cents: 50, ref: "r-a", cash_posted_cents: 750 });
    expect(events[5]!.data).toMatchObject({ hold_id: b, amount_cents: 300, cash_held_cents: 0 });
  });
});

describe("wallet durability", () => {
  it("loses nothing and replays the same responses when evicted mid-sequence", async () => {
    const user = unique("evict");
    const stub = env.WALLET.getByName(user);
    const k = unique("k");
    const first = await sendWith(k, `${w(user)}/deposits`, { amount_cents: 1000 });
    const { hold_id } = (await hold(user, 400)).body;
    await evictDurableObject(stub);
    expect(await sendWith(k, `${w(user)}/deposits`, { amount_cents: 1000 })).toEqual(first);
    expect(await cash(user)).toEqual({ posted: 1000, held: 400, available: 600 });
    expect((await capture(user, hold_id, 100)).status).toBe(200);
    await evictDurableObject(stub);
    expect((await release(user, hold_id)).body.error).toBe("HOLD_ALREADY_RESOLVED");
    expect((await withdraw(user, 900)).status).toBe(201);
    await evictDurableObject(stub);
    expect(await cash(user)).toEqual({ posted: 0, held: 0, available: 0 });
    const events = await walletEvents(user);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect((await get(`${w(user)}/ledger`)).body.entries.map((e: { kind: string }) => e.kind)).toEqual(["WITHDRAWAL", "CAPTURE", "DEPOSIT"]);
  });
});
