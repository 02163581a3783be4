// Internal endpoints for the Kafka bridge, behind a bearer token (the Worker
// secret BRIDGE_TOKEN). Without the secret they are off.
import { Hono } from "hono";
import { z } from "zod";
import { relayShard, relayShards } from "../lib/relays";
import type { IngestResult as WireResult } from "../lib/bridge-wire";
import { HttpError } from "../lib/errors";
import { fromRuleMessage } from "../lib/offer-rules";
import { offerPatch } from "../lib/offers";
import { TOPICS } from "../lib/events";
import { countFailures } from "../lib/stats";
import { jsonBody, label, parse, userId } from "../lib/validation";
import { oddsE4 } from "../lib/stake-gate";
import { MAX_AMOUNT } from "../actors/wallet";
import { wallet } from "./wallets";
import { oddsMessage } from "../lib/odds";
import {
  couponRequestTopics,
  errorReply,
  parseRequest,
  replyFor,
  type CouponRequestTopic,
  type Reply,
} from "./coupon-protocol";
import { catalogue, offerId, pushBudget } from "./offers";
import { applyOdds } from "./odds";

export const pullBody = z.object({
  ack: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(500),
  wait_ms: z.number().int().min(0).max(25_000).default(0),
  /** The bridge's lease token for this shard (see POST /relay/:shard/lease). */
  token: z.number().int().min(1).optional(),
});

export const leaseBody = z.object({
  holder: z.string().min(1).max(128),
  ttl_ms: z.number().int().min(1000).max(60_000),
});
export const releaseBody = z.object({ token: z.number().int().min(1) });

export const ingestBody = z.object({
  /** `abandon`: the bridge gave up on these after its last retry. */
  abandon: z.boolean().default(false),
  messages: z
    .array(
      z.object({
        topic: z.string().min(1),
        key: z.string().nullish(),
        value: z.unknown(),
        /** The message's place in Kafka (`kafka:{topic}/{partition}:{offset+1}`), for deduplication. */
        id: z.string().min(1).max(512).nullish(),
      }),
    )
    .min(1)
    .max(500),
});

/** The bridge's report of messages it parked for a retry or dead-lettered, by Kafka position. */
export const failuresBody = z.strictObject({
  kind: z.enum(["retries", "dlq"]),
  ids: z.array(z.string().min(1).max(512)).min(1).max(500),
});

type IngestResult = WireResult<Reply>;

const isCouponRequest = (topic: string): topic is CouponRequestTopic =>
  (couponRequestTopics as readonly string[]).includes(topic);

async function ingestOne(env: Env, topic: string, value: unknown, abandon: boolean, id?: string | null): Promise<IngestResult> {
  if (topic === TOPICS.betPlaced) return placedOutside(env, value);
  if (topic === TOPICS.offersRules) return applyRule(env, value, id ?? null);
  if (topic === TOPICS.oddsUpdates) {
    const msg = oddsMessage.safeParse(value);
    if (!msg.success) return { ok: false, error: `odds_updates: ${msg.error.issues[0]?.path.join(".")}: ${msg.error.issues[0]?.message}` };
    await applyOdds(env, msg.data); // a stale version is ignored and counted, not an error
    return { ok: true };
  }
  if (!isCouponRequest(topic)) return { ok: false, error: `no route for topic ${topic}` };

  const req = parseRequest(topic, value);
  if (!req.ok) {
    if (!req.correlation_id || !req.reply_to) return { ok: false, error: req.message };
    return reply(req.reply_to, req.correlation_id, errorReply(req.correlation_id, "INVALID_REQUEST", req.message));
  }
  const { correlation_id, reply_to, body } = req;
  if (topic === "coupon.get.req") {
    const snapshot = await env.COUPON.getByName(body.name).get(1000);
    const answer: Reply = snapshot.ok
      ? { schema_version: 1, correlation_id, status: "SUCCESS", coupon: snapshot.value }
      : errorReply(correlation_id, "NOT_FOUND", snapshot.message);
    return reply(reply_to, correlation_id, answer);
  }
  const name = topic === "coupon.create.req" ? body.name : body.coupon_name;
  const stub = env.COUPON.getByName(name);
  const outcome = abandon
    ? await stub.abandon(correlation_id)
    : await stub.once(
        correlation_id,
        topic === "coupon.create.req"
          ? { op: "create", name: body.name, amount: body.amount }
          : { op: "claim", user_id: body.user_id },
      );
  return reply(reply_to, correlation_id, replyFor(correlation_id, outcome));
}

// events.bet_placed in the original shape: stake in minor units, ts epoch ms or ISO-8601.
// `odds` (decimal) is optional: without it, offers with a min_odds never match.
const betPlaced = z.looseObject({
  eventId: label,
  ts: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]),
  userId,
  market: label,
  stake: z.number().int().min(1).max(MAX_AMOUNT),
  currency: z.string(),
  odds: z.union([z.number(), z.string()]).optional(),
});

/**
 * A bet placed outside rushgate enters its user's stake window by its own
 * timestamp, once per `eventId` (issue 9's dedupe key): a redelivery and the same
 * bet produced twice are one bet. Too far in the future, or not in this
 * deployment's currency: dead-lettered.
 */
