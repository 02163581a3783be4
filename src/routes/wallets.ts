import { Hono } from "hono";
import { z } from "zod";
import { MAX_AMOUNT } from "../actors/wallet";
import { unwrap } from "../lib/errors";
import { idempotencyKey, replyStored } from "../lib/idempotency";
import { jsonBody, pageQuery, parse, query, userId } from "../lib/validation";

export const amountCents = z.number().int().positive().max(MAX_AMOUNT, `at most ${MAX_AMOUNT}`);
const ref = z.string().min(1).max(128, "at most 128 characters");
const holdId = z.string().min(1).max(64, "at most 64 characters");

export const amountBody = z.object({ amount_cents: amountCents });
const holdBody = z.object({ amount_cents: amountCents, ref: ref.optional() });
const captureBody = z.object({ amount_cents: amountCents.optional() });

export const wallet = (env: Env, user: string) => env.WALLET.getByName(user);

/** Wallet routes anyone may call; admin routes (deposits) live in admin.ts. */
export const wallets = new Hono<{ Bindings: Env }>()
  .get("/:user_id", async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    return c.json(await wallet(c.env, user).view());
  })
  .get("/:user_id/ledger", query(pageQuery(100)), async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const { limit, cursor } = c.req.valid("query");
    return c.json(await wallet(c.env, user).ledger(limit, cursor));
  })
  .post("/:user_id/withdrawals", idempotencyKey, jsonBody(amountBody), async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).withdraw(amount_cents, c.var.idempotency));
  })
  .post("/:user_id/holds", idempotencyKey, jsonBody(holdBody), async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const { amount_cents, ref } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).placeHold(amount_cents, ref ?? null, c.var.idempotency));
  })
  .get("/:user_id/holds/:hold_id", async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return c.json(unwrap(await wallet(c.env, user).getHold(hold)));
  })
  .post("/:user_id/holds/:hold_id/capture", idempotencyKey, jsonBody(captureBody, { optional: true }), async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).capture(hold, amount_cents, c.var.idempotency));
  })
  .post("/:user_id/holds/:hold_id/release", idempotencyKey, async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return replyStored(c, await wallet(c.env, user).release(hold, c.var.idempotency));
  });
