import { Hono } from "hono";
import { oddsIndex } from "../actors/odds";
import { type AuthVars, service } from "../lib/auth";
import { HttpError } from "../lib/errors";
import { oddsEventId, oddsMessage, type OddsMessage, type OddsOutcome } from "../lib/odds";
import { jsonBody, pageQuery, parse, query } from "../lib/validation";

/** Applies one odds message (from HTTP or the `odds_updates` topic) on its event's actor. */
export const applyOdds = (env: Env, msg: OddsMessage): Promise<OddsOutcome> => env.ODDS.getByName(msg.event_id).update(msg);

/** The event's current odds, or a 404. */
async function current(env: Env, raw: string) {
  const id = parse(oddsEventId, raw);
  const odds = await env.ODDS.getByName(id).get();
  if (!odds) throw new HttpError(404, "NOT_FOUND", `no odds for event ${id}`);
  return odds;
}

// A stale version is not an error: the update is ignored, counted, and the
// answer says so (200 with status STALE), so a redelivery is harmless to retry.
export const odds = new Hono<{ Bindings: Env } & AuthVars>()
  .post("/odds", service, jsonBody(oddsMessage), async (c) => {
    const outcome = await applyOdds(c.env, c.req.valid("json"));
    return c.json(outcome, outcome.status === "APPLIED" ? 201 : 200);
  })
  .get("/events", query(pageQuery(100)), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await oddsIndex(c.env).list(limit, cursor));
  })
  .get("/events/:id/markets", async (c) => {
    const { event_id, markets } = await current(c.env, c.req.param("id"));
    return c.json({ event_id, markets: markets.map((m) => ({ market: m.market, version: m.version, updated_at: m.updated_at })) });
  })
  .get("/events/:id/odds", async (c) => c.json(await current(c.env, c.req.param("id"))));

