import { describe, expect, test } from "vitest";
import { fromExternalMessage, fromMessage, toMessage, topicFor } from "../../workers/lib/kafka-message.ts";
import { envelope } from "./helpers.ts";

/** What kafkajs hands a consumer: headers and value as Buffers. */
const received = (m: { value: string; headers: Record<string, string> }) => ({
  value: Buffer.from(m.value),
  headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe("kafka message format", () => {
  test("routes event types by prefix", () => {
    expect(topicFor("coupon.claimed")).toBe("coupon.events");
    expect(topicFor("campaign.packet_opened")).toBe("campaign.events");
    expect(topicFor("wallet.bonus_credited")).toBe("wallet.events");
    expect(topicFor("bet.settled")).toBe("bet.events");
    expect(topicFor("claim")).toBeUndefined();
    expect(topicFor("coupon")).toBeUndefined();
    expect(topicFor("coupons")).toBeUndefined();
    expect(topicFor(".claimed")).toBeUndefined();
    expect(topicFor("offer.accepted")).toBeUndefined();
  });

  test("key = aggregate, value = data as JSON, envelope fields in string headers", () => {
    const e = envelope("coupon:PROMO", 12, "coupon.claimed", { coupon_name: "PROMO", user_id: "u1" });
    expect(toMessage(e)).toEqual({
      key: "coupon:PROMO",
      value: '{"coupon_name":"PROMO","user_id":"u1"}',
      headers: { "event-id": "coupon:PROMO:12", "event-type": "coupon.claimed", aggregate: "coupon:PROMO", seq: "12", time: e.time },
    });
  });

  test("fromMessage rebuilds the envelope", () => {
    const e = envelope("bet:B1", 3, "bet.settled", { bet_id: "B1", nested: [1, { x: null }] });
    expect(fromMessage(received(toMessage(e)))).toEqual({ ok: true, envelope: e });
  });

  test.each([
    ["a missing header", (m: ReturnType<typeof toMessage>) => ({ ...m, headers: { ...m.headers, "event-id": undefined } }), /missing header/],
    ["no headers", (m: ReturnType<typeof toMessage>) => ({ value: m.value }), /missing header/],
    ["a value that is not JSON", (m: ReturnType<typeof toMessage>) => ({ ...m, value: "{nope" }), /not JSON/],
    ["a null value", (m: ReturnType<typeof toMessage>) => ({ ...m, value: null }), /empty value/],
    ["a seq that is not an integer", (m: ReturnType<typeof toMessage>) => ({ ...m, headers: { ...m.headers, seq: "1.5" } }), /seq/],
    ["a time that is not a date", (m: ReturnType<typeof toMessage>) => ({ ...m, headers: { ...m.headers, time: "soon" } }), /time/],
  ])("fromMessage reports %s instead of throwing", (_, mangle, error) => {
    const decoded = fromMessage(mangle(toMessage(envelope("coupon:A", 1, "coupon.claimed", {}))));
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? "" : decoded.error).toMatch(error);
  });

  test("an events.bet_placed message is named by its place in Kafka, so a redelivery is the same event", () => {
    const value = JSON.stringify({ eventId: "match-1", ts: 1795300000000, userId: "u9", market: "1X2", stake: 250, currency: "GBP" });
    const first = fromExternalMessage("events.bet_placed", 2, { value, offset: "41" });
    const again = fromExternalMessage("events.bet_placed", 2, { value, offset: "41" });
    expect(first).toEqual(again);
    expect(first).toEqual({
      ok: true,
      envelope: {
        id: "kafka:events.bet_placed/2:42",
        type: "bet.placed_external",
        aggregate: "kafka:events.bet_placed/2",
        seq: 42,
        time: new Date(1795300000000).toISOString(),
        data: JSON.parse(value),
      },
    });
    expect(fromExternalMessage("events.bet_placed", 0, { value: "[1]", offset: "0" }).ok).toBe(false);
    expect(fromExternalMessage("events.bet_placed", 0, { value: "{nope", offset: "0" }).ok).toBe(false);
  });
});
