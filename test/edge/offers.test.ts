// The offers catalogue: every route and status, versions, hot-reload snapshots
// and the budget objects.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CATALOGUE, type Offers } from "../../src/actors/offers";
import { anonymous, call, eventsOf, get, post, unique } from "./helpers";
import { asUser } from "./auth-helpers";

const base = { name: "Weekend boost", min_stake_cents: 1000, bonus_pct: 0.1 };
const create = async (body: Record<string, unknown> = base) => {
  const res = await post("/api/offers", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const put = (id: string, body: unknown, headers?: Record<string, string>) => call("PUT", `/api/offers/${id}`, body, headers);
const del = (id: string, headers?: Record<string, string>) => call("DELETE", `/api/offers/${id}`, undefined, headers);
const catalogue = () => env.OFFERS.getByName(CATALOGUE);

describe("POST /api/offers", () => {
  it("201 with the offer, its id and version 1; optional fields default to null and active to true", async () => {
    const res = await post("/api/offers", base);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^off_/),
      version: 1,
      name: "Weekend boost",
      min_stake_cents: 1000,
      bonus_pct: 0.1,
      active: true,
      max_bonus_cents: null,
      markets: null,
      min_odds: null,
      starts_at: null,
      ends_at: null,
      budget_cents: null,
      max_awards_per_user: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await get(`/api/offers/${res.body.id}`)).body).toMatchObject({ ...base, id: res.body.id, version: 1 });
  });

  it("stores bonus_pct and min_odds exactly (4 decimals) and normalizes times to UTC", async () => {
    const o = await create({
      ...base,
      bonus_pct: 0.1234,
      min_odds: 1.0001,
      max_bonus_cents: 500,
      markets: ["1X2", "BTTS"],
      starts_at: "2030-01-01T01:00:00+01:00",
      ends_at: "2030-02-01T00:00:00Z",
      budget_cents: 10_000,
      max_awards_per_user: 3,
      active: false,
    });
    expect(o).toMatchObject({ bonus_pct: 0.1234, min_odds: 1.0001, starts_at: "2030-01-01T00:00:00.000Z", active: false });
    await runInDurableObject(catalogue(), async (_: Offers, state) => {
      const terms = JSON.parse(state.storage.sql.exec<{ terms: string }>("SELECT terms FROM offers WHERE id = ?", o.id).one().terms);
      expect([terms.bonus_e4, terms.min_odds_e4]).toEqual([1234, 10001]);
    });
  });

  it("400 for invalid bodies, and nothing is created", async () => {
    const before = (await get("/api/offers?limit=1000")).body.offers.length;
    const bad: Record<string, unknown>[] = [
      { ...base, bonus_pct: 0 },
      { ...base, bonus_pct: 1.0001 },
      { ...base, bonus_pct: 0.12345 },
      { ...base, bonus_pct: "0.1" },
      { ...base, min_stake_cents: -1 },
      { ...base, min_stake_cents: 1.5 },
      { ...base, max_bonus_cents: 0 },
      { ...base, markets: [] },
      { ...base, markets: ["a", "a"] },
      { ...base, min_odds: 1 },
      { ...base, starts_at: "yesterday" },
      { ...base, starts_at: "2030-01-02T00:00:00Z", ends_at: "2030-01-01T00:00:00Z" },
      { ...base, budget_cents: 0 },
      { ...base, max_awards_per_user: 0 },
      { ...base, extra: 1 },
      { min_stake_cents: 1, bonus_pct: 0.1 },
      { name: "", min_stake_cents: 1, bonus_pct: 0.1 },
    ];
    for (const body of bad) {
      const res = await post("/api/offers", body);
      expect([res.status, res.body.error], JSON.stringify(body)).toEqual([400, "INVALID_REQUEST"]);
    }
    expect((await get("/api/offers?limit=1000")).body.offers.length).toBe(before);
  });
});

describe("PUT /api/offers/{id}", () => {
  it("replaces the fields given, keeps the rest (active included), and makes a new version", async () => {
    const o = await create({ ...base, budget_cents: 5000, active: false });
    const res = await put(o.id, { bonus_pct: 0.2, markets: ["1X2"] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...base, bonus_pct: 0.2, markets: ["1X2"], budget_cents: 5000, active: false, version: 2 });
    // null clears an optional field.
    expect((await put(o.id, { budget_cents: null })).body).toMatchObject({ budget_cents: null, version: 3 });
  });

  it("a PUT that changes nothing makes no version", async () => {
    const o = await create();
    expect((await put(o.id, { bonus_pct: 0.1, name: base.name })).body.version).toBe(1);
    expect((await get(`/api/offers/${o.id}/versions`)).body.versions).toHaveLength(1);
  });

  it("404 for an unknown id, 400 for a bad body or id, and nothing changes", async () => {
    const o = await create();
    expect((await put("off_nope", { bonus_pct: 0.2 })).status).toBe(404);
    expect((await put(o.id, { bonus_pct: 2 })).status).toBe(400);
    expect((await put(o.id, { ends_at: "2000-01-01T00:00:00Z", starts_at: "2001-01-01T00:00:00Z" })).status).toBe(400);
    expect((await put(o.id, { nope: 1 })).status).toBe(400);
    expect((await put("bad%20id", { bonus_pct: 0.2 })).status).toBe(400);
    expect((await get(`/api/offers/${o.id}`)).body.version).toBe(1);
  });

  it("rolling back is a PUT of an old version's fields", async () => {
    const o = await create({ ...base, max_bonus_cents: 100 });
    await put(o.id, { bonus_pct: 0.5, max_bonus_cents: null, markets: ["X"] });
    const v1 = (await get(`/api/offers/${o.id}/versions`)).body.versions[0].offer;
    const { id: _, version: __, created_at: ___, updated_at: ____, ...fields } = v1;
    const back = await put(o.id, fields);
    expect(back.body).toMatchObject({ ...fields, version: 3 });
  });
});

