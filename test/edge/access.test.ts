// Who may call what: every route, every kind of wrong credential, and proof that
// nothing a rejected request touched has changed.
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { sameSecret } from "../../src/lib/auth";
import { asUser, credentials } from "./auth-helpers";
import { anonymous, call, deposit, get, post, raw, send, unique } from "./helpers";

// signedIn: any user or the service (a feed ticket names whoever asked).
type Access = "public" | "service" | "self" | "signedIn";
type Route = { method: string; path: string; body?: unknown; access: Access };

const HOUR = 3_600_000;
let victim: string;
let coupon: string;
let campaign: string;
let betId: string;
let holdId: string;
let offer: string;
let oddsEvent: string;
let oddsVersion = 1;
const oddsBody = () => ({
  event_id: oddsEvent,
  home_team: "H",
  away_team: "A",
  market: "1X2",
  odds: { home: "2.5", draw: "3", away: "2.9" },
  updated_at: "2026-01-01T00:00:00Z",
  source: "s",
  version: ++oddsVersion,
});

beforeAll(async () => {
  victim = unique("victim");
  coupon = unique("VICTIM");
  expect((await deposit(victim, 10_000)).status).toBe(201);
  expect((await post("/api/coupons", { name: coupon, amount: 5 })).status).toBe(201);
  const created = await post("/api/campaigns", {
    name: "victim rain",
    start_time: new Date(Date.now() - HOUR).toISOString(),
    end_time: new Date(Date.now() + HOUR).toISOString(),
    inventory: { "100": 10 },
  });
  campaign = created.body.id;
  const bet = { user_id: victim, event_id: "e", market: "m", selection: "s", stake_cents: 100, odd_value: 1000 };
  betId = (await send("/api/bets", bet)).body.bet_id;
  holdId = (await send(`/api/wallets/${victim}/holds`, { amount_cents: 50 })).body.hold_id;
  offer = (await post("/api/offers", { name: "victim offer", min_stake_cents: 100, bonus_pct: 0.1 })).body.id;
  oddsEvent = unique("ODDS");
  expect((await post("/api/odds", oddsBody())).status).toBe(201);
});

/** Every route the Worker serves, with a body that would succeed for the right caller. */
function routes(): Route[] {
  const w = `/api/wallets/${victim}`;
  return [
    { method: "POST", path: "/api/coupons", body: { name: unique("C"), amount: 1 }, access: "service" },
    { method: "POST", path: "/api/coupons/claim", body: { coupon_name: coupon, user_id: victim }, access: "self" },
    { method: "GET", path: `/api/coupons/${coupon}`, access: "public" },
    { method: "GET", path: "/api/config", access: "public" },
    {
      method: "POST",
      path: "/api/campaigns",
      body: { name: "x", start_time: new Date().toISOString(), end_time: new Date(Date.now() + HOUR).toISOString(), inventory: { "1": 1 } },
      access: "service",
    },
    { method: "POST", path: `/api/campaigns/${campaign}/open`, body: { user_id: victim }, access: "self" },
    { method: "GET", path: `/api/campaigns/${campaign}`, access: "public" },
    { method: "GET", path: `/api/campaigns/${campaign}/openings/${victim}`, access: "self" },
    { method: "GET", path: w, access: "self" },
    { method: "GET", path: `${w}/ledger`, access: "self" },
    { method: "GET", path: `${w}/windows`, access: "self" },
    // Whose awards is the user_id parameter: a user may read their own only.
    { method: "GET", path: `/api/awards?user_id=${victim}`, access: "self" },
    { method: "POST", path: `${w}/deposits`, body: { amount_cents: 1_000_000 }, access: "service" },
    { method: "POST", path: `${w}/withdrawals`, body: { amount_cents: 1 }, access: "self" },
    { method: "POST", path: `${w}/holds`, body: { amount_cents: 1 }, access: "service" },
    { method: "GET", path: `${w}/holds/${holdId}`, access: "self" },
    { method: "POST", path: `${w}/holds/${holdId}/capture`, body: { amount_cents: 1 }, access: "service" },
    { method: "POST", path: `${w}/holds/${holdId}/release`, access: "service" },
    {
      method: "POST",
      path: "/api/bets",
      body: { user_id: victim, event_id: "e", market: "m", selection: "s", stake_cents: 1, odd_value: 2 },
      access: "self",
    },
    { method: "GET", path: `/api/bets/${betId}`, access: "self" },
    { method: "POST", path: "/api/odds", body: oddsBody(), access: "service" },
    { method: "GET", path: "/api/events", access: "public" },
    { method: "GET", path: `/api/events/${oddsEvent}/markets`, access: "public" },
    { method: "GET", path: `/api/events/${oddsEvent}/odds`, access: "public" },
    { method: "GET", path: "/api/stats", access: "public" },
    { method: "POST", path: "/api/feeds/awards/tickets", access: "signedIn" },
    { method: "POST", path: `/api/bets/${betId}/settle`, body: { result: "WON" }, access: "service" },
    { method: "POST", path: "/api/offers", body: { name: "o", min_stake_cents: 1, bonus_pct: 0.5 }, access: "service" },
    { method: "GET", path: "/api/offers", access: "public" },
    { method: "GET", path: `/api/offers/${offer}`, access: "public" },
    { method: "PUT", path: `/api/offers/${offer}`, body: { bonus_pct: 0.2 }, access: "service" },
    { method: "DELETE", path: `/api/offers/${offer}`, access: "service" },
    { method: "GET", path: `/api/offers/${offer}/versions`, access: "service" },
    { method: "GET", path: "/api/openapi.json", access: "public" },
    { method: "GET", path: "/api/docs", access: "public" },
  ];
}

