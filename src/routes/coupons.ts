import { Hono } from "hono";
import { z } from "zod";
import type { ClaimOutcome } from "../actors/coupon";
import { actFor, type AuthVars, isService, service, signedIn } from "../lib/auth";
import { unwrap } from "../lib/errors";
import { admitted, edgeAnswer, learnSoldOut, saysSoldOut } from "../lib/flash-sale";
import { userLimit } from "../lib/limits";
import { couponClaim, couponCreate, couponName } from "../lib/coupon-schemas";
import { jsonBody, pageQuery, parse, query } from "../lib/validation";

// The HTTP bodies are strict; the Kafka protocol's messages also carry envelope fields.
export const createBody = z.strictObject(couponCreate.shape);
export const claimBody = z.strictObject(couponClaim.shape);
export const readQuery = pageQuery(1000);
export { couponName };

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
    const edge = (c.env.COUPON_EDGE_SOLD_OUT as string) !== "off";
    const known = edge ? edgeAnswer(coupon_name, user_id) : null;
    if (known) {
      c.header("Rushgate-Answered-By", "edge");
      return c.json(known, claimStatus[known.status]);
    }
    const stub = coupon(c.env, coupon_name);
    const bound = Number(c.env.COUPON_MAX_IN_FLIGHT) || 64;
    const outcome: ClaimOutcome = await admitted(coupon_name, bound, async (): Promise<ClaimOutcome> => stub.claim(user_id));
    if (edge && saysSoldOut(outcome)) c.executionCtx.waitUntil(learnSoldOut(coupon_name, () => stub.soldOutClaimants()));
    return c.json(outcome, claimStatus[outcome.status]);
  })
  // Public: the stock. Who claimed it is a list of other users, for the service only.
  .get("/:name", query(readQuery), async (c) => {
    const name = parse(couponName, c.req.param("name"));
    const { limit, cursor } = c.req.valid("query");
    const snapshot = unwrap(await coupon(c.env, name).get(isService(c) ? limit : 1, cursor));
    if (isService(c)) return c.json(snapshot);
    const { claimed_by: _, next_cursor: __, ...stock } = snapshot;
    return c.json(stock);
  });
