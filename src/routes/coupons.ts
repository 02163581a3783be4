import { Hono } from "hono";
import { z } from "zod";
import type { ClaimOutcome } from "../actors/coupon";
import { actFor, type AuthVars, isService, service, signedIn } from "../lib/auth";
import { couponClaim, couponCreate, couponName } from "../lib/coupon-schemas";
import { unwrap } from "../lib/errors";
import { userLimit } from "../lib/limits";
import { jsonBody, pageQuery, parse, query } from "../lib/validation";

// Strict over HTTP: a body that changes state has no unknown fields.
const createBody = z.strictObject(couponCreate.shape);
const claimBody = z.strictObject(couponClaim.shape);

const claimStatus = { CLAIMED: 200, ALREADY_CLAIMED: 409, SOLD_OUT: 409, NOT_FOUND: 404 } as const;

const coupon = (env: Env, name: string) => env.COUPON.getByName(name);

export const coupons = new Hono<{ Bindings: Env } & AuthVars>()
  .post("/", service, jsonBody(createBody), async (c) => {
    const { name, amount } = c.req.valid("json");
    return c.json(unwrap(await coupon(c.env, name).create(name, amount)), 201);
  })
  .post("/claim", signedIn, userLimit("claim"), jsonBody(claimBody), async (c) => {
    const { user_id, coupon_name } = c.req.valid("json");
    actFor(c, user_id);
    const outcome: ClaimOutcome = await coupon(c.env, coupon_name).claim(user_id);
    return c.json(outcome, claimStatus[outcome.status]);
  })
  // Public: the stock. Who claimed it is a list of other users, for the service only.
  .get("/:name", query(pageQuery(1000)), async (c) => {
    const name = parse(couponName, c.req.param("name"));
    const { limit, cursor } = c.req.valid("query");
    const snapshot = unwrap(await coupon(c.env, name).get(isService(c) ? limit : 1, cursor));
    if (isService(c)) return c.json(snapshot);
    const { claimed_by: _, next_cursor: __, ...stock } = snapshot;
    return c.json(stock);
  });
