// Bad input closes the money paths: strict bodies, one user-id rule, bounded
// creation cost, per-user rate limits, and a property over every route.
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { asUser, credentials } from "./auth-helpers";
import { call, deposit, get, post, send, serviceAuth, unique } from "./helpers";

const HOUR = 3_600_000;
const w = (user: string) => `/api/wallets/${encodeURIComponent(user)}`;
const bet = (user_id: string, stake_cents = 100) => ({ user_id, event_id: "e", market: "m", selection: "s", stake_cents, odd_value: 2 });
const window = () => ({ start_time: new Date(Date.now() - HOUR).toISOString(), end_time: new Date(Date.now() + HOUR).toISOString() });

describe("strict bodies", () => {
  it("capture with a misspelt field is 400 and captures nothing (it used to capture the whole hold)", async () => {
    const user = unique("cap");
    await deposit(user, 1000);
    const { hold_id } = (await send(`${w(user)}/holds`, { amount_cents: 300 })).body;
    const res = await send(`${w(user)}/holds/${hold_id}/capture`, { amount: 100 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("INVALID_REQUEST");
    expect((await get(`${w(user)}/holds/${hold_id}`)).body).toMatchObject({ status: "HELD", captured_cents: 0 });
    expect((await get(w(user))).body.cash).toEqual({ posted: 1000, held: 300, available: 700 });
  });

  it("an unknown field is 400 on every body that moves money or changes state", async () => {
    const user = unique("strict");
    await deposit(user, 1000);
    const campaign = (await post("/api/campaigns", { name: "s", ...window(), inventory: { "5": 5 } })).body.id;
    const betId = (await send("/api/bets", bet(user))).body.bet_id;
    const { hold_id } = (await send(`${w(user)}/holds`, { amount_cents: 1 })).body;
    const cases: [string, object][] = [
      ["/api/coupons", { name: unique("C"), amount: 1 }],
      ["/api/coupons/claim", { coupon_name: "X", user_id: user }],
      ["/api/campaigns", { name: "x", ...window(), inventory: { "1": 1 } }],
      [`/api/campaigns/${campaign}/open`, { user_id: user }],
      [`${w(user)}/deposits`, { amount_cents: 1 }],
      [`${w(user)}/withdrawals`, { amount_cents: 1 }],
      [`${w(user)}/holds`, { amount_cents: 1 }],
      [`${w(user)}/holds/${hold_id}/capture`, { amount_cents: 1 }],
      ["/api/bets", bet(user)],
      [`/api/bets/${betId}/settle`, { result: "WON" }],
    ];
    const before = (await get(w(user))).body;
    for (const [path, body] of cases) {
      const res = await send(path, { ...body, extra: 1 });
      expect([res.status, res.body.error], path).toEqual([400, "INVALID_REQUEST"]);
      expect(res.body.message, path).toMatch(/extra|unrecognized/i);
    }
    expect((await get(w(user))).body).toEqual(before);
  });
});

describe("user ids are counted one way everywhere", () => {
  it("128 emoji (256 UTF-16 units) is refused up front, so no stake can be stranded", async () => {
    const user = "😀".repeat(128);
    expect((await deposit(user, 1000)).status).toBe(400);
    const placed = await send("/api/bets", bet(user));
    expect([placed.status, placed.body.error]).toEqual([400, "INVALID_REQUEST"]);
  });

  it("64 emoji (128 units) is a user whose bet can be read and settled", async () => {
    const user = `${"😀".repeat(63)}${unique("").slice(0, 2)}`;
    expect(user.length).toBeLessThanOrEqual(128);
    expect((await deposit(user, 1000)).status).toBe(201);
    const { bet_id } = (await send("/api/bets", bet(user))).body;
    expect((await get(`/api/bets/${bet_id}`)).status).toBe(200);
    expect((await send(`/api/bets/${bet_id}/settle`, { result: "VOID" })).status).toBe(200);
    expect((await get(w(user))).body.cash).toEqual({ posted: 1000, held: 0, available: 1000 });
  });

  it("lone surrogates and control characters are not user ids", async () => {
    for (const user of ["a\ud800b", "\udfff", "tab\tname", "nul\u0000"]) {
      expect((await send("/api/bets", bet(user))).status, JSON.stringify(user)).toBe(400);
    }
  });
});

describe("creation cost is bounded", () => {
  it("a campaign may have at most 100 distinct amounts, each at most 10^12", async () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [String(i + 1), 1]));
    const res = await post("/api/campaigns", { name: "many", ...window(), inventory: many });
    expect([res.status, res.body.message]).toEqual([400, expect.stringMatching(/at most 100 distinct amounts/)]);
    const huge = await post("/api/campaigns", { name: "huge", ...window(), inventory: { "1000000000001": 1 } });
    expect(huge.status).toBe(400);
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [String(i + 1), 1]));
    expect((await post("/api/campaigns", { name: "ok", ...window(), inventory: hundred })).status).toBe(201);
  });
});

