// The red-packet system's claim, as a small local server for comparison: one
// Redis Lua script per claim (one per user, guarded stock), with ioredis. Same
// HTTP API as rushgate's POST /api/coupons/claim. Redis here persists nothing
// before it replies (no AOF, no snapshots). Prints {"port", "pids"} when ready.
import { createServer } from "node:http";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL!);
// KEYS[1] remaining, KEYS[2] claimants set; ARGV[1] user. 1 claimed, 0 already, -1 sold out.
const claimScript = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {0, 0} end
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return {-1, 0} end
redis.call('SADD', KEYS[2], ARGV[1])
return {1, redis.call('DECR', KEYS[1])}
`;
redis.defineCommand("claim", { numberOfKeys: 2, lua: claimScript });
const claim = (coupon: string, user: string) =>
  (redis as unknown as { claim: (...a: string[]) => Promise<[number, number]> }).claim(`coupon:${coupon}:remaining`, `coupon:${coupon}:claimed`, user);

const reply = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

const server = createServer((req, res) => {
  let raw = "";
  req.on("data", (d) => (raw += d));
  req.on("end", async () => {
    try {
      if (req.method === "POST" && req.url === "/api/coupons") {
        const { name, amount } = JSON.parse(raw);
        await redis.multi().set(`coupon:${name}:amount`, amount).set(`coupon:${name}:remaining`, amount).exec();
        return reply(res, 201, { name, amount, remaining_amount: amount });
      }
      if (req.method === "POST" && req.url === "/api/coupons/claim") {
        const { user_id, coupon_name } = JSON.parse(raw);
        const [code, remaining] = await claim(coupon_name, user_id);
        if (code === 1) return reply(res, 200, { status: "CLAIMED", remaining_amount: remaining });
        return reply(res, 409, { status: code === 0 ? "ALREADY_CLAIMED" : "SOLD_OUT" });
      }
      if (req.method === "GET" && req.url?.startsWith("/api/coupons/")) {
        const name = decodeURIComponent(req.url.slice("/api/coupons/".length));
        const [amount, remaining, claimed] = await Promise.all([
          redis.get(`coupon:${name}:amount`),
          redis.get(`coupon:${name}:remaining`),
          redis.scard(`coupon:${name}:claimed`),
        ]);
        if (amount === null) return reply(res, 404, { error: "NOT_FOUND", message: "coupon not found" });
        return reply(res, 200, { amount: Number(amount), remaining: Number(remaining), claimed });
      }
      reply(res, 404, { error: "NOT_FOUND", message: "no route" });
    } catch (err) {
      reply(res, 500, { error: "INTERNAL_ERROR", message: String(err) });
    }
  });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port, pids: [] }));
});
process.once("SIGTERM", () => server.close(() => void redis.quit().then(() => process.exit(0))));
