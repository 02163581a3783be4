import { Hono } from "hono";
import { z } from "zod";
import { CATALOGUE } from "../actors/offers";
import { type AuthVars, isService, service } from "../lib/auth";
import { unwrap } from "../lib/errors";
import { offerCreate, offerPatch, type Offer } from "../lib/offers";
import { jsonBody, pageQuery, parse, query } from "../lib/validation";

export const offerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "an offer id: 1–64 letters, digits, _ or -");

export const catalogue = (env: Env) => env.OFFERS.getByName(CATALOGUE);
export const budgetOf = (env: Env, id: string) => env.OFFER_BUDGET.getByName(id);

/** Who made a change, for the versions list. Only the service writes over HTTP. */
const SERVICE = "service";

const listQuery = pageQuery(100).extend({ active: z.enum(["true", "false"]).optional() });

/**
 * Tells the offer's budget object the limits of a new version. Best effort: if
 * this fails, the next reservation carries the version from the wallet's
 * snapshot (within ~1 s), and the budget object keeps the newest it has seen.
 */
export async function pushBudget(env: Env, offer: Offer): Promise<void> {
  try {
    await budgetOf(env, offer.id).configure({
      version: offer.version,
      budget_cents: offer.budget_cents,
      max_awards_per_user: offer.max_awards_per_user,
    });
  } catch (err) {
    console.error(JSON.stringify({ msg: "budget configure failed", offer: offer.id, error: String(err) }));
  }
}

/**
 * Offers. Writes are the operator's. Reading the offers is public (they are
 * promotions shown to everyone, not user data); the change history and the
 * budget spent are the operator's.
 */
export const offers = new Hono<{ Bindings: Env } & AuthVars>()
  .post("/", service, jsonBody(offerCreate), async (c) => {
    const id = `off_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const offer = unwrap(await catalogue(c.env).create(id, c.req.valid("json"), SERVICE));
    await pushBudget(c.env, offer);
    return c.json(offer, 201);
  })
  .get("/", query(listQuery), async (c) => {
    const { limit, cursor, active } = c.req.valid("query");
    return c.json(await catalogue(c.env).list(limit, cursor, active === "true"));
  })
  .get("/:id", async (c) => {
    const id = parse(offerId, c.req.param("id"));
    const offer = unwrap(await catalogue(c.env).get(id));
    if (!isService(c)) return c.json(offer);
    const { reserved_cents, awards } = await budgetOf(c.env, id).usage();
    return c.json({ ...offer, usage: { reserved_cents, awards } });
  })
  .put("/:id", service, jsonBody(offerPatch), async (c) => {
    const id = parse(offerId, c.req.param("id"));
    const { offer, changed } = unwrap(await catalogue(c.env).update(id, c.req.valid("json"), SERVICE));
    if (changed) await pushBudget(c.env, offer);
    return c.json(offer);
  })
  .delete("/:id", service, async (c) => {
    const id = parse(offerId, c.req.param("id"));
    const { offer } = unwrap(await catalogue(c.env).deactivate(id, SERVICE));
    return c.json(offer);
  })
  .get("/:id/versions", service, query(pageQuery(100)), async (c) => {
    const id = parse(offerId, c.req.param("id"));
    const { limit, cursor } = c.req.valid("query");
    return c.json(unwrap(await catalogue(c.env).versions(id, limit, cursor)));
  });