describe("per-user rate limits", () => {
  it("a user past the limit gets 429 with Retry-After; the service acting for users is not limited", async () => {
    const coupon = unique("RL");
    await post("/api/coupons", { name: coupon, amount: 1 });
    const user = unique("spammer");
    const token = await asUser(user);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await call("POST", "/api/coupons/claim", { coupon_name: coupon, user_id: user }, token);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toBe("10");
        expect(res.body.error).toBe("RATE_LIMITED");
        break;
      }
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s !== 429).length).toBe(30); // the configured limit
    // Another user is not affected, and the service is never limited per user.
    const other = unique("calm");
    expect((await call("POST", "/api/coupons/claim", { coupon_name: coupon, user_id: other }, await asUser(other))).status).toBe(409);
    for (let i = 0; i < 40; i++) {
      expect((await post("/api/coupons/claim", { coupon_name: coupon, user_id: user })).status).not.toBe(429);
    }
  });
});

// ---- the property over every route ----

let victim: string;
let fixtures: Record<string, string>;

beforeAll(async () => {
  victim = unique("fuzzvictim");
  await deposit(victim, 10_000);
  const coupon = unique("FUZZ");
  await post("/api/coupons", { name: coupon, amount: 3 });
  const campaign = (await post("/api/campaigns", { name: "f", ...window(), inventory: { "7": 3 } })).body.id;
  const betId = (await send("/api/bets", bet(victim))).body.bet_id;
  const holdId = (await send(`${w(victim)}/holds`, { amount_cents: 5 })).body.hold_id;
  // Campaign and offer routes both name their parameter :id; offer paths get the offer's.
  const offer = (await post("/api/offers", { name: "fuzz", min_stake_cents: 1, bonus_pct: 0.5 })).body.id;
  fixtures = { user_id: victim, name: coupon, id: campaign, offer, bet_id: betId, hold_id: holdId };
});

async function snapshot() {
  const f = fixtures;
  const reads = [
    w(f.user_id!),
    `${w(f.user_id!)}/ledger`,
    `${w(f.user_id!)}/holds/${f.hold_id}`,
    `/api/bets/${f.bet_id}`,
    `/api/coupons/${f.name}`,
    `/api/campaigns/${f.id}`,
    `/api/offers/${f.offer}`,
    `/api/offers/${f.offer}/versions`,
  ];
  return Promise.all(reads.map(async (p) => (await get(p)).body));
}

const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -(2 ** 41), max: 2 ** 41 }) },
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.constantFrom("\ud800", "a\udfffb", "\u0000", "x".repeat(10_000), "😀".repeat(128), "", " ", "../.."),
  fc.integer(),
  fc.constantFrom(1e308, -1, 0, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** A path with its parameters filled from the fixtures, or sometimes with something nasty. */
const pathFor = (template: string) =>
  fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, fc.constantFrom("%ED%A0%80", "%00", "%", "x".repeat(300), "..", "%F0%9F%98%80".repeat(128))), {
      minLength: 8,
      maxLength: 8,
    })
    .map((choices) => {
      let i = 0;
      const offerPath = template.startsWith("/api/offers/");
      return template.replace(/:([a-z_]+)/g, (_, name: string) => {
        const fixture = offerPath && name === "id" ? fixtures.offer : fixtures[name];
        return choices[i++] ?? encodeURIComponent(fixture ?? name);
      });
    });

/** A body each route would accept from the right caller, to mutate one field at a time. */
function validBody(path: string): Record<string, unknown> | undefined {
  const f = fixtures;
  const bodies: Record<string, Record<string, unknown>> = {
    "/api/coupons": { name: unique("F"), amount: 2 },
    "/api/coupons/claim": { coupon_name: f.name, user_id: f.user_id },
    "/api/campaigns": { name: "f", ...window(), inventory: { "3": 2 } },
    "/api/campaigns/:id/open": { user_id: f.user_id },
    "/api/wallets/:user_id/deposits": { amount_cents: 100 },
    "/api/wallets/:user_id/withdrawals": { amount_cents: 1 },
    "/api/wallets/:user_id/holds": { amount_cents: 1, ref: "r" },
    "/api/wallets/:user_id/holds/:hold_id/capture": { amount_cents: 1 },
    "/api/bets": bet(f.user_id!, 1),
    "/api/bets/:bet_id/settle": { result: "LOST" },
    "/api/offers": { name: "f", min_stake_cents: 100, bonus_pct: 0.05, markets: ["m"], budget_cents: 1000 },
    "/api/offers/:id": { bonus_pct: 0.5, min_odds: 1.5, max_awards_per_user: 2 },
    "/api/odds": {
      event_id: "FUZZ_EVENT",
      home_team: "H",
      away_team: "A",
      market: "1X2",
      odds: { home: "2.5", draw: null, away: "1.5" },
      updated_at: "2026-01-01T00:00:00Z",
      source: "fuzz",
      version: 1,
    },
  };
  return bodies[path];
}

