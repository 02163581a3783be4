import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { HttpError } from "./lib/errors";
import { admin } from "./routes/admin";
import { bets } from "./routes/bets";
import { campaigns } from "./routes/campaigns";
import { coupons } from "./routes/coupons";
import { internal } from "./routes/internal";
import { wallets } from "./routes/wallets";

export { Campaign } from "./actors/campaign";
export { CampaignShard } from "./actors/campaign-shard";
export { Coupon } from "./actors/coupon";
export { Relay } from "./actors/relay";
export { Wallet } from "./actors/wallet";

const app = new Hono<{ Bindings: Env }>();

const limit = (kib: number) =>
  bodyLimit({
    maxSize: kib * 1024,
    onError: (c) => c.json({ error: "PAYLOAD_TOO_LARGE", message: `body over ${kib} KiB` }, 413),
  });
app.use("/api/*", limit(16));
app.use("/internal/*", limit(4096)); // The bridge sends batches.

app.get("/health", (c) => c.json({ status: "ok" }));
app.route("/api", admin);
app.route("/api/coupons", coupons);
app.route("/api/campaigns", campaigns);
app.route("/api/wallets", wallets);
app.route("/api/bets", bets);
app.route("/internal", internal);

app.notFound((c) => c.json({ error: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.onError((err, c) => {
  if (err instanceof HttpError) return c.json({ error: err.code, message: err.message }, err.status);
  if (err instanceof HTTPException && err.status < 500) {
    const code = err.status === 400 ? "INVALID_JSON" : err.status === 401 ? "UNAUTHORIZED" : "BAD_REQUEST";
    return c.json({ error: code, message: err.message }, err.status);
  }
  // Never leak a stack trace; the log keeps it.
  console.error(err);
  return c.json({ error: "INTERNAL_ERROR", message: "internal error" }, 500);
});

export default app;
