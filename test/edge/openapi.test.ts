// The OpenAPI document against the Worker that serves it: the same routes, the
// credentials each really needs, statuses it really answers, and examples that
// pass the route's own validation. The document is read as a client would, from
// GET /api/openapi.json.
import { validate } from "@readme/openapi-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { API_ROUTES } from "../../src/routes/openapi";
import { asUser } from "./auth-helpers";
import { anonymous, bridgeAuth, call, raw, serviceAuth, unique } from "./helpers";

type Operation = {
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; example?: string }[];
  requestBody?: { required: boolean; content: { "application/json": { example?: unknown } } };
  responses: Record<string, unknown>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

let doc: Doc;
beforeAll(async () => {
  const res = await call("GET", "/api/openapi.json", undefined, anonymous);
  expect(res.status).toBe(200);
  doc = res.body;
});

/** Every documented operation, with Hono's spelling of its path. */
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, hono: path.replace(/\{(\w+)\}/g, ":$1"), op })),
  );

/** The example request of an operation, as the document gives it. */
function exampleRequest(path: string, op: Operation) {
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const p of op.parameters ?? []) {
    if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example)));
    if (p.in === "query" && p.example !== undefined) query.set(p.name, String(p.example));
    if (p.in === "header" && p.name === "Idempotency-Key") headers["idempotency-key"] = unique("key");
  }
  const body = op.requestBody?.content["application/json"].example;
  return { url: query.size ? `${url}?${query}` : url, headers, body };
}

/** The user an example acts as: named in the path, the body, or a bet id. */
function actingUser(url: string, body: unknown): string {
  const fromBody = (body as { user_id?: string } | undefined)?.user_id;
  if (fromBody) return fromBody;
  const wallet = /\/api\/(?:wallets|campaigns\/[^/]+\/openings)\/([^/?]+)/.exec(url)?.[1];
  if (wallet) return decodeURIComponent(wallet);
  const bet = /\/api\/bets\/([^./]+)\./.exec(url)?.[1];
  if (bet) return atob(bet.replace(/-/g, "+").replace(/_/g, "/"));
  throw new Error(`no user in ${url}`);
}

const VALIDATION_ERRORS = ["INVALID_REQUEST", "INVALID_JSON", "UNSUPPORTED_MEDIA_TYPE", "IDEMPOTENCY_KEY_REQUIRED", "INVALID_IDEMPOTENCY_KEY", "BAD_REQUEST"];
const has = (security: Operation["security"], scheme: string) => security.some((s) => scheme in s);

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    expect(doc.openapi).toBe("3.1.0");
    await expect(validate(structuredClone(doc) as any)).resolves.toMatchObject({ valid: true });
  });

  it("documents every route the Worker serves, and nothing else", () => {
    const served = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`);
    const documented = operations().map((o) => `${o.method} ${o.hono}`);
    expect(new Set(documented)).toEqual(new Set(served));
    expect(documented.length).toBe(new Set(documented).size);
  });

  it("declares the three bearer schemes, and every operation uses only them", () => {
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["bridgeToken", "serviceToken", "userJwt"]);
    for (const { op } of operations()) for (const s of op.security) for (const k of Object.keys(s)) expect(doc.components.securitySchemes).toHaveProperty(k);
  });

  it("each example passes the schema its route validates with", () => {
    for (const route of API_ROUTES) {
      const where = `${route.method} ${route.path}`;
      if (route.body) expect(route.body.safeParse(route.example.body).error, where).toBeUndefined();
      if (route.query) expect(route.query.safeParse(route.example.query ?? {}).error, where).toBeUndefined();
      for (const [name, schema] of Object.entries(route.params ?? {})) {
        expect(schema.safeParse(route.example.params?.[name]).error, `${where} :${name}`).toBeUndefined();
      }
    }
  });

  // In document order: the coupon example is created before it is claimed.
  it("each operation needs exactly its documented credential, answers a documented status, and its example is not refused as invalid", async () => {
    for (const { method, path, op } of operations()) {
      const where = `${method} ${path}`;
      const statuses = Object.keys(op.responses).map(Number);
      const req = exampleRequest(path, op);
      const send = (auth: Record<string, string>, extra: Record<string, string> = {}) =>
        raw(method, req.url, req.body, { ...req.headers, ...auth, ...extra });

      const open = op.security.length === 0 || op.security.some((s) => Object.keys(s).length === 0);
      const none = await send(anonymous, { "idempotency-key": unique("key") });
      if (open) expect(none.status, `${where} anonymous`).not.toBe(401);
      else expect([none.status, statuses.includes(401)], `${where} anonymous`).toEqual([401, true]);

      let main: Record<string, string> = serviceAuth;
      if (open) {
        // Public: the anonymous call above was the example.
      } else if (has(op.security, "bridgeToken")) {
        expect((await send(serviceAuth)).status, `${where} with the service token`).toBe(401);
        main = bridgeAuth;
      } else if (has(op.security, "userJwt")) {
        main = await asUser(actingUser(req.url, req.body));
      } else if (has(op.security, "serviceToken")) {
        const user = await asUser("user_1");
        expect([(await send(user)).status, statuses.includes(403)], `${where} with a user token`).toEqual([403, true]);
      }

      const res = await send(main, req.headers["idempotency-key"] ? { "idempotency-key": unique("key") } : {});
      const text = await res.text();
      expect(statuses, `${where} answered ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
      expect(res.status, `${where}: ${text.slice(0, 200)}`).toBeLessThan(500);
      expect([401, 403], `${where} with its documented credential: ${text.slice(0, 200)}`).not.toContain(res.status);
      if (res.status === 400) expect(VALIDATION_ERRORS, `${where}: ${text}`).not.toContain(JSON.parse(text).error);
      if (res.status < 300 && res.headers.get("content-type")?.includes("json")) expect(() => JSON.parse(text)).not.toThrow();
    }
  });

  it("the documented body schema and the route agree on what is valid: each field dropped, nulled, or an unknown one added", async () => {
    const byKey = new Map(API_ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
    let compared = 0;
    for (const { method, path, hono, op } of operations()) {
      const route = byKey.get(`${method} ${hono}`)!;
      const example = route.example.body;
      if (!route.body || typeof example !== "object" || example === null) continue;
      const req = exampleRequest(path, op);
      const auth = has(op.security, "bridgeToken") ? bridgeAuth : serviceAuth;
      const variants: Record<string, unknown>[] = [{ ...example, zzz_unknown: 1 }];
      for (const key of Object.keys(example)) {
        const { [key]: _, ...dropped } = example as Record<string, unknown>;
        variants.push(dropped, { ...example, [key]: null });
      }
      for (const body of variants) {
        const accepts = route.body.safeParse(body).success;
        const res = await raw(method, req.url, body, { ...req.headers, ...auth, "idempotency-key": unique("key") });
        const reply = (await res.json()) as { error?: string };
        const refused = res.status === 400 && VALIDATION_ERRORS.includes(reply.error ?? "");
        expect(refused, `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(reply)}`).toBe(!accepts);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it("the reference page is HTML that loads this document", async () => {
    const res = await raw("GET", "/api/docs", undefined, anonymous);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("/api/openapi.json");
    expect(html).toContain("https://cdn.jsdelivr.net/npm/@scalar/api-reference");
  });
});
