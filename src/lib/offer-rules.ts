/**
 * The original offers engine's rule shape on Kafka `offers.rules`, and the one
 * place its units are converted to and from rushgate's.
 *
 * Message: `{"type": "UPSERT", "rule": Rule}` (or `{"type": "DELETE", "rule": {"id"}}`,
 * which deactivates). A rule, in the original units:
 *
 * | original field     | unit                                | rushgate field          |
 * |--------------------|-------------------------------------|-------------------------|
 * | `id`               | text                                | offer `id`              |
 * | `name`             | text                                | `name`                  |
 * | `minStake`         | major units (10.5 = £10.50)         | `min_stake_cents` ×100  |
 * | `bonusPct`         | percent, ≤ 2 decimals (12.5 = 12.5%) | `bonus_pct` ÷100        |
 * | `maxBonus`         | major units, or null                | `max_bonus_cents` ×100  |
 * | `markets`          | list of market names, or null       | `markets`               |
 * | `minOdds`          | decimal odds, or null               | `min_odds`              |
 * | `startsAt`/`endsAt`| ISO-8601 or epoch ms, or null       | `starts_at`/`ends_at` (ISO) |
 * | `budget`           | major units, or null                | `budget_cents` ×100     |
 * | `maxAwardsPerUser` | count, or null                      | `max_awards_per_user`   |
 * | `active`           | boolean                             | `active`                |
 * | `version`          | (outbound only) the offer version   | `version`               |
 *
 * Inbound, a field left out keeps its value (as a PUT does). A conversion that
 * is not exact (a third decimal of a pound, a third decimal of a percent) is
 * refused rather than rounded.
 *
 * No relative value imports: the Node bridge imports this file as-is.
 */
import { z } from "zod";
import type { OfferFields, OfferPatch } from "./offers.js";

/** `x × 10^digits` as an integer when x has at most `digits` decimals, else null. */
function scaled(x: number, digits: number): number | null {
  const f = 10 ** digits;
  const n = Math.round(x * f);
  return Number.isSafeInteger(n) && n / f === x ? n : null;
}

// Major units → cents (exact), and back.
const toCents = (major: number) => scaled(major, 2);
const toMajor = (cents: number) => cents / 100;
// Percent → fraction: 12.5 % → 0.125 (via an exact integer, so 0.1234 stays 0.1234).
const pctToFraction = (pct: number) => {
  const e2 = scaled(pct, 2);
  return e2 === null ? null : e2 / 10_000;
};
const fractionToPct = (fraction: number) => Math.round(fraction * 10_000) / 100;

const when = z.union([z.string(), z.number().int()]).nullable();
const ruleShape = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  minStake: z.number().optional(),
  bonusPct: z.number().optional(),
  maxBonus: z.number().nullable().optional(),
  markets: z.array(z.string()).nullable().optional(),
  minOdds: z.number().nullable().optional(),
  startsAt: when.optional(),
  endsAt: when.optional(),
  budget: z.number().nullable().optional(),
  maxAwardsPerUser: z.number().nullable().optional(),
  active: z.boolean().optional(),
});
export const ruleMessage = z.object({ type: z.enum(["UPSERT", "DELETE"]), rule: ruleShape });
export type Rule = z.infer<typeof ruleShape>;

export type ParsedRule = { ok: true; type: "UPSERT" | "DELETE"; id: string; patch: Record<string, unknown> } | { ok: false; error: string };

/**
 * An `offers.rules` message as an offer patch in rushgate's units. The patch
 * still goes through the API's own validation (`offerPatch`), so a rule is
 * held to exactly the rules an HTTP PUT is.
 */
export function fromRuleMessage(value: unknown): ParsedRule {
  const parsed = ruleMessage.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, error: `${i.path.join(".") || "value"}: ${i.message}` };
  }
  const { type, rule } = parsed.data;
  if (type === "DELETE") return { ok: true, type, id: rule.id, patch: { active: false } };
  const patch: Record<string, unknown> = {};
  const money = (field: string, to: string, v: number | null | undefined) => {
    if (v === undefined) return undefined;
    if (v === null) return (patch[to] = null);
    const c = toCents(v);
    if (c === null) return `rule.${field}: at most 2 decimals (major units)`;
    patch[to] = c;
  };
  const errors = [
    money("minStake", "min_stake_cents", rule.minStake),
    money("maxBonus", "max_bonus_cents", rule.maxBonus),
    money("budget", "budget_cents", rule.budget),
  ];
  if (rule.bonusPct !== undefined) {
    const f = pctToFraction(rule.bonusPct);
    if (f === null) errors.push("rule.bonusPct: a percent with at most 2 decimals");
    else patch.bonus_pct = f;
  }
  const error = errors.find((e) => typeof e === "string");
  if (error) return { ok: false, error };
  const time = (v: string | number | null | undefined) => {
    if (v === undefined || v === null) return v;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? String(v) : d.toISOString(); // an invalid time fails validation
  };
  if (rule.name !== undefined) patch.name = rule.name;
  if (rule.markets !== undefined) patch.markets = rule.markets;
  if (rule.minOdds !== undefined) patch.min_odds = rule.minOdds;
  if (rule.startsAt !== undefined) patch.starts_at = time(rule.startsAt);
  if (rule.endsAt !== undefined) patch.ends_at = time(rule.endsAt);
  if (rule.maxAwardsPerUser !== undefined) patch.max_awards_per_user = rule.maxAwardsPerUser;
  if (rule.active !== undefined) patch.active = rule.active;
  return { ok: true, type, id: rule.id, patch: patch satisfies Partial<Record<keyof OfferPatch, unknown>> };
}

/** An offer version as the original engine published it: `{"type":"UPSERT","rule":{…}}`. */
export function toRuleMessage(o: OfferFields & { offer_id: string; version: number }): { type: "UPSERT"; rule: Record<string, unknown> } {
  return {
    type: "UPSERT",
    rule: {
      id: o.offer_id,
      name: o.name,
      minStake: toMajor(o.min_stake_cents),
      bonusPct: fractionToPct(o.bonus_pct),
      maxBonus: o.max_bonus_cents === null ? null : toMajor(o.max_bonus_cents),
      markets: o.markets,
      minOdds: o.min_odds,
      startsAt: o.starts_at,
      endsAt: o.ends_at,
      budget: o.budget_cents === null ? null : toMajor(o.budget_cents),
      maxAwardsPerUser: o.max_awards_per_user,
      active: o.active,
      version: o.version,
    },
  };
}
