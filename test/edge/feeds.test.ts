// Awards, stats and rain feeds, /api/stats and /metrics.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CampaignFeed } from "../../src/actors/campaign-feed";
import type { Relay } from "../../src/actors/relay";
import { LATEST_AWARDS } from "../../src/actors/awards-feed";
import type { Envelope } from "../../src/lib/envelope";
import { relayFor, relayShard } from "../../src/lib/relays";
import { addCounts, readCounts } from "../../src/lib/stats";
import { asUser } from "./auth-helpers";
import { connect, settle } from "./feed-helpers";
import { anonymous, bridgeAuth, call, get, post, raw, serviceAuth, unique } from "./helpers";

const HOUR = 3_600_000;

/** Commits an offer.awarded the way the offers engine will: through a relay, then forwarded. */
async function award(user: string, bonus: number): Promise<string> {
  const aggregate = `offer:${unique("o")}`;
  const e: Envelope = {
    id: `${aggregate}:1`,
    type: "offer.awarded",
    aggregate,
    seq: 1,
    time: new Date().toISOString(),
    data: { award_id: unique("aw"), user_id: user, bonus_cents: bonus },
  };
  const relay = relayFor(env, aggregate);
  await relay.append([e]);
  await relay.append([e]); // a repeated push: logged once, shown once
  await relay.forward();
  return e.id;
}

async function ticket(headers?: Record<string, string>): Promise<string> {
  const res = await call("POST", "/api/feeds/awards/tickets", undefined, headers);
  expect(res.status).toBe(201);
  return res.body.ticket;
}

describe("/ws/awards", () => {
  it("needs a ticket; the service sees every award once, a user only their own; newcomers get the latest first", async () => {
    const [ann, bob] = [unique("ann"), unique("bob")];
    expect((await raw("GET", "/ws/awards", undefined, { upgrade: "websocket", ...anonymous })).status).toBe(401);
    expect((await raw("GET", "/ws/awards?ticket=forged", undefined, { upgrade: "websocket" })).status).toBe(401);
    expect((await call("POST", "/api/feeds/awards/tickets", undefined, anonymous)).status).toBe(401);

    const ops = await connect(`/ws/awards?ticket=${await ticket()}`);
    const mine = await connect(`/ws/awards?ticket=${await ticket(await asUser(ann))}`);
    await ops.nth("hello");
    await mine.nth("hello");
    const ids = [await award(ann, 500), await award(bob, 700), await award(ann, 300)];
    await ops.until((m) => m.filter((x) => x.type === "award").length >= 3);
    expect(ops.of("award").map((m) => m.eventId).slice(-3)).toEqual(ids);
    const annSees = await mine.until((m) => m.filter((x) => x.type === "award").length >= 2);
    expect(annSees.filter((x) => x.type === "award").map((m) => m.award.user_id)).toEqual([ann, ann]);
    // A user's header cannot pose as the service: the Worker sets the viewer.
    const sneaky = await connect(`/ws/awards?ticket=${await ticket(await asUser(bob))}`, { "x-feed-viewer": "service" });
    const bobs = await sneaky.until((m) => m.some((x) => x.type === "award"));
    expect(bobs.filter((x) => x.type === "award").map((m) => m.award.user_id)).toEqual([bob]);
    const late = await connect(`/ws/awards?ticket=${await ticket()}`);
    const latest = await late.until((m) => m.filter((x) => x.type === "award").length >= Math.min(3, LATEST_AWARDS));
    expect(latest.filter((x) => x.type === "award").map((m) => m.eventId).slice(-3)).toEqual(ids);
    for (const c of [ops, mine, sneaky, late]) c.close();
  });
});

