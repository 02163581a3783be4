import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { authenticate, type AuthVars, bearer, sameSecret } from "./lib/auth";
import { HttpError } from "./lib/errors";
import { allowedMethods } from "./lib/methods";
import { awards } from "./routes/awards";
import { countFailure } from "./lib/stats";
import { bets } from "./routes/bets";
import { campaigns } from "./routes/campaigns";
import { coupons } from "./routes/coupons";
import { feeds, metrics, sockets } from "./routes/feeds";
import { internal } from "./routes/internal";
import { offers } from "./routes/offers";
import { odds } from "./routes/odds";
import { reference } from "./routes/openapi";
import { wallets } from "./routes/wallets";

export { AwardsFeed } from "./actors/awards-feed";
export { Campaign } from "./actors/campaign";
export { CampaignFeed } from "./actors/campaign-feed";
export { CampaignShard } from "./actors/campaign-shard";
export { Coupon } from "./actors/coupon";
export { OfferBudget } from "./actors/offer-budget";
export { Offers } from "./actors/offers";
export { Odds } from "./actors/odds";
export { OddsFeed } from "./actors/odds-feed";
export { OddsIndex } from "./actors/odds-index";
export { Relay } from "./actors/relay";
export { StatsFeed } from "./actors/stats-feed";
export { Wallet } from "./actors/wallet";

const app = new Hono<{ Bindings: Env } & AuthVars>();

const limit = (kib: number) =>
  bodyLimit({
    maxSize: kib * 1024,
    onError: (c) => c.json({ error: "PAYLOAD_TOO_LARGE", message: `body over ${kib} KiB` }, 413),
  });

// Browsers may call the API cross-origin only from configured origins (none by default).
app.use("/api/*", async (c, next) => {
  const origins = (c.env.CORS_ORIGINS as string).split(",").map((o) => o.trim()).filter(Boolean);
  if (!origins.length) return next();
  return cors({ origin: origins, allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key"] })(c, next);
});
// The credential is checked before any body is read.
app.use("/api/*", authenticate, limit(16));
app.use("/internal/*", async (c, next) => {
  if (!c.env.BRIDGE_TOKEN) throw new HttpError(503, "BRIDGE_DISABLED", "BRIDGE_TOKEN is not set");
  const token = bearer(c);
  if (token === null || !sameSecret(token, c.env.BRIDGE_TOKEN)) {
    throw new HttpError(401, "UNAUTHORIZED", "this endpoint needs the bridge token");
  }
  await next();
});
app.use("/internal/*", limit(4096)); // The bridge sends batches.

app.get("/health", (c) => c.json({ status: "ok" }));
app.get("/api/config", (c) => c.json({ currency: c.env.CURRENCY })); // public: what the web console needs to show money
app.route("/api/coupons", coupons);
app.route("/api/campaigns", campaigns);
app.route("/api/wallets", wallets);
app.route("/api/bets", bets);
app.route("/api/offers", offers);
app.route("/api/awards", awards);
app.route("/internal", internal);
app.route("/api", odds);
app.route("/api", feeds);
app.route("/ws", sockets);
app.route("/metrics", metrics);
app.route("/api", reference);

app.notFound((c) => {
  const allow = allowedMethods(app.routes, c.req.path);
  if (allow.length) {
    c.header("Allow", allow.join(", "));
    return c.json({ error: "METHOD_NOT_ALLOWED", message: `${c.req.method} is not allowed here; use ${allow.join(", ")}` }, 405);
  }
  return c.json({ error: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` }, 404);
});

app.onError((err, c) => {
  if (err instanceof HttpError || (err instanceof HTTPException && err.status < 500)) {
    const status = err.status as HttpError["status"];
    const code =
      err instanceof HttpError
        ? err.code
        : status === 401
          ? "UNAUTHORIZED"
          : /json/i.test(err.message)
            ? "INVALID_JSON"
            : "BAD_REQUEST";
    if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="rushgate"');
    if (status === 503) c.header("Retry-After", "1");
    return c.json({ error: code, message: err.message }, status);
  }
  // Never leak a stack trace; the log keeps it.
  console.error(err);
  // Counted for live stats; never allowed to fail the answer.
  try {
    c.executionCtx.waitUntil(countFailure(c.env, "http_5xx").catch(() => {}));
  } catch {}
  return c.json({ error: "INTERNAL_ERROR", message: "internal error" }, 500);
});

export { app };
export default app;
