// The API reference: every route the Worker serves, with the schemas its handler
// validates with, built into OpenAPI 3.1 at GET /api/openapi.json and rendered at
// /api/docs. test/edge/openapi.test.ts fails if a served route is missing here,
// if a documented route is not served, or if an example does not validate.
// Adding a route: export its body/query schemas from its file and add one entry.
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { z } from "zod";
import type { AuthVars } from "../lib/auth";
import { type ApiRoute, openApiDocument } from "../lib/openapi";
import { userId } from "../lib/validation";
import { oddsEventId, oddsMessage } from "../lib/odds";
import { offerCreate, offerPatch } from "../lib/offers";
import * as awards from "./awards";
import * as bets from "./bets";
import * as campaigns from "./campaigns";
import * as coupons from "./coupons";
import * as feeds from "./feeds";
import * as internal from "./internal";
import * as odds from "./odds";
import * as offers from "./offers";
import * as wallets from "./wallets";

const user = { user_id: userId };
const hold = { user_id: userId, hold_id: wallets.holdId };
const betId = {
  bet_id: z.string().describe("base64url(user_id) \".\" 32 hex digits, as POST /api/bets returned it"),
};
const shard = { shard: internal.shardNumber };
const campaign = "3b0c4f1e-8a7d-4c55-9d1e-2f6a8b9c0d1e";
const bet = "dXNlcl8x.0123456789abcdef0123456789abcdef"; // user_1's
const offer = { id: offers.offerId };
const event = { id: oddsEventId };
const WEBSOCKET = {
  101: "Switching Protocols: the connection is now the feed's WebSocket (docs/feeds.md)",
  426: "`UPGRADE_REQUIRED`: connect with `Upgrade: websocket`",
};
const inOneYear = (days = 0) => new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1 + days)).toISOString();

