import { Hono } from "hono";
import { z } from "zod";
import { MAX_AMOUNT } from "../actors/wallet";
import { actFor, type AuthVars, type Caller, service, signedIn } from "../lib/auth";
import { unwrap } from "../lib/errors";
import { idempotencyKey, replyStored } from "../lib/idempotency";
import { jsonBody, pageQuery, parse, query, userId } from "../lib/validation";

export const amountCents = z.number().int().positive().max(MAX_AMOUNT, `at most ${MAX_AMOUNT}`);
const ref = z.string().min(1).max(128, "at most 128 characters").refine((s) => s.isWellFormed(), "well-formed Unicode");
export const holdId = z.string().min(1).max(64, "at most 64 characters");

export const amountBody = z.strictObject({ amount_cents: amountCents });
export const holdBody = z.strictObject({ amount_cents: amountCents, ref: ref.optional() });
export const captureBody = z.strictObject({ amount_cents: amountCents.optional() });

export const ledgerQuery = pageQuery(100);

export const wallet = (env: Env, user: string) => env.WALLET.getByName(user);

/**
 * Wallet routes. Users read their own wallet and withdraw from it; moving held
 * money (holds, capture, release) and deposits are the operator's.
 */
export const wallets = new Hono<{ Bindings: Env } & AuthVars>()
  .use("/:user_id/*", signedIn)
  .use("/:user_id", signedIn)
  .get("/:user_id", async (c) => {
    const user = owner(c, c.req.param("user_id"));
    return c.json(await wallet(c.env, user).view());
  })
  // The user's stake windows (the offers engine's gate), newest first; cursor = a window start in ms.
  .get("/:user_id/windows", query(pageQuery(20)), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { limit, cursor } = c.req.valid("query");
    return c.json(await wallet(c.env, user).windows(limit, cursor));
  })
  .get("/:user_id/ledger", query(ledgerQuery), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { limit, cursor } = c.req.valid("query");
    return c.json(await wallet(c.env, user).ledger(limit, cursor));
  })
  .post("/:user_id/deposits", service, idempotencyKey, jsonBody(amountBody), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).deposit(amount_cents, c.var.idempotency));
  })
  .post("/:user_id/withdrawals", idempotencyKey, jsonBody(amountBody), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).withdraw(amount_cents, c.var.idempotency));
  })
  .post("/:user_id/holds", service, idempotencyKey, jsonBody(holdBody), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { amount_cents, ref } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).placeHold(amount_cents, ref ?? null, c.var.idempotency));
  })
  .get("/:user_id/holds/:hold_id", async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return c.json(unwrap(await wallet(c.env, user).getHold(hold)));
  })
  .post(
    "/:user_id/holds/:hold_id/capture",
    service,
    idempotencyKey,
    jsonBody(captureBody, { optional: true }),
    async (c) => {
      const user = owner(c, c.req.param("user_id"));
      const hold = parse(holdId, c.req.param("hold_id"));
      const { amount_cents } = c.req.valid("json");
      return replyStored(c, await wallet(c.env, user).capture(hold, amount_cents, c.var.idempotency));
    },
  )
  .post("/:user_id/holds/:hold_id/release", service, idempotencyKey, async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return replyStored(c, await wallet(c.env, user).release(hold, c.var.idempotency));
  });

/** The path's user, which the caller must be (or act for, as the service). */
function owner(c: { var: { caller: Caller } }, raw: string): string {
  const user = parse(userId, raw);
  actFor(c, user);
  return user;
}
