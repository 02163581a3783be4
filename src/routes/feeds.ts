// Live feeds over WebSocket (docs/feeds.md), the stats read and /metrics.
// Public feeds need no credential; the awards feed takes a ticket in its URL.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { type AuthVars, bearer, sameSecret, signedIn } from "../lib/auth";
import { HttpError } from "../lib/errors";
import { mergedStats, prometheus } from "../lib/stats";
import { checkTicket, issueTicket } from "../lib/tickets";
import { parse } from "../lib/validation";

const campaignId = z.uuid("not a campaign id");

/** Forwards a WebSocket upgrade to a hub; `viewer` is set only by the Worker (a client's header is dropped). */
function upgrade(c: Context, hub: { fetch(req: Request): Promise<Response> }, viewer?: string): Promise<Response> {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "UPGRADE_REQUIRED", "this is a WebSocket feed: connect with Upgrade: websocket");
  }
  const headers = new Headers(c.req.raw.headers);
  headers.delete("x-feed-viewer");
  if (viewer) headers.set("x-feed-viewer", viewer);
  return hub.fetch(new Request(c.req.url, { headers }));
}

export const sockets = new Hono<{ Bindings: Env }>()
  .get("/odds", (c) => upgrade(c, c.env.ODDS_FEED.getByName("odds")))
  .get("/stats", (c) => upgrade(c, c.env.STATS_FEED.getByName("stats")))
  .get("/campaigns/:id", (c) => upgrade(c, c.env.CAMPAIGN_FEED.getByName(parse(campaignId, c.req.param("id")))))
  .get("/awards", async (c) => {
    const ticket = c.req.query("ticket");
    const viewer = ticket ? await checkTicket(c.env, ticket, "awards") : null;
    if (!viewer) throw new HttpError(401, "UNAUTHORIZED", "the awards feed needs ?ticket= from POST /api/feeds/awards/tickets");
    return upgrade(c, c.env.AWARDS_FEED.getByName("awards"), viewer);
  });

export const feeds = new Hono<{ Bindings: Env } & AuthVars>()
  .get("/stats", async (c) => c.json(await mergedStats(c.env)))
  // A user's ticket shows that user's awards; the service's shows everyone's.
  .post("/feeds/awards/tickets", signedIn, async (c) => c.json(await issueTicket(c.env, c.var.caller, "awards"), 201));

/** Prometheus scrape, with the service token. */
export const metrics = new Hono<{ Bindings: Env }>().get("/", async (c) => {
  const token = bearer(c);
  if (token === null || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
    throw new HttpError(401, "UNAUTHORIZED", "/metrics needs the service token");
  }
  return c.text(prometheus(await mergedStats(c.env)), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
