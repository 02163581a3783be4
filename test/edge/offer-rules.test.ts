// offers.rules: the original engine's rule messages, in and out, and the one
// place their units are converted.
import { describe, expect, it } from "vitest";
import { fromRuleMessage, toRuleMessage } from "../../src/lib/offer-rules";
import { bridgeAuth, call, get, post, unique } from "./helpers";

const ingest = (messages: { topic: string; value: unknown; id?: string }[]) =>
  call("POST", "/internal/ingest", { messages }, bridgeAuth);
const rule = (id: string, extra: object = {}) => ({
  type: "UPSERT",
  rule: { id, name: "From Kafka", minStake: 10.5, bonusPct: 12.5, ...extra },
});

describe("unit conversion (src/lib/offer-rules.ts)", () => {
  it("major units ×100, percent ÷100, times to ISO; and back", () => {
    const parsed = fromRuleMessage(
      rule("r", { maxBonus: 2.05, budget: 1000, minOdds: 1.5, startsAt: 1_900_000_000_000, endsAt: "2030-06-01T00:00:00+02:00", bonusPct: 0.01 }),
    );
    expect(parsed).toEqual({
      ok: true,
      type: "UPSERT",
      id: "r",
      patch: {
        name: "From Kafka",
        min_stake_cents: 1050,
        bonus_pct: 0.0001,
        max_bonus_cents: 205,
        budget_cents: 100_000,
        min_odds: 1.5,
        starts_at: new Date(1_900_000_000_000).toISOString(),
        ends_at: "2030-05-31T22:00:00.000Z",
      },
    });
    const out = toRuleMessage({
      offer_id: "r",
      version: 3,
      name: "n",
      min_stake_cents: 1050,
      bonus_pct: 0.1234,
      active: true,
      max_bonus_cents: 205,
      markets: ["1X2"],
      min_odds: 1.5,
      starts_at: null,
      ends_at: null,
      budget_cents: null,
      max_awards_per_user: 2,
    });
    expect(out).toEqual({
      type: "UPSERT",
      rule: { id: "r", name: "n", minStake: 10.5, bonusPct: 12.34, maxBonus: 2.05, markets: ["1X2"], minOdds: 1.5, startsAt: null, endsAt: null, budget: null, maxAwardsPerUser: 2, active: true, version: 3 },
    });
  });

  it("refuses what would have to be rounded, and shapes that are not rules", () => {
    expect(fromRuleMessage(rule("r", { minStake: 10.005 }))).toMatchObject({ ok: false, error: expect.stringMatching(/minStake/) });
    expect(fromRuleMessage(rule("r", { bonusPct: 12.345 }))).toMatchObject({ ok: false, error: expect.stringMatching(/bonusPct/) });
    expect(fromRuleMessage({ type: "PATCH", rule: { id: "r" } }).ok).toBe(false);
    expect(fromRuleMessage({ rule: { name: "x" } }).ok).toBe(false);
    expect(fromRuleMessage("UPSERT").ok).toBe(false);
  });
});

describe("inbound offers.rules", () => {
  it("an UPSERT creates then updates an offer, made by kafka:offers.rules; a redelivery changes nothing", async () => {
    const id = unique("R");
    const first = await ingest([{ topic: "offers.rules", value: rule(id), id: `kafka:offers.rules/0:${id}:1` }]);
    expect(first.body.results).toEqual([{ ok: true }]);
    expect((await get(`/api/offers/${id}`)).body).toMatchObject({ id, min_stake_cents: 1050, bonus_pct: 0.125, active: true, version: 1 });

    const change = { topic: "offers.rules", value: rule(id, { bonusPct: 20, name: undefined }), id: `kafka:offers.rules/0:${id}:2` };
    await ingest([change]);
    await ingest([change]); // redelivered
    // Redelivering the first message after the change must not move the offer back.
    await ingest([{ topic: "offers.rules", value: rule(id), id: `kafka:offers.rules/0:${id}:1` }]);
    const offer = (await get(`/api/offers/${id}`)).body;
    expect(offer).toMatchObject({ bonus_pct: 0.2, name: "From Kafka", version: 2 });
    const { versions } = (await get(`/api/offers/${id}/versions`)).body;
    expect(versions.map((v: any) => v.made_by)).toEqual(["kafka:offers.rules", "kafka:offers.rules"]);
    expect(versions[1].changes).toEqual({ bonus_pct: { from: 0.125, to: 0.2 } });
  });

  it("DELETE deactivates; unknown ids, invalid rules and incomplete new rules are dead-lettered with a reason", async () => {
    const id = unique("R");
    await ingest([{ topic: "offers.rules", value: rule(id), id: `p:${id}:1` }]);
    const res = await ingest([
      { topic: "offers.rules", value: { type: "DELETE", rule: { id } }, id: `p:${id}:2` },
      { topic: "offers.rules", value: { type: "DELETE", rule: { id: unique("none") } } },
      { topic: "offers.rules", value: rule(unique("bad"), { bonusPct: 150 }) },
      { topic: "offers.rules", value: rule("no spaces allowed") },
      { topic: "offers.rules", value: { type: "UPSERT", rule: { id: unique("partial"), name: "x" } } },
      { topic: "offers.rules", value: rule(unique("bad"), { markets: [] }) },
    ]);
    expect(res.status).toBe(200);
    const [deleted, ...failed] = res.body.results;
    expect(deleted).toEqual({ ok: true });
    expect(failed.map((r: any) => r.ok)).toEqual([false, false, false, false, false]);
    expect(failed.map((r: any) => r.error)).toEqual([
      expect.stringMatching(/NOT_FOUND/),
      expect.stringMatching(/bonus_pct/),
      expect.stringMatching(/rule.id/),
      expect.stringMatching(/min_stake_cents: required/),
      expect.stringMatching(/markets/),
    ]);
    expect((await get(`/api/offers/${id}`)).body).toMatchObject({ active: false, version: 2 });
  });

  it("an offer made over HTTP can be changed from Kafka (same ids, same rules)", async () => {
    const { id } = (await post("/api/offers", { name: "http", min_stake_cents: 100, bonus_pct: 0.5 })).body;
    await ingest([{ topic: "offers.rules", value: { type: "UPSERT", rule: { id, budget: 25 } } }]);
    expect((await get(`/api/offers/${id}`)).body).toMatchObject({ name: "http", budget_cents: 2500, version: 2 });
  });
});
