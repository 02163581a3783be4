// The coupon request bodies, shared by the HTTP API (routes/coupons.ts) and the
// original Kafka request/reply protocol (routes/coupon-protocol.ts).
import { z } from "zod";
import { userId } from "./validation";

export const couponName = z
  .string()
  .min(1, "required")
  .max(64, "at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, _ and -");

/** How many coupons one may create: a count, not money. */
export const couponAmount = z.number().int().positive().max(10_000_000);

export const couponCreate = z.object({ name: couponName, amount: couponAmount });
export const couponClaim = z.object({ coupon_name: couponName, user_id: userId });
export const couponGet = z.object({ name: couponName });