describe("DELETE /api/offers/{id}", () => {
  it("deactivates, keeps history; a repeat changes nothing; unknown is 404", async () => {
    const o = await create();
    const res = await del(o.id);
    expect([res.status, res.body.active, res.body.version]).toEqual([200, false, 2]);
    expect((await del(o.id)).body.version).toBe(2);
    expect((await get(`/api/offers/${o.id}`)).body.active).toBe(false);
    expect((await get(`/api/offers/${o.id}/versions`)).body.versions.map((v: any) => v.offer.active)).toEqual([true, false]);
    expect((await del("off_unknown")).status).toBe(404);
  });
});

describe("GET /api/offers/{id}/versions", () => {
  it("each version says who made it, when, and what changed", async () => {
    const o = await create();
    await put(o.id, { bonus_pct: 0.25, min_stake_cents: 2000 });
    const { versions } = (await get(`/api/offers/${o.id}/versions`)).body;
    expect(versions).toHaveLength(2);
    expect(versions[0]).toMatchObject({ version: 1, made_by: "service", made_at: expect.any(String) });
    expect(versions[0].changes.bonus_pct).toEqual({ from: null, to: 0.1 });
    expect(versions[1].changes).toEqual({ bonus_pct: { from: 0.1, to: 0.25 }, min_stake_cents: { from: 1000, to: 2000 } });
    expect(versions[1].offer).toMatchObject({ bonus_pct: 0.25, version: 2 });
    expect((await get("/api/offers/off_none/versions")).status).toBe(404);
    const page = (await get(`/api/offers/${o.id}/versions?limit=1`)).body;
    expect([page.versions.length, page.next_cursor]).toEqual([1, "1"]);
    expect((await get(`/api/offers/${o.id}/versions?limit=1&cursor=1`)).body.versions[0].version).toBe(2);
  });
});

describe("reads", () => {
  it("the list and an offer are public; the history and usage are the service's", async () => {
    const o = await create();
    expect((await get("/api/offers", anonymous)).status).toBe(200);
    const pub = await get(`/api/offers/${o.id}`, anonymous);
    expect(pub.status).toBe(200);
    expect(pub.body.usage).toBeUndefined();
    expect((await get(`/api/offers/${o.id}`)).body.usage).toEqual({ reserved_cents: 0, awards: 0 });
    expect((await get(`/api/offers/${o.id}/versions`, anonymous)).status).toBe(401);
    expect((await get(`/api/offers/${o.id}/versions`, await asUser("u"))).status).toBe(403);
    expect((await get("/api/offers/off_missing")).status).toBe(404);
  });

  it("lists oldest first with a cursor, and ?active=true leaves out inactive ones", async () => {
    const a = await create();
    const b = await create({ ...base, active: false });
    const all = (await get("/api/offers?limit=1000")).body.offers.map((o: any) => o.id);
    expect(all.indexOf(a.id)).toBeLessThan(all.indexOf(b.id));
    const active = (await get("/api/offers?limit=1000&active=true")).body.offers.map((o: any) => o.id);
    expect(active).toContain(a.id);
    expect(active).not.toContain(b.id);
    const first = (await get("/api/offers?limit=1")).body;
    expect(first.next_cursor).toBeDefined();
    const next = (await get(`/api/offers?limit=1&cursor=${first.next_cursor}`)).body.offers[0];
    expect(next.id).not.toBe(first.offers[0].id);
  });
});

describe("events", () => {
  it("every change emits offer.upserted with the offer, its version and what changed; a no-op emits nothing", async () => {
    const o = await create();
    await put(o.id, { bonus_pct: 0.3 });
    await put(o.id, { bonus_pct: 0.3 });
    await del(o.id);
    const mine = (await eventsOf(catalogue(), "offers:catalogue")).filter((e) => e.data.offer_id === o.id);
    expect(mine.map((e) => [e.type, e.data.version, e.data.active, e.data.bonus_pct])).toEqual([
      ["offer.upserted", 1, true, 0.1],
      ["offer.upserted", 2, true, 0.3],
      ["offer.upserted", 3, false, 0.3],
    ]);
  });
});
