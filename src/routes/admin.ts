import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { idempotencyKey, replyStored } from "../lib/idempotency";
import { jsonBody, parse, userId } from "../lib/validation";
import { amountBody, wallet } from "./wallets";

/**
 * The one place admin access will be checked. Authentication arrives in a later
 * issue; until then this lets every request through. Every admin route below
 * starts with it (a sub-app `use("*")` would also cover the sibling /api routes
 * once mounted, so it is applied per route, in this file only).
 */
const adminOnly = createMiddleware(async (_c, next) => {
  await next();
});

/** Admin routes, mounted at /api. */
export const admin = new Hono<{ Bindings: Env }>().post(
  "/wallets/:user_id/deposits",
  adminOnly,
  idempotencyKey,
  jsonBody(amountBody),
  async (c) => {
    const user = parse(userId, c.req.param("user_id"));
    const { amount_cents } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).deposit(amount_cents, c.var.idempotency));
  },
);
