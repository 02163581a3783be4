// Who is calling (docs/security.md). The Worker checks the credential before it
// reads a body or calls an actor; routes then say who may call them with
// `service`, `signedIn` and `actFor`.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyOptions } from "jose";
import { HttpError } from "./errors";
import { isUserId } from "./ids";

export type Caller = { kind: "anonymous" } | { kind: "service" } | { kind: "user"; id: string };
export type AuthVars = { Variables: { caller: Caller } };

const unauthorized = (message: string) => new HttpError(401, "UNAUTHORIZED", message);
const forbidden = (message: string) => new HttpError(403, "FORBIDDEN", message);

// Asymmetric tokens come from an identity provider's JWKS; HS256 from our own secret.
const JWKS_ALGS = ["RS256", "ES256"];
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwks(url: string) {
  let set = jwksByUrl.get(url);
  if (!set) jwksByUrl.set(url, (set = createRemoteJWKSet(new URL(url))));
  return set;
}

/** The user a JWT names, or a 401. `exp` and `sub` are required; `iss`/`aud` when configured. */
export async function verifyUserToken(env: Env, token: string): Promise<string> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized("the bearer token is neither the service token nor a JWT");
  }
  const options: JWTVerifyOptions = { requiredClaims: ["exp", "sub"] };
  if (env.JWT_ISSUER) options.issuer = env.JWT_ISSUER;
  if (env.JWT_AUDIENCE) options.audience = env.JWT_AUDIENCE;
  try {
    const { payload } =
      alg === "HS256" && env.JWT_SECRET
        ? await jwtVerify(token, new TextEncoder().encode(env.JWT_SECRET), { ...options, algorithms: ["HS256"] })
        : alg && JWKS_ALGS.includes(alg) && env.JWT_JWKS_URL
          ? await jwtVerify(token, jwks(env.JWT_JWKS_URL), { ...options, algorithms: JWKS_ALGS })
          : fail(`tokens signed with ${alg ?? "no algorithm"} are not accepted`);
    if (typeof payload.sub !== "string" || !isUserId(payload.sub)) throw unauthorized("the token's sub is not a user id");
    return payload.sub;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // jose's messages name the failed check (expired, signature, claim) and nothing secret.
    throw unauthorized(`invalid token: ${(err as Error).message}`);
  }
}

const fail = (message: string): never => {
  throw unauthorized(message);
};

const utf8 = new TextEncoder();

/**
 * Equal strings, compared in time that does not depend on where they differ:
 * the runtime's crypto.subtle.timingSafeEqual (hono's version hashes both sides
 * to hex first, ~60 µs a request on the claim path). A length mismatch still
 * runs a comparison, of the secret with itself.
 */
export function sameSecret(given: string, secret: string | undefined): boolean {
  if (!secret) return false;
  const a = utf8.encode(given);
  const b = utf8.encode(secret);
  if (a.byteLength !== b.byteLength) return !crypto.subtle.timingSafeEqual(b, b);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The bearer token of a request: null when there is none, a 401 when the header is malformed. */
export function bearer(c: Context): string | null {
  const header = c.req.header("authorization");
  if (header === undefined) return null;
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  if (!m) throw unauthorized("use Authorization: Bearer <token>");
  return m[1]!;
}

/** Sets `c.var.caller` from the Authorization header; a credential that fails is a 401. */
export const authenticate = createMiddleware<AuthVars & { Bindings: Env }>(async (c, next) => {
  const token = bearer(c);
  let caller: Caller = { kind: "anonymous" };
  if (token !== null) {
    caller = sameSecret(token, c.env.ADMIN_TOKEN)
      ? { kind: "service" }
      : { kind: "user", id: await verifyUserToken(c.env, token) };
  }
  c.set("caller", caller);
  await next();
});

/** Only the operator's service token. */
export const service = createMiddleware<AuthVars>(async (c, next) => {
  const caller = c.var.caller;
  if (caller.kind === "anonymous") throw unauthorized("this call needs the service token");
  if (caller.kind !== "service") throw forbidden("this call needs the service token");
  await next();
});

/** Any signed-in caller: a user or the service. */
export const signedIn = createMiddleware<AuthVars>(async (c, next) => {
  if (c.var.caller.kind === "anonymous") throw unauthorized("sign in with a user token or the service token");
  await next();
});

/** Throws 403 unless the caller is the service or the user `userId` itself. */
export function actFor(c: { var: { caller: Caller } }, userId: string): void {
  const caller = c.var.caller;
  if (caller.kind === "anonymous") throw unauthorized("sign in with a user token or the service token");
  if (caller.kind === "user" && caller.id !== userId) throw forbidden("a user may act only for itself");
}

export const isService = (c: { var: { caller: Caller } }) => c.var.caller.kind === "service";