async function placedOutside(env: Env, value: unknown): Promise<IngestResult> {
  const bet = betPlaced.safeParse(value);
  if (!bet.success) {
    const i = bet.error.issues[0]!;
    return { ok: false, error: `${i.path.join(".") || "value"}: ${i.message}` };
  }
  const b = bet.data;
  if (b.currency !== (env.CURRENCY || "GBP")) return { ok: false, error: `currency: ${b.currency} is not this deployment's ${env.CURRENCY}` };
  const odds = b.odds === undefined ? null : oddsE4(b.odds);
  if (b.odds !== undefined && odds === null) return { ok: false, error: "odds: decimal odds with at most 4 decimals" };
  const ts = typeof b.ts === "number" ? b.ts : Date.parse(b.ts);
  // Prefixed so a producer's eventId can never collide with a bet id from POST /api/bets.
  const key = `${TOPICS.betPlaced}:${b.eventId}`;
  const { status } = await wallet(env, b.userId).ingestBet({ key, event_id: b.eventId, market: b.market, odds_e4: odds, stake_cents: b.stake, ts });
  if (status === "TOO_FAR_AHEAD") return { ok: false, error: `ts: more than MAX_CLOCK_SKEW_SECONDS ahead of the wallet's clock` };
  return { ok: true };
}

/**
 * An offer rule from the original engine's producers: converted (src/lib/offer-rules.ts),
 * validated exactly as an HTTP PUT is, and applied at most once per Kafka position.
 * A rule that cannot apply is dead-lettered with the reason.
 */
async function applyRule(env: Env, value: unknown, messageId: string | null): Promise<IngestResult> {
  const rule = fromRuleMessage(value);
  if (!rule.ok) return { ok: false, error: rule.error };
  const id = offerId.safeParse(rule.id);
  if (!id.success) return { ok: false, error: `rule.id: ${id.error.issues[0]!.message}` };
  const patch = offerPatch.safeParse(rule.patch);
  if (!patch.success) {
    const i = patch.error.issues[0]!;
    return { ok: false, error: `${i.path.join(".")}: ${i.message}` };
  }
  const outcome = await catalogue(env).applyRule(messageId, rule.id, patch.data, `kafka:${TOPICS.offersRules}`, rule.type === "UPSERT");
  if (!outcome.ok) return { ok: false, error: `${outcome.error}: ${outcome.message}` };
  if (outcome.value.changed) await pushBudget(env, outcome.value.offer);
  return { ok: true };
}

const reply = (topic: string, key: string, value: Reply): IngestResult => ({ ok: true, reply: { topic, key, value } });

// The bridge token is checked in src/index.ts, before any body is read.
export const internal = new Hono<{ Bindings: Env }>()
  .get("/relay", (c) => c.json({ shards: relayShards(c.env) }))
  .get("/relay/:shard/backlog", async (c) => {
    const shard = shardParam(c.env, c.req.param("shard"));
    return c.json({ backlog: await relayShard(c.env, shard).backlog() });
  })
  .post("/relay/:shard/pull", jsonBody(pullBody), async (c) => {
    const shard = shardParam(c.env, c.req.param("shard"));
    const { ack, limit, wait_ms, token } = c.req.valid("json");
    const result = await relayShard(c.env, shard).pull(ack, limit, wait_ms, token);
    if (result.fenced !== undefined) {
      const by = result.fenced ? `bridge ${result.fenced.holder} (token ${result.fenced.token})` : "nobody";
      throw new HttpError(409, "LEASE_LOST", `shard ${shard} is leased by ${by}`);
    }
    return c.json(result);
  })
  .post("/relay/:shard/lease", jsonBody(leaseBody), async (c) => {
    const shard = shardParam(c.env, c.req.param("shard"));
    const { holder, ttl_ms } = c.req.valid("json");
    return c.json(await relayShard(c.env, shard).acquireLease(holder, ttl_ms));
  })
  .post("/relay/:shard/lease/release", jsonBody(releaseBody), async (c) => {
    const shard = shardParam(c.env, c.req.param("shard"));
    return c.json({ released: await relayShard(c.env, shard).releaseLease(c.req.valid("json").token) });
  })
  .post("/failures", jsonBody(failuresBody), async (c) => {
    const { kind, ids } = c.req.valid("json");
    return c.json({ counted: await countFailures(c.env, kind, ids) });
  })
  .post("/ingest", jsonBody(ingestBody), async (c) => {
    const { messages, abandon } = c.req.valid("json");
    // Sequential: keeps one partition's messages in order, as Kafka gave them.
    const results: IngestResult[] = [];
    for (const m of messages) results.push(await ingestOne(c.env, m.topic, m.value, abandon, m.id));
    return c.json({ results });
  });

/** A relay shard number; the upper bound is the deployment's RELAY_SHARDS. */
export const shardNumber = z.coerce.number().int().min(0);

function shardParam(env: Env, raw: string): number {
  return parse(shardNumber.max(relayShards(env) - 1), raw);
}
