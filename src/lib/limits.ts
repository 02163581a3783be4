import { createMiddleware } from "hono/factory";
import type { AuthVars } from "./auth";
import { HttpError } from "./errors";

/** The window of the `[[ratelimits]]` binding in wrangler.toml, in seconds: a blocked user may retry after it. */
export const RATE_LIMIT_PERIOD_S = 10;

/**
 * Per-user rate limit on a hot path (claim, open, bet), keyed by action and the
 * token's user. The service is a trusted backend acting for many users, so it
 * is not limited per user; anonymous callers never get this far.
 */
export const userLimit = (action: string) =>
  createMiddleware<AuthVars & { Bindings: Env }>(async (c, next) => {
    const caller = c.var.caller;
    if (caller.kind === "user" && c.env.USER_RATE_LIMIT) {
      const { success } = await c.env.USER_RATE_LIMIT.limit({ key: `${action}:${caller.id}` });
      if (!success) {
        c.header("Retry-After", String(RATE_LIMIT_PERIOD_S));
        throw new HttpError(429, "RATE_LIMITED", `too many ${action} requests; retry after ${RATE_LIMIT_PERIOD_S} s`);
      }
    }
    await next();
  });
