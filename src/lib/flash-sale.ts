// The flash-sale path in the Worker (docs/flash-sale.md). Once a coupon's object
// has answered SOLD_OUT, this isolate answers later claims itself from the
// coupon's claimant set, fetched once; before that, claims in flight to one
// coupon from this isolate are bounded, and the rest get a fast 503.
import { type ClaimantSet, claimantSet, type Claimants } from "./claimants";
import { HttpError } from "./errors";

type Outcome = { status: "CLAIMED"; remaining_amount: number } | { status: "ALREADY_CLAIMED" | "SOLD_OUT" | "NOT_FOUND" };

/** At most this many sold-out coupons are remembered per isolate; past it the memory starts over. */
const MAX_COUPONS = 1_000;
const soldOut = new Map<string, ClaimantSet>();
const learning = new Map<string, Promise<void>>();
const inFlight = new Map<string, number>();

/** Forgets everything, as a new isolate would start. */
export function forgetSoldOut(): void {
  soldOut.clear();
  learning.clear();
  inFlight.clear();
}

/** This isolate's answer without the object, or null when only the object can answer. */
export function edgeAnswer(coupon: string, user: string): { status: "SOLD_OUT" | "ALREADY_CLAIMED" } | null {
  const claimants = soldOut.get(coupon);
  if (!claimants) return null;
  if (!claimants.has(user)) return { status: "SOLD_OUT" };
  return claimants.exact ? { status: "ALREADY_CLAIMED" } : null; // a filter's "maybe": ask the object
}

/**
 * Calls the coupon's object under the isolate's bound on claims in flight to it.
 * Past the bound, or when the object reports overload, answers 503 at once: a
 * queue that is already long only makes every caller wait, and an overloaded
 * object must not be retried.
 */
export async function admitted<T>(coupon: string, bound: number, call: () => Promise<T>): Promise<T> {
  const busy = inFlight.get(coupon) ?? 0;
  if (busy >= bound) throw overloaded("too many claims in flight for this coupon");
  inFlight.set(coupon, busy + 1);
  try {
    return await call();
  } catch (err) {
    if ((err as { overloaded?: unknown })?.overloaded === true) throw overloaded("the coupon is overloaded");
    throw err;
  } finally {
    const left = (inFlight.get(coupon) ?? 1) - 1;
    if (left > 0) inFlight.set(coupon, left);
    else inFlight.delete(coupon);
  }
}

/** True when the object's answer says the coupon has no stock left. */
export const saysSoldOut = (o: Outcome) => o.status === "SOLD_OUT" || (o.status === "CLAIMED" && o.remaining_amount === 0);

/** Fetches the claimant set once per isolate, after the object said the coupon is sold out. */
export function learnSoldOut(coupon: string, fetch: () => Promise<Claimants | null>): Promise<void> {
  if (soldOut.has(coupon)) return Promise.resolve();
  let pending = learning.get(coupon);
  if (!pending) {
    pending = fetch()
      .then((claimants) => {
        if (!claimants) return; // not sold out after all (cannot happen, but never guess)
        if (soldOut.size >= MAX_COUPONS) soldOut.clear();
        soldOut.set(coupon, claimantSet(claimants));
      })
      .catch(() => {}) // the next SOLD_OUT from the object tries again
      .finally(() => learning.delete(coupon));
    learning.set(coupon, pending);
  }
  return pending;
}

function overloaded(message: string): HttpError {
  return new HttpError(503, "OVERLOADED", `${message}; retry shortly`);
}
