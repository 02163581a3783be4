import { Hono } from "hono";
import { z } from "zod";
import { MAX_AMOUNT } from "../actors/wallet";
import { actFor, type AuthVars, type Caller, service, signedIn } from "../lib/auth";
import { type Statuses, unwrap } from "../lib/errors";
import { idempotencyKey, type IdempotencyKey, type IdempotentRequest, replyStored } from "../lib/idempotency";
import { jsonBody, pageQuery, parse, query, userId } from "../lib/validation";

export const amountCents = z.number().int().positive().max(MAX_AMOUNT, `at most ${MAX_AMOUNT}`);
const ref = z.string().min(1).max(128, "at most 128 characters").refine((s) => s.isWellFormed(), "well-formed Unicode");
export const holdId = z.string().min(1).max(64, "at most 64 characters");

export const amountBody = z.strictObject({ amount_cents: amountCents });
export const holdBody = z.strictObject({ amount_cents: amountCents, ref: ref.optional() });
export const captureBody = z.strictObject({ amount_cents: amountCents.optional() });

export const ledgerQuery = pageQuery(100);
export const windowsQuery = pageQuery(20);

export const wallet = (env: Env, user: string) => env.WALLET.getByName(user);

/** HTTP statuses of the wallet's outcome codes (the wallet returns codes, never statuses). */
export const walletStatuses = {
  HOLD_NOT_FOUND: 404,
  BET_NOT_FOUND: 404,
  INSUFFICIENT_FUNDS: 409,
  BALANCE_LIMIT: 409,
  HOLD_ALREADY_RESOLVED: 409,
  HOLD_BELONGS_TO_BET: 409,
  CAPTURE_EXCEEDS_HOLD: 409,
  BET_ALREADY_SETTLED: 409,
} as const satisfies Statuses;
const created = { ...walletStatuses, ok: 201 } as const;
const done = { ...walletStatuses, ok: 200 } as const;

/** The idempotent request an actor gets: the key, with the route's statuses (`ok` is success's). */
export const withStatuses = (key: IdempotencyKey, statuses: IdempotentRequest["statuses"]): IdempotentRequest => ({ ...key, statuses });

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
  .get("/:user_id/windows", query(windowsQuery), async (c) => {
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
    return replyStored(c, await wallet(c.env, user).deposit(amount_cents, withStatuses(c.var.idempotency, created)));
  })
  .post("/:user_id/withdrawals", idempotencyKey, jsonBody(amountBody), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).withdraw(amount_cents, withStatuses(c.var.idempotency, created)));
  })
  .post("/:user_id/holds", service, idempotencyKey, jsonBody(holdBody), async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const { amount_cents, ref } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).placeHold(amount_cents, ref ?? null, withStatuses(c.var.idempotency, created)));
  })
  .get("/:user_id/holds/:hold_id", async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return c.json(unwrap(await wallet(c.env, user).getHold(hold), walletStatuses));
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
      return replyStored(c, await wallet(c.env, user).capture(hold, amount_cents, withStatuses(c.var.idempotency, done)));
    },
  )
  .post("/:user_id/holds/:hold_id/release", service, idempotencyKey, async (c) => {
    const user = owner(c, c.req.param("user_id"));
    const hold = parse(holdId, c.req.param("hold_id"));
    return replyStored(c, await wallet(c.env, user).release(hold, withStatuses(c.var.idempotency, done)));
  });

/** The path's user, which the caller must be (or act for, as the service). */
function owner(c: { var: { caller: Caller } }, raw: string): string {
  const user = parse(userId, raw);
  actFor(c, user);
  return user;
}