export const API_ROUTES: ApiRoute[] = [
  { method: "GET", path: "/health", access: "public", tag: "meta", summary: "Liveness", responses: { 200: "`{\"status\":\"ok\"}`" }, example: {} },
  { method: "GET", path: "/api/openapi.json", access: "public", tag: "meta", summary: "This document", responses: { 200: "OpenAPI 3.1" }, example: {} },
  {
    method: "GET", path: "/api/docs", access: "public", tag: "meta", summary: "The rendered reference (Scalar, loaded from jsDelivr)",
    produces: "text/html", responses: { 200: "An HTML page" }, example: {},
  },
  {
    method: "GET", path: "/api/config", access: "public", tag: "meta", summary: "What the web console needs: the currency money is shown in",
    responses: { 200: "`{\"currency\":…}`" }, example: {},
  },
  {
    method: "GET", path: "/metrics", access: "service", tag: "meta", summary: "Prometheus scrape of the live counters",
    produces: "text/plain; version=0.0.4", responses: { 200: "Prometheus text exposition" }, example: {},
  },

  {
    method: "POST", path: "/api/coupons", access: "service", tag: "coupons", summary: "Create a coupon",
    body: coupons.createBody, responses: { 201: "The coupon", 409: "`DUPLICATE_COUPON`" },
    example: { body: { name: "PROMO_SUPER", amount: 100 } },
  },
  {
    method: "POST", path: "/api/coupons/claim", access: "user", rateLimited: true, tag: "coupons", summary: "Claim a coupon (one per user)",
    body: coupons.claimBody,
    responses: { 200: "`{\"status\":\"CLAIMED\",…}`", 404: "`{\"status\":\"NOT_FOUND\"}`", 409: "`{\"status\":\"ALREADY_CLAIMED\"}` or `{\"status\":\"SOLD_OUT\"}`" },
    example: { body: { user_id: "user_12345", coupon_name: "PROMO_SUPER" } },
  },
  {
    method: "GET", path: "/api/coupons/:name", access: "public", tag: "coupons", summary: "A coupon's stock; the service also gets a page of claimants",
    params: { name: coupons.couponName }, query: coupons.readQuery, responses: { 200: "The coupon", 404: "`NOT_FOUND`" },
    example: { params: { name: "PROMO_SUPER" }, query: { limit: "2" } },
  },

  {
    method: "POST", path: "/api/campaigns", access: "service", tag: "campaigns", summary: "Create a red-packet rain campaign",
    body: campaigns.createBody, responses: { 201: "`{\"id\":…,\"shards\":…}`" },
    example: { body: { name: "Rain", start_time: inOneYear(), end_time: inOneYear(7), inventory: { "20": 10, "5": 100 }, shards: 8 } },
  },
  {
    method: "POST", path: "/api/campaigns/:id/open", access: "user", rateLimited: true, tag: "campaigns", summary: "Open a packet (one per user)",
    params: { id: campaigns.campaignId }, body: campaigns.openBody,
    responses: {
      200: "`{\"status\":\"OK\",\"amount\":…}`",
      400: "Invalid input, or `{\"status\":\"NOT_STARTED\"}` / `{\"status\":\"ENDED\"}` outside the window",
      404: "`{\"status\":\"NOT_FOUND\"}`",
      409: "`{\"status\":\"ALREADY_OPENED\",\"amount\":…}`",
      410: "`{\"status\":\"SOLD_OUT\"}`",
    },
    example: { params: { id: campaign }, body: { user_id: "user-123" } },
  },
  {
    method: "GET", path: "/api/campaigns/:id", access: "public", tag: "campaigns", summary: "A campaign with totals over its shards",
    params: { id: campaigns.campaignId }, responses: { 200: "The campaign", 404: "`NOT_FOUND`" }, example: { params: { id: campaign } },
  },
  {
    method: "GET", path: "/api/campaigns/:id/openings/:user_id", access: "user", tag: "campaigns", summary: "What a user opened",
    params: { id: campaigns.campaignId, ...user }, responses: { 200: "The opening", 404: "`NOT_FOUND`" },
    example: { params: { id: campaign, user_id: "user-123" } },
  },

  {
    method: "GET", path: "/api/wallets/:user_id", access: "user", tag: "wallets", summary: "Balances",
    params: user, responses: { 200: "The wallet" }, example: { params: { user_id: "user_1" } },
  },
  {
    method: "GET", path: "/api/wallets/:user_id/ledger", access: "user", tag: "wallets", summary: "Ledger entries, newest first",
    params: user, query: wallets.ledgerQuery, responses: { 200: "`{\"entries\":[…],\"next_cursor\"?}`" },
    example: { params: { user_id: "user_1" }, query: { limit: "2" } },
  },
  {
    method: "POST", path: "/api/wallets/:user_id/deposits", access: "service", idempotent: true, tag: "wallets", summary: "Deposit cash",
    params: user, body: wallets.amountBody, responses: { 201: "The ledger entry", 409: "`BALANCE_LIMIT`" },
    example: { params: { user_id: "user_1" }, body: { amount_cents: 10000 } },
  },
  {
    method: "POST", path: "/api/wallets/:user_id/withdrawals", access: "user", idempotent: true, tag: "wallets", summary: "Withdraw cash",
    params: user, body: wallets.amountBody, responses: { 201: "The ledger entry", 409: "`INSUFFICIENT_FUNDS`" },
    example: { params: { user_id: "user_1" }, body: { amount_cents: 2500 } },
  },
  {
    method: "POST", path: "/api/wallets/:user_id/holds", access: "service", idempotent: true, tag: "wallets", summary: "Hold funds",
    params: user, body: wallets.holdBody, responses: { 201: "The hold", 409: "`INSUFFICIENT_FUNDS`" },
    example: { params: { user_id: "user_1" }, body: { amount_cents: 3000, ref: "order-42" } },
  },
  {
    method: "GET", path: "/api/wallets/:user_id/holds/:hold_id", access: "user", tag: "wallets", summary: "A hold",
    params: hold, responses: { 200: "The hold", 404: "`HOLD_NOT_FOUND`" }, example: { params: { user_id: "user_1", hold_id: "h_demo" } },
  },
  {
    method: "POST", path: "/api/wallets/:user_id/holds/:hold_id/capture", access: "service", idempotent: true, tag: "wallets",
    summary: "Capture all or part of a hold (no body: all of it)", params: hold, body: wallets.captureBody, bodyOptional: true,
    responses: { 200: "The hold", 404: "`HOLD_NOT_FOUND`", 409: "`CAPTURE_EXCEEDS_HOLD`, `HOLD_ALREADY_RESOLVED`, `HOLD_BELONGS_TO_BET`" },
    example: { params: { user_id: "user_1", hold_id: "h_demo" }, body: { amount_cents: 1200 } },
  },
  {
    method: "POST", path: "/api/wallets/:user_id/holds/:hold_id/release", access: "service", idempotent: true, tag: "wallets",
    summary: "Release a hold", params: hold,
    responses: { 200: "The hold", 404: "`HOLD_NOT_FOUND`", 409: "`HOLD_ALREADY_RESOLVED`, `HOLD_BELONGS_TO_BET`" },
    example: { params: { user_id: "user_1", hold_id: "h_demo" } },
  },

  {
    method: "GET", path: "/api/wallets/:user_id/windows", access: "user", tag: "wallets",
    summary: "Stake windows (the offers engine's gate), newest first; cursor = a window start in ms",
    params: user, query: wallets.windowsQuery, responses: { 200: "`{\"windows\":[…],\"next_cursor\"?}`" },
    example: { params: { user_id: "user_1" }, query: { limit: "5" } },
  },

  {
    method: "POST", path: "/api/bets", access: "user", rateLimited: true, idempotent: true, tag: "bets", summary: "Place a bet (holds the stake)",
    body: bets.placeBody, responses: { 201: "`{\"bet_id\":…,\"status\":\"ACCEPTED\",\"potential_win_cents\":…}`", 409: "`INSUFFICIENT_FUNDS`" },
    example: { body: { user_id: "user_1", event_id: "match-9", market: "1X2", selection: "HOME", stake_cents: 1000, odd_value: 2.35 } },
  },
  {
    method: "GET", path: "/api/bets/:bet_id", access: "user", tag: "bets", summary: "A bet (its bettor's or the service's)",
    params: betId, responses: { 200: "The bet", 404: "`BET_NOT_FOUND`" }, example: { params: { bet_id: bet } },
  },
  {
    method: "POST", path: "/api/bets/:bet_id/settle", access: "service", idempotent: true, tag: "bets", summary: "Settle a bet",
    params: betId, body: bets.settleBody, responses: { 200: "The bet", 404: "`BET_NOT_FOUND`", 409: "`BET_ALREADY_SETTLED`" },
    example: { params: { bet_id: bet }, body: { result: "WON" } },
  },

  {
    method: "POST", path: "/api/offers", access: "service", tag: "offers", summary: "Create a bonus offer (`active` defaults to true)",
    body: offerCreate, responses: { 201: "The offer, version 1" },
    example: {
      body: { name: "Weekend boost", min_stake_cents: 500, bonus_pct: 0.1, max_bonus_cents: 2000, markets: ["1X2"], min_odds: 1.5, ends_at: inOneYear() },
    },
  },
  {
    method: "GET", path: "/api/offers", access: "public", tag: "offers", summary: "Offers, oldest first; `active=true` for the active ones",
    query: offers.listQuery, responses: { 200: "`{\"offers\":[…],\"next_cursor\"?}`" }, example: { query: { limit: "10", active: "true" } },
  },
  {
    method: "GET", path: "/api/offers/:id", access: "public", tag: "offers", summary: "An offer; the service also gets its budget usage",
    params: offer, responses: { 200: "The offer", 404: "`NOT_FOUND`" }, example: { params: { id: "off_demo" } },
  },
  {
    method: "PUT", path: "/api/offers/:id", access: "service", tag: "offers",
    summary: "Change an offer: fields left out are kept, null clears an optional one; a new version when anything changed",
    params: offer, body: offerPatch, responses: { 200: "The offer", 400: "Invalid input, or `ends_at` not after `starts_at`", 404: "`NOT_FOUND`" },
    example: { params: { id: "off_demo" }, body: { bonus_pct: 0.2 } },
  },
  {
    method: "DELETE", path: "/api/offers/:id", access: "service", tag: "offers", summary: "Deactivate an offer (its history is kept)",
    params: offer, responses: { 200: "The offer, inactive", 404: "`NOT_FOUND`" }, example: { params: { id: "off_demo" } },
  },
  {
    method: "GET", path: "/api/offers/:id/versions", access: "service", tag: "offers", summary: "An offer's versions, each with what changed and who changed it",
    params: offer, query: offers.versionsQuery, responses: { 200: "`{\"versions\":[…],\"next_cursor\"?}`", 404: "`NOT_FOUND`" },
    example: { params: { id: "off_demo" }, query: { limit: "10" } },
  },
  {
    method: "GET", path: "/api/awards", access: "user", tag: "offers",
    summary: "Offer awards credited, newest first: a user's own (user_id defaults to the token's user; the service names one)",
    query: awards.awardsQuery, responses: { 200: "`{\"awards\":[…],\"next_cursor\"?}`" }, example: { query: { user_id: "user_1", limit: "10" } },
  },

  {
    method: "POST", path: "/api/odds", access: "service", tag: "odds",
    summary: "Apply an odds update (the `odds_updates` message; unknown fields are ignored)",
    body: oddsMessage,
    responses: { 200: "`{\"status\":\"STALE\",…}`: the version is not above the stored one; nothing changed", 201: "`{\"status\":\"APPLIED\",…}`" },
    example: {
      body: {
        event_id: "match-9", home_team: "Lions", away_team: "Tigers", market: "1X2", odds: { home: "2.35", draw: "3.1", away: "2.9" },
        updated_at: "2026-01-01T12:00:00Z", source: "feed-a", version: 1,
      },
    },
  },
  {
    method: "GET", path: "/api/events", access: "public", tag: "odds", summary: "Events with odds, in the order first seen",
    query: odds.eventsQuery, responses: { 200: "`{\"events\":[…],\"next_cursor\"?}`" }, example: { query: { limit: "10" } },
  },
  {
    method: "GET", path: "/api/events/:id/markets", access: "public", tag: "odds", summary: "An event's markets and their versions",
    params: event, responses: { 200: "`{\"event_id\":…,\"markets\":[…]}`", 404: "`NOT_FOUND`" }, example: { params: { id: "match-9" } },
  },
  {
    method: "GET", path: "/api/events/:id/odds", access: "public", tag: "odds", summary: "An event's current odds in every market, exactly as sent",
    params: event, responses: { 200: "The event's odds", 404: "`NOT_FOUND`" }, example: { params: { id: "match-9" } },
  },

  {
    method: "GET", path: "/api/stats", access: "public", tag: "feeds", summary: "Live counters merged over the relay shards",
    responses: { 200: "`{\"totals\":{…},\"per_second\":{…}}`" }, example: {},
  },
  {
    method: "POST", path: "/api/feeds/awards/tickets", access: "signedIn", tag: "feeds",
    summary: "A 60-second ticket for /ws/awards: a user's shows its own awards, the service's everyone's",
    responses: { 201: "`{\"ticket\":…,\"expires_at\":…}`" }, example: {},
  },
  {
    method: "GET", path: "/ws/odds", access: "public", tag: "feeds", summary: "WebSocket: odds changes as they are applied",
    responses: WEBSOCKET, example: {},
  },
  {
    method: "GET", path: "/ws/stats", access: "public", tag: "feeds", summary: "WebSocket: the live counters, once a second",
    responses: WEBSOCKET, example: {},
  },
  {
    method: "GET", path: "/ws/campaigns/:id", access: "public", tag: "feeds", summary: "WebSocket: a rain campaign's remaining packets",
    params: { id: feeds.campaignId }, responses: WEBSOCKET, example: { params: { id: campaign } },
  },
  {
    method: "GET", path: "/ws/awards", access: "ticket", tag: "feeds", summary: "WebSocket: offer awards, the ticket's viewer's (all for the service)",
    responses: { ...WEBSOCKET, 401: "`UNAUTHORIZED`: no ticket, or one that is expired or for another feed" }, example: {},
  },

  {
    method: "GET", path: "/internal/relay", access: "bridge", tag: "internal", summary: "How many relay shards there are",
    responses: { 200: "`{\"shards\":n}`" }, example: {},
  },
  {
    method: "GET", path: "/internal/relay/:shard/backlog", access: "bridge", tag: "internal", summary: "Events waiting on a shard",
    params: shard, responses: { 200: "`{\"backlog\":n}`" }, example: { params: { shard: "0" } },
  },
  {
    method: "POST", path: "/internal/relay/:shard/pull", access: "bridge", tag: "internal", summary: "Acknowledge and long-poll the next events",
    params: shard, body: internal.pullBody, responses: { 200: "Events after the acknowledged cursor", 409: "`LEASE_LOST`" },
    example: { params: { shard: "0" }, body: { ack: 0, limit: 10, wait_ms: 0 } },
  },
  {
    method: "POST", path: "/internal/relay/:shard/lease", access: "bridge", tag: "internal", summary: "Take or renew a shard's lease",
    params: shard, body: internal.leaseBody, responses: { 200: "The lease (or who holds it)" },
    example: { params: { shard: "0" }, body: { holder: "bridge-a", ttl_ms: 10000 } },
  },
  {
    method: "POST", path: "/internal/relay/:shard/lease/release", access: "bridge", tag: "internal", summary: "Give up a lease",
    params: shard, body: internal.releaseBody, responses: { 200: "`{\"released\":bool}`" },
    example: { params: { shard: "0" }, body: { token: 1 } },
  },
  {
    method: "POST", path: "/internal/failures", access: "bridge", tag: "internal", summary: "Count the bridge's retries or dead letters in the live stats",
    body: internal.failuresBody, responses: { 200: "`{\"counted\":n}`: the ids not counted before" },
    example: { body: { kind: "dlq", ids: ["kafka:coupon.get.req/0:1"] } },
  },
  {
    method: "POST", path: "/internal/ingest", access: "bridge", tag: "internal", summary: "Inbound Kafka messages for the actors",
    body: internal.ingestBody, responses: { 200: "`{\"results\":[…]}`, one per message" },
    example: {
      body: {
        messages: [{ topic: "coupon.get.req", key: "c-1", value: { schema_version: 1, correlation_id: "c-1", reply_to: "coupon.get.res", name: "PROMO_SUPER" } }],
      },
    },
  },
];

let document: ReturnType<typeof openApiDocument> | undefined;
export const apiDocument = () =>
  (document ??= openApiDocument(API_ROUTES, {
    title: "rushgate",
    version: "0.1.0",
    description:
      "Edge promotions engine: coupons, red-packet rain campaigns, wallets, bets, bonus offers and odds, with live feeds. Errors are `{\"error\": CODE, \"message\": text}`; outcome endpoints answer `{\"status\": CODE, …}`. Money is integer minor units; times are ISO-8601 UTC.",
  }));

export const reference = new Hono<{ Bindings: Env } & AuthVars>()
  .get("/openapi.json", (c) => c.json(apiDocument()))
  // The page is HTML from this Worker; the Scalar script loads from cdn.jsdelivr.net in the browser.
  .get("/docs", Scalar({ url: "/api/openapi.json", pageTitle: "rushgate API" }));
