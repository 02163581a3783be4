import { Hono } from "hono";
import { z } from "zod";
import type { ClaimOutcome } from "../actors/coupon";
import { unwrap } from "../lib/errors";
import { jsonBody, pageQuery, parse, query, userId } from "../lib/validation";

export const couponName = z
  .string()
  .min(1, "required")
  .max(64, "at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, _ and -");

const createBody = z.object({
  name: couponName,
  amount: z.number().int().positive().max(10_000_000),
});
const claimBody = z.object({ user_id: userId, coupon_name: couponName });

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