const bodyFor = (path: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom("set", "add", "drop", "keep"), fc.nat(), fc.string({ maxLength: 8 }), nasty).map(([op, n, extra, value]) => {
      const body = validBody(path);
      if (!body) return undefined;
      const keys = Object.keys(body);
      const field = keys[n % keys.length]!;
      if (op === "set") body[field] = value;
      if (op === "add") body[`x${extra}`] = value;
      if (op === "drop") delete body[field];
      return JSON.stringify(body);
    }) },
    fc.constant(undefined),
    fc.dictionary(fc.constantFrom("user_id", "amount_cents", "name", "amount", "coupon_name", "result", "stake_cents", "odd_value", "bonus_pct", "min_stake_cents", "markets", "zzz"), nasty, { maxKeys: 6 }).map((b) => JSON.stringify(b)),
    fc.constantFrom("{", "[]", "null", '{"amount_cents":1e400}', '{"user_id":"\\ud800"}', "not json", '{"amount_cents":1,"amount_cents":2}'),
    fc.constant("chunked-oversize"),
  );

const credentialNames = ["none", "garbage", "basic", "wrongService", "expired", "wrongKey", "algNone", "noExp", "service", "victim", "mallory"] as const;

describe("property: no input makes a 5xx, leaks a stack, or changes state when rejected", () => {
  it("holds over random routes, methods, credentials, paths and bodies", async () => {
    const templates = app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, path: r.path }));
    const bad = await credentials(victim);
    const creds: Record<string, Record<string, string>> = {
      ...bad,
      service: serviceAuth,
      victim: await asUser(victim),
      mallory: await asUser("mallory"),
    };
    let last: Awaited<ReturnType<typeof snapshot>> | undefined;
    // Each route gets its own runs, so a fault on any one of them is likely to be met.
    for (const t of templates) {
    await fc.assert(
      fc.asyncProperty(
          fc.record({
            method: fc.oneof({ weight: 4, arbitrary: fc.constant(t.method) }, fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH")),
            path: pathFor(t.path),
            cred: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("service", "victim") }, fc.constantFrom(...credentialNames)),
            body: bodyFor(t.path),
            type: fc.oneof({ weight: 4, arbitrary: fc.constant("application/json") }, fc.constantFrom("text/plain", "")),
            key: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, fc.constantFrom("", "k".repeat(200))),
          }),
        async ({ method, path, cred, body, type, key }) => {
          // Requests run one at a time, so the state only moves when one succeeds.
          const before = (last ??= await snapshot());
          const headers: Record<string, string> = { ...creds[cred] };
          if (headers.authorization === "") delete headers.authorization;
          if (type) headers["content-type"] = type;
          if (key) headers["idempotency-key"] = key;
          const hasBody = body !== undefined && method !== "GET";
          const res = await SELF.fetch(`https://rushgate.test${path}`, {
            method,
            headers,
            body: !hasBody ? undefined : body === "chunked-oversize" ? oversize() : body,
            // @ts-expect-error: workerd needs duplex for a streamed request body
            duplex: "half",
          });
          const text = await res.text();
          expect(res.status, `${method} ${path} as ${cred}: ${text}`).toBeLessThan(500);
          // Errors are JSON; so is every success but a /metrics scrape (Prometheus text) and the HTML reference page.
          const notJson = res.status < 400 && (path === "/metrics" || res.headers.get("content-type")?.startsWith("text/html"));
          const parsed = notJson ? null : JSON.parse(text);
          if (res.status >= 400) {
            // Outcome endpoints (claim, open) answer {status, …}; every other error is {error, message}.
            const outcome = /\/(claim|open)$/.test(path) && method === "POST" && typeof parsed.status === "string";
            if (!outcome) {
              expect(Object.keys(parsed).sort()).toEqual(["error", "message"]);
              expect(typeof parsed.error).toBe("string");
              expect(parsed.message).not.toMatch(/\n\s+at /);
            }
            expect(await snapshot(), `${method} ${path} as ${cred} changed state`).toEqual(before);
          } else {
            last = undefined;
          }
        },
      ),
      { numRuns: 25 },
    );
    }
    // 25 runs per route; the time grows with the number of routes.
  }, 600_000);
});

/** A 20 KiB body sent without Content-Length (chunked), over the API's 16 KiB limit. */
function oversize(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent++ >= 20) return c.close();
      c.enqueue(new TextEncoder().encode(`${"x".repeat(1023)} `));
    },
  });
}
