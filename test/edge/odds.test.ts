// Odds: the REST read model, the version rule, and the /ws/odds feed through
// hibernation, eviction, reconnects, slow clients and bad frames.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OddsFeed } from "../../src/actors/odds-feed";
import { MAX_SUBSCRIPTIONS } from "../../src/actors/odds-feed";
import { SLOW_CLIENT } from "../../src/lib/hub";
import { relayFor } from "../../src/lib/relays";
import { connect, eventId, oddsMsg, publishOdds, type Msg } from "./feed-helpers";
import { anonymous, call, get, post } from "./helpers";

const hub = () => env.ODDS_FEED.getByName("odds");
const updates = (msgs: Msg[], id: string) => msgs.filter((m) => m.type === "update" && m.eventId === id);

describe("odds REST", () => {
  it("applies an update, keeps the decimals exactly as sent, lists the event and its markets", async () => {
    const id = eventId();
    const res = await post("/api/odds", { ...oddsMsg(id, 1), odds: { home: "2.10", draw: 3.4, away: "1.005" } });
    expect([res.status, res.body]).toEqual([201, { status: "APPLIED", event_id: id, market: "1X2", version: 1 }]);
    const odds = await get(`/api/events/${id}/odds`, anonymous);
    expect(odds.status).toBe(200);
    expect(odds.body.markets).toEqual([
      { market: "1X2", odds: { home: "2.10", draw: "3.4", away: "1.005" }, version: 1, updated_at: "2026-01-01T12:00:00Z", source: "sportsbook" },
    ]);
    await post("/api/odds", oddsMsg(id, 1, "1.50", "OU2.5"));
    expect((await get(`/api/events/${id}/markets`, anonymous)).body.markets.map((m: any) => m.market)).toEqual(["1X2", "OU2.5"]);
    const list = await get("/api/events?limit=1000", anonymous);
    expect(list.body.events).toContainEqual({ event_id: id, home_team: "Home FC", away_team: "Away United", first_seen_at: expect.any(String) });
  });

  it("ignores and counts an update at or below the stored version: odds never move backwards", async () => {
    const id = eventId();
    await post("/api/odds", oddsMsg(id, 5, "2.00"));
    for (const [version, home] of [[5, "9.99"], [4, "8.88"], [0, "7.77"]] as const) {
      const res = await post("/api/odds", oddsMsg(id, version, home));
      expect([res.status, res.body.status, res.body.current_version]).toEqual([200, "STALE", 5]);
    }
    const odds = (await get(`/api/events/${id}/odds`)).body;
    expect([odds.markets[0].odds.home, odds.markets[0].version, odds.stale_ignored]).toEqual(["2.00", 5, 3]);
    // Only the applied update became an event.
    const relay = relayFor(env, `odds:${id}`);
    await relay.forward();
    expect((await post("/api/odds", oddsMsg(id, 6, "2.50"))).status).toBe(201);
    expect((await get(`/api/events/${id}/odds`)).body.markets[0].odds.home).toBe("2.50");
  });

  it("unknown ids are 404; bad messages are 400 and change nothing; posting needs the service token", async () => {
    expect((await get(`/api/events/${eventId("NOPE")}/odds`, anonymous)).status).toBe(404);
    expect((await get(`/api/events/${eventId("NOPE")}/markets`, anonymous)).status).toBe(404);
    expect((await get("/api/events/bad%20id/odds")).status).toBe(400);
    const id = eventId();
    for (const bad of [
      { ...oddsMsg(id, 1), odds: { home: "abc", draw: "3", away: "2" } },
      { ...oddsMsg(id, 1), odds: { home: "0.5", draw: "3", away: "2" } },
      { ...oddsMsg(id, 1), odds: { home: "2.12345", draw: "3", away: "2" } },
      { ...oddsMsg(id, 1), version: -1 },
      { ...oddsMsg(id, 1), version: 1.5 },
      { ...oddsMsg(id, 1), updated_at: "yesterday" },
      { ...oddsMsg(id, 1), event_id: "has space" },
      { ...oddsMsg(id, 1), market: undefined },
    ]) {
      const res = await post("/api/odds", bad);
      expect([res.status, res.body.error], JSON.stringify(bad)).toEqual([400, "INVALID_REQUEST"]);
    }
    expect((await call("POST", "/api/odds", oddsMsg(id, 1), anonymous)).status).toBe(401);
    expect((await get(`/api/events/${id}/odds`)).status).toBe(404);
  });
});

