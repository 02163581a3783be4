import { Hono } from "hono";
import { z } from "zod";
import type { OpenOutcome } from "../actors/campaign-shard";
import { defaultShards, MAX_PACKETS, MAX_SHARDS, shardOf, sumCounts } from "../actors/packets";
import { actFor, type AuthVars, service, signedIn } from "../lib/auth";
import { unwrap } from "../lib/errors";
import { userLimit } from "../lib/limits";
import { jsonBody, parse, userId } from "../lib/validation";

export const campaignId = z.uuid("not a campaign id");
/** Distinct packet amounts per campaign: each is a row per shard, so they bound creation cost. */
export const MAX_AMOUNTS = 100;
/** The largest packet, as money is bounded elsewhere (wallet amounts). */
const MAX_PACKET_CENTS = 1_000_000_000_000;
const time = z.iso.datetime({ offset: true, message: "an ISO-8601 date-time, e.g. 2025-01-01T00:00:00Z" });

const inventory = z
  .record(
    z
      .string()
      .regex(/^[1-9]\d{0,12}$/, "amounts are positive integers in minor units")
      .refine((a) => Number(a) <= MAX_PACKET_CENTS, `amounts are at most ${MAX_PACKET_CENTS}`),
    z.number().int("counts are integers").positive("counts are positive").max(MAX_PACKETS),
  )
  .refine((inv) => Object.keys(inv).length > 0, "at least one amount")
  .refine((inv) => Object.keys(inv).length <= MAX_AMOUNTS, `at most ${MAX_AMOUNTS} distinct amounts`)
  .refine((inv) => sumCounts(inv) <= MAX_PACKETS, "at most 10,000,000 packets in all");

export const createBody = z
  .strictObject({
    name: z.string().trim().min(1, "required").max(128, "at most 128 characters"),
    start_time: time,
    end_time: time,
    inventory,
    shards: z.number().int().min(1).max(MAX_SHARDS).optional(),
  })
  .refine((b) => Date.parse(b.end_time) > Date.parse(b.start_time), {
    path: ["end_time"],
    message: "must be after start_time",
  });
export const openBody = z.strictObject({ user_id: userId });

const openStatus = { OK: 200, ALREADY_OPENED: 409, SOLD_OUT: 410, NOT_FOUND: 404, NOT_STARTED: 400, ENDED: 400 } as const;

const control = (env: Env, id: string) => env.CAMPAIGN.getByName(id);
const shard = (env: Env, id: string, k: number) => env.CAMPAIGN_SHARD.getByName(`${id}/${k}`);

// Shard counts never change, so each isolate asks the Campaign object once per
// campaign; opens then go straight to the user's shard.
const shardCounts = new Map<string, number>();
async function shardCount(env: Env, id: string): Promise<number | null> {
  const known = shardCounts.get(id);
  if (known !== undefined) return known;
  const n = await control(env, id).shards();
  if (n !== null) {
    if (shardCounts.size >= 10_000) shardCounts.clear();
    shardCounts.set(id, n);
  }
  return n;
}

/** The shard that owns this user in this campaign, or null if there is no such campaign. */
async function userShard(env: Env, id: string, user: string) {
  const n = await shardCount(env, id);
  return n === null ? null : shard(env, id, shardOf(user, n));
}

export const campaigns = new Hono<{ Bindings: Env } & AuthVars>()
  .post("/", service, jsonBody(createBody), async (c) => {
    const body = c.req.valid("json");
    const id = crypto.randomUUID();
    const spec = {
      id,
      name: body.name,
      start_time: new Date(body.start_time).toISOString(),
      end_time: new Date(body.end_time).toISOString(),
      inventory: body.inventory,
      shards: body.shards ?? defaultShards(sumCounts(body.inventory)),
    };
    return c.json(unwrap(await control(c.env, id).create(spec)), 201);
  })
  .post("/:id/open", signedIn, userLimit("open"), jsonBody(openBody), async (c) => {
    const id = parse(campaignId, c.req.param("id"));
    const { user_id } = c.req.valid("json");
    actFor(c, user_id);
    const owner = await userShard(c.env, id, user_id);
    const outcome: OpenOutcome = owner ? await owner.open(user_id) : { status: "NOT_FOUND" };
    return c.json(outcome, openStatus[outcome.status]);
  })
  .get("/:id", async (c) => {
    const id = parse(campaignId, c.req.param("id"));
    return c.json(unwrap(await control(c.env, id).get()));
  })
  .get("/:id/openings/:user_id", signedIn, async (c) => {
    const id = parse(campaignId, c.req.param("id"));
    const user = parse(userId, c.req.param("user_id"));
    actFor(c, user);
    const owner = await userShard(c.env, id, user);
    if (!owner) return c.json({ error: "NOT_FOUND", message: "campaign not found" }, 404);
    return c.json(unwrap(await owner.opening(user)));
  });
