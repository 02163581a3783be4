// Browsers cannot send headers on a WebSocket, so a per-user feed takes a
// short-lived ticket in its URL, issued by an authenticated API call. A ticket
// is an HS256 JWT under a key derived from ADMIN_TOKEN, scoped to one feed.
import { jwtVerify, SignJWT } from "jose";
import type { Caller } from "./auth";

export const TICKET_SECONDS = 60;

async function key(env: Env): Promise<Uint8Array> {
  const secret = new TextEncoder().encode(`rushgate feed ticket\n${env.ADMIN_TOKEN ?? ""}`);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", secret));
}

/** A ticket for `feed` naming the caller: `service` or `user:<id>`. */
export async function issueTicket(env: Env, caller: Caller, feed: string, nowMs = Date.now()): Promise<{ ticket: string; expires_at: string }> {
  if (caller.kind === "anonymous") throw new Error("tickets are for signed-in callers");
  const viewer = caller.kind === "service" ? "service" : `user:${caller.id}`;
  const exp = Math.floor(nowMs / 1000) + TICKET_SECONDS;
  const ticket = await new SignJWT({ feed })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(viewer)
    .setExpirationTime(exp)
    .sign(await key(env));
  return { ticket, expires_at: new Date(exp * 1000).toISOString() };
}

/** The viewer a ticket names, or null if it is not a valid, unexpired ticket for `feed`. */
export async function checkTicket(env: Env, ticket: string, feed: string): Promise<string | null> {
  if (!env.ADMIN_TOKEN) return null;
  try {
    const { payload } = await jwtVerify(ticket, await key(env), { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] });
    return payload.feed === feed && typeof payload.sub === "string" ? payload.sub : null;
  } catch {
    return null;
  }
}
