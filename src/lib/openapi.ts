// Builds the OpenAPI 3.1 document from a list of routes and the zod schemas the
// routes validate with (zod 4's own JSON Schema output, which is the 2020-12
// dialect OpenAPI 3.1 uses), so the document and the validation are one thing.
import { z } from "zod";

/** Who may call: anyone; a user for itself (or the service for anyone); the operator; the Kafka bridge. */
export type Access = "public" | "user" | "service" | "bridge";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One served route. `path` is Hono's (`/api/coupons/:name`); adding a route is one of these. */
export type ApiRoute = {
  method: Method;
  path: string;
  access: Access;
  tag: string;
  summary: string;
  /** Path parameters, by name, with the schema the handler parses them with. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body may be left out entirely (no content type): `jsonBody(schema, { optional: true })`. */
  bodyOptional?: boolean;
  /** Needs an `Idempotency-Key` header (src/lib/idempotency.ts). */
  idempotent?: boolean;
  /** Per-user rate limit for end-user tokens (src/lib/limits.ts). */
  rateLimited?: boolean;
  /** What this route answers, besides the errors implied by the fields above. */
  responses: Record<number, string>;
  /** A request that passes the route's validation. */
  example: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
  /** Media type of the 2xx answer; JSON unless said. */
  produces?: string;
};

export const SECURITY_SCHEMES = {
  serviceToken: {
    type: "http",
    scheme: "bearer",
    description: "The operator's service token (the ADMIN_TOKEN secret). Acts for any user.",
  },
  userJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An end user's JWT (HS256 with JWT_SECRET, or RS256/ES256 from JWT_JWKS_URL); `sub` is the user id.",
  },
  bridgeToken: {
    type: "http",
    scheme: "bearer",
    description: "The Kafka bridge's token (the BRIDGE_TOKEN secret), for /internal/* only.",
  },
} as const;

/** The security requirement of each kind of access. `{}` marks the credential optional. */
export function securityOf(route: Pick<ApiRoute, "access" | "path">): Record<string, string[]>[] {
  switch (route.access) {
    case "public":
      // Every /api request's credential is checked if one is sent (a bad one is 401);
      // the service sees more on some public reads.
      return route.path.startsWith("/api/") ? [{}, { serviceToken: [] }, { userJwt: [] }] : [];
    case "user":
      return [{ userJwt: [] }, { serviceToken: [] }];
    case "service":
      return [{ serviceToken: [] }];
    case "bridge":
      return [{ bridgeToken: [] }];
  }
}

/** Every status a route can answer: its own, plus what its access, inputs and headers imply. */
export function statusesOf(route: ApiRoute): Record<number, string> {
  const out: Record<number, string> = {};
  const validated = route.body || route.query || route.params || route.idempotent;
  if (validated) out[400] = "Invalid input: `INVALID_REQUEST` names the field; `UNSUPPORTED_MEDIA_TYPE`, `INVALID_JSON`";
  if (route.access !== "public" || route.path.startsWith("/api/")) out[401] = "No credential, or one that fails";
  if (route.access === "user") out[403] = "`FORBIDDEN`: a user token acting for another user";
  if (route.access === "service") out[403] = "`FORBIDDEN`: a user token on an operator route";
  if (route.body) out[413] = "`PAYLOAD_TOO_LARGE`: body over 16 KiB (4 MiB on /internal)";
  if (route.idempotent) out[422] = "`IDEMPOTENCY_KEY_REUSED`: the key was used for a different request";
  if (route.rateLimited) out[429] = "`RATE_LIMITED`: too many for this user (end-user tokens only)";
  if (route.access === "bridge") out[503] = "`BRIDGE_DISABLED`: BRIDGE_TOKEN is not set";
  return { ...out, ...route.responses };
}

/** `/api/coupons/:name` → `/api/coupons/{name}` */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/** The JSON Schema of what a client sends (zod's input side: before defaults and transforms). */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

/** Query schemas are objects; each property is one parameter. */
function queryParameters(schema: z.ZodType, example: Record<string, string> = {}) {
  const s = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: "query",
    required: s.required?.includes(name) ?? false,
    schema: prop,
    ...(example[name] !== undefined ? { example: example[name] } : {}),
  }));
}

const errorBody = {
  type: "object",
  required: ["error", "message"],
  properties: { error: { type: "string", description: "a stable code, e.g. INVALID_REQUEST" }, message: { type: "string" } },
};

function operation(route: ApiRoute) {
  const parameters: object[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    parameters.push({ name, in: "path", required: true, schema: jsonSchema(schema), example: route.example.params?.[name] });
  }
  if (route.query) parameters.push(...queryParameters(route.query, route.example.query));
  if (route.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: true,
      description: "1–128 characters; a retry with the same key and request replays the first answer",
      schema: { type: "string", minLength: 1, maxLength: 128 },
      example: "7f0c2a9e-demo-key",
    });
  }
  const responses: Record<string, object> = {};
  for (const [status, description] of Object.entries(statusesOf(route))) {
    const ok = Number(status) < 300;
    const type = ok ? (route.produces ?? "application/json") : "application/json";
    responses[status] = {
      description,
      content: { [type]: { schema: ok ? (type === "application/json" ? { type: "object" } : { type: "string" }) : { $ref: "#/components/schemas/Error" } } },
    };
  }
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string = "") => c.toUpperCase())}`,
    tags: [route.tag],
    summary: route.summary,
    "x-access": route.access,
    security: securityOf(route),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { "application/json": { schema: jsonSchema(route.body), example: route.example.body } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(routes: readonly ApiRoute[], info: { title: string; version: string; description: string }) {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const ops = (paths[openApiPath(route.path)] ??= {});
    ops[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info,
    servers: [{ url: "/", description: "this deployment" }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: { Error: errorBody } },
  };
}
