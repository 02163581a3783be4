import { Hono } from "hono";
import { z } from "zod";
import { actFor, type AuthVars, signedIn } from "../lib/auth";
import { HttpError } from "../lib/errors";
import { pageQuery, query, userId } from "../lib/validation";
import { wallet } from "./wallets";

const awardsQuery = pageQuery(100).extend({ user_id: userId.optional() });

/**
 * Offer awards, newest first, read from the wallet that holds them: only
 * awards that exist (credited) are listed, each once. Users read their own;
 * the service reads anyone's.
 */
export const awards = new Hono<{ Bindings: Env } & AuthVars>().get("/", signedIn, query(awardsQuery), async (c) => {
  const { limit, cursor, user_id } = c.req.valid("query");
  const caller = c.var.caller;
  const user = user_id ?? (caller.kind === "user" ? caller.id : undefined);
  if (user === undefined) throw new HttpError(400, "INVALID_REQUEST", "user_id: required (whose awards)");
  actFor(c, user);
  return c.json(await wallet(c.env, user).offerAwards(limit, cursor));
});
