import { Hono } from "hono";
import type { ClaimOutcome } from "../actors/coupon";
import { couponClaim as claimBody, couponCreate as createBody, couponName } from "../lib/coupon-schemas";
import { unwrap } from "../lib/errors";
import { jsonBody, pageQuery, parse, query } from "../lib/validation";

const claimStatus = { CLAIMED: 200, ALREADY_CLAIMED: 409, SOLD_OUT: 409, NOT_FOUND: 404 } as const;

const coupon = (env: Env, name: string) => env.COUPON.getByName(name);

export const coupons = new Hono<{ Bindings: Env }>()
  .post("/", jsonBody(createBody), async (c) => {
    const { name, amount } = c.req.valid("json");
    return c.json(unwrap(await coupon(c.env, name).create(name, amount)), 201);
  })
  .post("/claim", jsonBody(claimBody), async (c) => {
    const { user_id, coupon_name } = c.req.valid("json");
    const outcome: ClaimOutcome = await coupon(c.env, coupon_name).claim(user_id);
    return c.json(outcome, claimStatus[outcome.status]);
  })
  .get("/:name", query(pageQuery(1000)), async (c) => {
    const name = parse(couponName, c.req.param("name"));
    const { limit, cursor } = c.req.valid("query");
    return c.json(unwrap(await coupon(c.env, name).get(limit, cursor)));
  });