/** Everything a request could change, read with the service token. */
async function snapshot() {
  const reads = [
    `/api/wallets/${victim}`,
    `/api/wallets/${victim}/ledger`,
    `/api/wallets/${victim}/holds/${holdId}`,
    `/api/bets/${betId}`,
    `/api/coupons/${coupon}`,
    `/api/campaigns/${campaign}`,
    `/api/campaigns/${campaign}/openings/${victim}`,
    `/api/offers/${offer}`,
    `/api/offers/${offer}/versions`,
    `/api/wallets/${victim}/windows`,
    `/api/awards?user_id=${victim}`,
    `/api/events/${oddsEvent}/odds`,
  ];
  return Promise.all(reads.map(async (path) => (await get(path)).body));
}

const send1 = (r: Route, headers: Record<string, string>) =>
  call(r.method, r.path, r.body, { "idempotency-key": unique("k"), ...headers });

describe("who may call what", () => {
  it("the table has a row for every API route the app serves, and no other", () => {
    const served = app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api")).map((r) => `${r.method} ${r.path}`);
    const rows = routes().map((r) =>
      `${r.method} ${r.path.split("?")[0]}`
        .replace(victim, ":user_id")
        .replace(coupon, ":name")
        .replace(campaign, ":id")
        .replace(betId, ":bet_id")
        .replace(holdId, ":hold_id")
        .replace(offer, ":id")
        .replace(oddsEvent, ":id")
        .replace(/\?.*$/, ""), // a query names whose data, not another route
    );
    expect(new Set(rows)).toEqual(new Set(served));
  });

  it("no credential, or one that fails, is 401 with WWW-Authenticate on every non-public route; nothing changes", async () => {
    const before = await snapshot();
    const bad = await credentials(victim);
    for (const r of routes()) {
      for (const [name, headers] of Object.entries(bad)) {
        if (r.access === "public" && name === "none") continue;
        const res = await send1(r, headers);
        expect(res.status, `${name} on ${r.method} ${r.path}`).toBe(401);
        expect(res.body).toEqual({ error: "UNAUTHORIZED", message: expect.any(String) });
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("another user's token is 403 FORBIDDEN on every user and service route; nothing changes", async () => {
    const before = await snapshot();
    const mallory = await asUser(unique("mallory"));
    for (const r of routes().filter((r) => r.access !== "public" && r.access !== "signedIn")) {
      const res = await send1(r, mallory);
      expect(res.status, `${r.method} ${r.path}`).toBe(403);
      expect(res.body).toEqual({ error: "FORBIDDEN", message: expect.any(String) });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a user's own token may not call service routes (403), and nothing changes", async () => {
    const before = await snapshot();
    const own = await asUser(victim);
    for (const r of routes().filter((r) => r.access === "service")) {
      expect((await send1(r, own)).status, `${r.method} ${r.path}`).toBe(403);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a user's own token passes on its own routes; public reads need no credential", async () => {
    const own = await asUser(victim);
    for (const r of routes().filter((r) => r.access === "self" || r.access === "signedIn")) {
      const res = await send1(r, own);
      expect([401, 403, 500], `${r.method} ${r.path}: ${JSON.stringify(res.body)}`).not.toContain(res.status);
    }
    for (const r of routes().filter((r) => r.access === "public")) {
      expect((await raw(r.method, r.path, undefined, anonymous)).status).toBe(200);
    }
  });

  it("the settle exploit is closed: a stranger cannot settle a 1000× bet and mint money", async () => {
    const before = await snapshot();
    for (const headers of [anonymous, await asUser(victim)]) {
      const res = await call("POST", `/api/bets/${betId}/settle`, { result: "WON" }, { "idempotency-key": unique("k"), ...headers });
      expect([401, 403]).toContain(res.status);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("the public coupon read shows stock only; claimants need the service token", async () => {
    const pub = await get(`/api/coupons/${coupon}`, anonymous);
    expect(pub.body).toEqual({ name: coupon, amount: 5, remaining_amount: expect.any(Number) });
    expect((await get(`/api/coupons/${coupon}`)).body.claimed_by).toBeInstanceOf(Array);
  });

  it("a wrong method on a known path is 405 with Allow", async () => {
    const res = await call("DELETE", `/api/wallets/${victim}`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(res.body).toEqual({ error: "METHOD_NOT_ALLOWED", message: expect.any(String) });
    const put = await call("PUT", "/api/coupons");
    expect([put.status, put.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await call("GET", "/api/nothing-here")).status).toBe(404);
  });
});

describe("sameSecret", () => {
  it("is true only for the same string: not a prefix, an extension, one byte off, empty, or no secret", () => {
    expect(sameSecret("s3cret-token", "s3cret-token")).toBe(true);
    expect(sameSecret("s3cret-tokeN", "s3cret-token")).toBe(false);
    for (const given of ["s3cret-toke", "s3cret-token!", "", "S3CRET-TOKEN"]) expect(sameSecret(given, "s3cret-token")).toBe(false);
    expect(sameSecret("é", "é")).toBe(true);
    expect(sameSecret("e\u0301", "é")).toBe(false);
    expect(sameSecret("anything", undefined)).toBe(false);
    expect(sameSecret("", "")).toBe(false); // an empty secret is no secret
  });
});

describe("the bridge's /internal", () => {
  it("a Basic scheme is 401 UNAUTHORIZED, not INVALID_JSON", async () => {
    const res = await call("POST", "/internal/ingest", { messages: [] }, { authorization: "Basic dXNlcjpwYXNz" });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("the service token is not the bridge token", async () => {
    expect((await call("GET", "/internal/relay")).status).toBe(401);
  });

  it("checks the token before reading the body: a huge unauthenticated stream is refused, not buffered", async () => {
    let pulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        pulled++;
        if (pulled > 64) return controller.close(); // 64 × 64 KiB = 4 MiB
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await raw("POST", "/internal/ingest", undefined, { authorization: "Bearer wrong", "content-type": "application/json" });
    expect(res.status).toBe(401);
    const streamed = await raw("POST", "/api/coupons", undefined, { authorization: "Bearer wrong" }).then((r) => r.status);
    expect(streamed).toBe(401);
    const viaStream = await fetchWithBody("/internal/ingest", body, "Bearer wrong");
    expect(viaStream).toBe(401);
    expect(pulled).toBeLessThan(64);
  });
});

async function fetchWithBody(path: string, body: ReadableStream, authorization: string): Promise<number> {
  const { SELF } = await import("cloudflare:test");
  const res = await SELF.fetch(`https://rushgate.test${path}`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body,
    // @ts-expect-error: workerd needs duplex for a streamed request body
    duplex: "half",
  });
  await res.text();
  return res.status;
}

describe("CORS", () => {
  it("is off by default: no Access-Control-Allow-Origin for any origin", async () => {
    const res = await raw("OPTIONS", "/api/coupons", undefined, { origin: "https://evil.example", "access-control-request-method": "POST" });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows exactly the configured origins", async () => {
    const configured = { ...env, CORS_ORIGINS: "https://console.example" } as unknown as Env;
    const preflight = (origin: string) =>
      app.request(
        "/api/coupons",
        { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } },
        configured,
      );
    expect((await preflight("https://console.example")).headers.get("access-control-allow-origin")).toBe(
      "https://console.example",
    );
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });
});
