import { Hono } from "hono";
import { z } from "zod";
import { betOwner, canonicalOdds } from "../actors/wallet";
import { actFor, type AuthVars, service, signedIn } from "../lib/auth";
import { HttpError, unwrap } from "../lib/errors";
import { idempotencyKey, replyStored } from "../lib/idempotency";
import { userLimit } from "../lib/limits";
import { jsonBody, label, userId } from "../lib/validation";
import { amountCents, wallet } from "./wallets";

const odds = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const text = canonicalOdds(v);
  if (text === null) {
    ctx.addIssue({ code: "custom", message: "decimal odds above 1 and at most 1000, with at most 4 decimals" });
    return z.NEVER;
  }
  return text;
});

export const placeBody = z.strictObject({
  user_id: userId,
  event_id: label,
  market: label,
  selection: label,
  stake_cents: amountCents,
  odd_value: odds,
});
export const settleBody = z.strictObject({ result: z.enum(["WON", "LOST", "VOID"]) });

/** The bettor of a bet id: ids encode their user, so a bet routes to its wallet without a lookup. */
function owner(betId: string): string {
  const user = betOwner(betId);
  if (user === null) throw new HttpError(400, "INVALID_REQUEST", "bet_id: not a bet id from this API");
  return user;
}

export const bets = new Hono<{ Bindings: Env } & AuthVars>()
  .post("/", signedIn, userLimit("bet"), idempotencyKey, jsonBody(placeBody), async (c) => {
    const { user_id, ...bet } = c.req.valid("json");
    actFor(c, user_id);
    return replyStored(c, await wallet(c.env, user_id).placeBet(bet, c.var.idempotency));
  })
  .get("/:bet_id", signedIn, async (c) => {
    const user = owner(c.req.param("bet_id"));
    actFor(c, user);
    return c.json(unwrap(await wallet(c.env, user).getBet(c.req.param("bet_id"))));
  })
  .post("/:bet_id/settle", service, idempotencyKey, jsonBody(settleBody), async (c) => {
    const betId = c.req.param("bet_id");
    const user = owner(betId);
    const { result } = c.req.valid("json");
    return replyStored(c, await wallet(c.env, user).settleBet(betId, result, c.var.idempotency));
  });
