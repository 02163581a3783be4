// The flash-sale system's claim, as a small local server for comparison: one
// PostgreSQL transaction per claim on a connection pool (node-postgres's
// default of 10): INSERT … ON CONFLICT DO NOTHING for "one per user", then a
// guarded UPDATE … WHERE remaining > 0 for the stock. Same HTTP API as
// rushgate's POST /api/coupons/claim. Prints {"port", "pids"} when ready; the
// pids are the pool's backends, so the harness can count their CPU.
import { createServer } from "node:http";
import pg from "pg";

// No idle timeout: the backends found at start stay the ones doing the work (their CPU is counted).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, idleTimeoutMillis: 0 });
await pool.query(`
  CREATE TABLE IF NOT EXISTS coupons (name TEXT PRIMARY KEY, amount INTEGER NOT NULL, remaining INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS claims (coupon TEXT NOT NULL, user_id TEXT NOT NULL, claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (coupon, user_id));
`);

type Outcome = { status: "CLAIMED"; remaining_amount: number } | { status: "ALREADY_CLAIMED" | "SOLD_OUT" };

async function claim(coupon: string, user: string): Promise<Outcome> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const inserted = await client.query("INSERT INTO claims (coupon, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [coupon, user]);
    if (inserted.rowCount === 0) {
      await client.query("ROLLBACK");
      return { status: "ALREADY_CLAIMED" };
    }
    const updated = await client.query<{ remaining: number }>(
      "UPDATE coupons SET remaining = remaining - 1 WHERE name = $1 AND remaining > 0 RETURNING remaining",
      [coupon],
    );
    if (updated.rowCount === 0) {
      await client.query("ROLLBACK");
      return { status: "SOLD_OUT" };
    }
    await client.query("COMMIT");
    return { status: "CLAIMED", remaining_amount: updated.rows[0]!.remaining };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

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
        await pool.query("INSERT INTO coupons (name, amount, remaining) VALUES ($1, $2, $2)", [name, amount]);
        return reply(res, 201, { name, amount, remaining_amount: amount });
      }
      if (req.method === "POST" && req.url === "/api/coupons/claim") {
        const { user_id, coupon_name } = JSON.parse(raw);
        const outcome = await claim(coupon_name, user_id);
        return reply(res, outcome.status === "CLAIMED" ? 200 : 409, outcome);
      }
      if (req.method === "GET" && req.url?.startsWith("/api/coupons/")) {
        const name = decodeURIComponent(req.url.slice("/api/coupons/".length));
        const row = await pool.query<{ amount: number; remaining: number; claimed: number }>(
          "SELECT amount, remaining, (SELECT count(*)::int FROM claims WHERE coupon = $1) AS claimed FROM coupons WHERE name = $1",
          [name],
        );
        return row.rows[0] ? reply(res, 200, row.rows[0]) : reply(res, 404, { error: "NOT_FOUND", message: "coupon not found" });
      }
      reply(res, 404, { error: "NOT_FOUND", message: "no route" });
    } catch (err) {
      reply(res, 500, { error: "INTERNAL_ERROR", message: String(err) });
    }
  });
});

// Open every pooled connection up front and learn its backend pid.
const clients = await Promise.all(Array.from({ length: 10 }, () => pool.connect()));
const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid));
clients.forEach((c) => c.release());
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port, pids }));
});
process.once("SIGTERM", () => server.close(() => void pool.end().then(() => process.exit(0))));