describe("stats", () => {
  it("counts committed events, merged over relay shards, in /api/stats and /metrics", async () => {
    const before = (await get("/api/stats", anonymous)).body.totals;
    const coupon = unique("STAT");
    await post("/api/coupons", { name: coupon, amount: 5 });
    for (const u of ["a", "b"]) expect((await post("/api/coupons/claim", { coupon_name: coupon, user_id: unique(u) })).status).toBe(200);
    await runDurableObjectAlarm(env.COUPON.getByName(coupon));
    await award(unique("u"), 250);
    const after = (await get("/api/stats", anonymous)).body.totals;
    expect(after.coupon_claims - before.coupon_claims).toBe(2);
    expect([after.awards - before.awards, after.award_bonus_cents - before.award_bonus_cents]).toEqual([1, 250]);

    expect((await get("/metrics", anonymous)).status).toBe(401);
    const res = await raw("GET", "/metrics");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain("# TYPE rushgate_coupon_claims_total counter");
    expect(text).toMatch(new RegExp(`^rushgate_coupon_claims_total ${after.coupon_claims}$`, "m"));
  });

  it("counts the bridge's retries and dead letters once per reported id; bad reports are 4xx and count nothing", async () => {
    const totals = async () => (await get("/api/stats", anonymous)).body.totals;
    const report = (body: unknown, headers = bridgeAuth) => call("POST", "/internal/failures", body, headers);
    const id = unique("kafka:coupon.claim.req/0:");
    const before = await totals();
    expect((await report({ kind: "retries", ids: [`${id}#1`, `${id}#2`] })).body).toEqual({ counted: 2 });
    expect((await report({ kind: "dlq", ids: [id] })).body).toEqual({ counted: 1 });
    // The same report again (the bridge never heard the answer): nothing new.
    expect((await report({ kind: "retries", ids: [`${id}#2`, `${id}#1`] })).body).toEqual({ counted: 0 });
    for (const bad of [{ kind: "5xx", ids: [id] }, { kind: "dlq", ids: [] }, { kind: "dlq", ids: [id], extra: 1 }]) {
      const res = await report(bad);
      expect([res.status, res.body.error]).toEqual([400, "INVALID_REQUEST"]);
    }
    for (const wrong of [anonymous, serviceAuth, { authorization: "Bearer nope" }]) expect((await report({ kind: "dlq", ids: [unique("x")] }, wrong)).status).toBe(401);
    const after = await totals();
    expect([after.failures_retries - before.failures_retries, after.failures_dlq - before.failures_dlq]).toEqual([2, 1]);
  });

  it("a shard's per-second counts are those of the last complete second (clock injected)", async () => {
    const t = Date.UTC(2026, 0, 1, 0, 0, 10);
    const counts = await runInDurableObject(relayShard(env, 7), (_r: Relay, state) => {
      const sql = state.storage.sql;
      const base = readCounts(sql, t).totals.odds_updates;
      addCounts(sql, { odds_updates: 3 }, t - 900); // second 9
      addCounts(sql, { odds_updates: 2 }, t + 10); // second 10
      return { at10: readCounts(sql, t + 500), at11: readCounts(sql, t + 1000), base };
    });
    expect(counts.at10.per_second.odds_updates).toBe(3);
    expect(counts.at11.per_second.odds_updates).toBe(2);
    expect(counts.at11.totals.odds_updates - counts.base).toBe(5);
  });

  it("/ws/stats sends a tick per alarm while watched, and stops its timer when nobody is", async () => {
    const hub = env.STATS_FEED.getByName("stats");
    const c = await connect("/ws/stats");
    const first = await c.nth("stats");
    expect(first.totals).toEqual(expect.objectContaining({ bets_placed: expect.any(Number) }));
    expect(await runInDurableObject(hub, (_h, s) => s.storage.getAlarm())).not.toBeNull();
    await runDurableObjectAlarm(hub);
    const tick = await c.nth("stats", 2);
    expect(tick.seq).toBe(first.seq + 1);
    c.close();
    await c.until(() => c.closed !== null, "the close");
    for (let i = 0; i < 200 && (await hub.status()).sockets > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await runDurableObjectAlarm(hub); // nobody watches: no re-arm
    expect(await runInDurableObject(hub, (_h, s) => s.storage.getAlarm())).toBeNull();
  });
});

describe("/ws/campaigns/{id}", () => {
  it("sends remaining and the amounts opened, coalesced to one message per 100 ms (clock injected)", async () => {
    const created = await post("/api/campaigns", {
      name: "rain",
      start_time: new Date(Date.now() - HOUR).toISOString(),
      end_time: new Date(Date.now() + HOUR).toISOString(),
      inventory: { "100": 5 },
      shards: 1,
    });
    const id: string = created.body.id;
    await settle(env.CAMPAIGN.getByName(id), `campaign:${id}`);
    const hub = env.CAMPAIGN_FEED.getByName(id);
    let now = 1_000_000;
    await runInDurableObject(hub, (h: CampaignFeed) => {
      h.clock = () => now;
    });
    const c = await connect(`/ws/campaigns/${id}`);
    expect(await c.nth("rain")).toMatchObject({ remaining: 5, opened: 0, amounts: [] });
    const open = async () => {
      expect((await post(`/api/campaigns/${id}/open`, { user_id: unique("r") })).status).toBe(200);
      await settle(env.CAMPAIGN_SHARD.getByName(`${id}/0`), `campaign:${id}/0`);
    };
    await open();
    expect(await c.nth("rain", 2)).toMatchObject({ remaining: 4, opened_now: 1, amounts: [100], opened_cents: 100 });
    await open();
    await open();
    expect(await runInDurableObject(hub, (_h, s) => s.storage.getAlarm())).not.toBeNull();
    const marker = await c.ask({ type: "ping", x: 1 }); // everything sent so far has arrived
    expect(marker.type).toBe("pong");
    expect(c.of("rain")).toHaveLength(2); // coalesced: nothing until 100 ms have passed on the hub's clock
    now += 100;
    await runDurableObjectAlarm(hub);
    expect(await c.nth("rain", 3)).toMatchObject({ remaining: 2, opened_now: 2, amounts: [100, 100] });
    expect((await get(`/ws/campaigns/not-a-uuid`)).status).toBe(400);
    c.close();
  });
});