describe("/ws/odds", () => {
  it("a subscribe is answered with a snapshot; then each update for it, in version order, with seqs", async () => {
    const id = eventId();
    const other = eventId();
    await publishOdds(id, 1, "2.00");
    const c = await connect("/ws/odds");
    expect((await c.nth("hello")).resumed).toBe(false);
    const snap = await c.ask({ type: "subscribe", eventId: id });
    expect(snap).toMatchObject({ type: "snapshot", eventId: id, markets: [{ event_id: id, version: 1, odds: { home: "2.00" } }] });
    await publishOdds(other, 1);
    await publishOdds(id, 3, "2.30");
    await publishOdds(id, 2, "2.20"); // stale by the time it arrives: never sent
    await publishOdds(id, 4, "2.40");
    const got = updates(await c.until((m) => updates(m, id).length >= 2), id);
    expect(got.map((m) => [m.payload.version, m.payload.odds.home])).toEqual([[3, "2.30"], [4, "2.40"]]);
    expect(got[1]!.seq).toBeGreaterThan(got[0]!.seq);
    expect(got[0]!.seq).toBeGreaterThan(snap.seq);
    expect(c.msgs.some((m) => m.eventId === other && m.type === "update")).toBe(false);
    const unsub = await c.ask({ type: "unsubscribe", eventId: id });
    expect(unsub).toMatchObject({ type: "unsubscribed", eventId: id });
    await publishOdds(id, 5);
    const marker = await c.ask({ type: "subscribe", eventId: other }); // a later reply proves nothing was sent in between
    expect(marker.type).toBe("snapshot");
    expect(updates(c.msgs, id)).toHaveLength(2);
    c.close();
  });

  it("survives eviction between messages: subscriptions from the attachments, seqs from storage", async () => {
    const [a, b] = [eventId("A"), eventId("B")];
    const c = await connect("/ws/odds");
    await c.ask({ type: "subscribe", eventId: a });
    await c.ask({ type: "subscribe", eventId: b });
    await c.ask({ type: "unsubscribe", eventId: b });
    await publishOdds(a, 1);
    const first = (await c.nth("update", 1)).seq;
    await evictDurableObject(hub());
    await publishOdds(b, 1);
    await publishOdds(a, 2);
    const second = await c.nth("update", 2);
    expect([second.eventId, second.payload.version, second.seq]).toEqual([a, 2, first + 2]); // b's update took first + 1
    await evictDurableObject(hub());
    // A command after eviction still sees the subscriptions.
    const snap = await c.ask({ type: "subscribe", eventId: b });
    expect(snap).toMatchObject({ type: "snapshot", eventId: b, seq: first + 2, markets: [{ version: 1 }] });
    await publishOdds(b, 2);
    await publishOdds(a, 3);
    await c.until((m) => updates(m, a).length === 3 && updates(m, b).length === 1);
    expect(c.of("update").map((m) => m.seq)).toEqual([first, first + 2, first + 3, first + 4]);
    c.close();
  });

  it("a reconnect with ?after=<seq> gets every missed update once; past the buffer it is reset with a snapshot", async () => {
    const id = eventId();
    const c = await connect(`/ws/odds?events=${id}`);
    await c.nth("snapshot");
    await publishOdds(id, 1);
    const last = (await c.nth("update")).seq;
    c.close();
    for (let v = 2; v <= 5; v++) await publishOdds(id, v);
    await publishOdds(eventId(), 1); // someone else's
    const again = await connect(`/ws/odds?events=${id}&after=${last}`);
    const got = await again.until((m) => updates(m, id).length >= 4);
    expect(got[0]).toMatchObject({ type: "hello", resumed: true });
    expect(updates(got, id).map((m) => m.payload.version)).toEqual([2, 3, 4, 5]);
    expect(again.of("snapshot")).toEqual([]);
    const more = await again.ask({ type: "subscribe", eventId: id }); // nothing else came
    expect(updates(again.msgs, id)).toHaveLength(4);
    expect(more.type).toBe("snapshot");
    again.close();

    await runInDurableObject(hub(), (h: OddsFeed) => {
      (h as any).bufferSize = 2;
    });
    for (let v = 6; v <= 9; v++) await publishOdds(id, v);
    const stale = await connect(`/ws/odds?events=${id}&after=${last}`);
    const hello = await stale.nth("hello");
    expect([hello.resumed, hello.reset]).toEqual([false, true]);
    expect((await stale.nth("snapshot")).markets[0].version).toBe(9);
    stale.close();
    await evictDurableObject(hub()); // back to the default buffer
  });

  it("a socket with more than the bound unacknowledged is closed, never waited for; one that acks keeps its feed", async () => {
    const id = eventId();
    const slow = await connect(`/ws/odds?events=${id}`);
    const fine = await connect(`/ws/odds?events=${id}`);
    await slow.nth("snapshot");
    await fine.nth("snapshot");
    await runInDurableObject(hub(), (h: OddsFeed) => {
      (h as any).maxQueuedBytes = 1500; // a few updates' worth
    });
    for (let v = 1; v <= 8; v++) {
      await publishOdds(id, v);
      const got = await fine.nth("update", v);
      fine.send({ type: "ack", seq: got.seq });
      await fine.ask({ type: "ping", x: 1 }); // the ack is read before the next update
    }
    await slow.until(() => slow.closed !== null, "the close");
    expect(slow.closed!.code).toBe(SLOW_CLIENT);
    const received = updates(slow.msgs, id).length;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(8);
    expect(updates(fine.msgs, id).map((m) => m.payload.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fine.closed).toBeNull();
    expect(await fine.ask({ type: "ack", seq: "x" })).toMatchObject({ type: "error", error: "BAD_FRAME" });
    fine.close();
    await evictDurableObject(hub()); // the next test gets a hub with the default bound
  });

  it("bad frames get an error frame and the socket stays open; other sockets are untouched", async () => {
    const id = eventId();
    const c = await connect("/ws/odds");
    const other = await connect(`/ws/odds?events=${id}`);
    await c.nth("hello");
    const cases: [unknown, string][] = [
      ["not json", "BAD_FRAME"],
      ["[1,2]", "BAD_FRAME"],
      ["null", "BAD_FRAME"],
      [{ type: "dance" }, "UNKNOWN_TYPE"],
      [{ type: "subscribe" }, "BAD_EVENT_ID"],
      [{ type: "subscribe", eventId: "a b" }, "BAD_EVENT_ID"],
      [{ type: "subscribe", eventId: "x".repeat(65) }, "BAD_EVENT_ID"],
      [{ type: "unsubscribe", eventId: 7 }, "BAD_EVENT_ID"],
      ["x".repeat(5000), "BAD_FRAME"],
    ];
    for (const [frame, code] of cases) {
      const reply = await c.ask(frame);
      expect([reply.type, reply.error], JSON.stringify(frame).slice(0, 40)).toEqual(["error", code]);
      expect(reply.seq).toEqual(expect.any(Number));
    }
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) await c.ask({ type: "subscribe", eventId: `${id}_${i}` });
    expect(await c.ask({ type: "subscribe", eventId: `${id}_over` })).toMatchObject({ type: "error", error: "TOO_MANY_SUBSCRIPTIONS" });
    expect((await c.ask({ type: "ping", extra: 1 })).type).toBe("pong");
    expect(c.closed).toBeNull();
    await publishOdds(id, 1);
    expect((await other.nth("update")).payload.version).toBe(1);
    c.close();
    other.close();
  });

  it("the exact ping frame is answered by the runtime without waking the hub", async () => {
    const c = await connect("/ws/odds");
    await c.nth("hello");
    await evictDurableObject(hub());
    expect(await c.ask({ type: "ping" })).toEqual({ type: "pong" }); // the auto-response carries no seq
    c.close();
  });

  it("refuses too many events in the URL and an unknown upgrade-less request", async () => {
    const ids = Array.from({ length: MAX_SUBSCRIPTIONS + 1 }, (_, i) => `E${i}`).join(",");
    const c = await connect(`/ws/odds?events=${ids}`);
    expect(await c.nth("error")).toMatchObject({ error: "TOO_MANY_SUBSCRIPTIONS" });
    await c.until(() => c.closed !== null, "the close");
    expect(c.closed!.code).toBe(1008);
    const res = await get("/ws/odds", anonymous);
    expect([res.status, res.body.error]).toEqual([426, "UPGRADE_REQUIRED"]);
  });

  it("a relay's repeated delivery is ignored by position", async () => {
    const id = eventId();
    await publishOdds(id, 1);
    const relay = relayFor(env, `odds:${id}`);
    const entries = (await relay.read(0, 10_000)).filter((e) => e.event.aggregate === `odds:${id}`);
    expect(entries).toHaveLength(1);
    const source = (await runInDurableObject(relay, (_r, state) => state.id.name))!;
    expect(await hub().deliver(source, entries)).toBe(0);
  });
});
