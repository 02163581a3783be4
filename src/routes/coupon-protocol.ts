// The original flash-sale system's Kafka request/reply protocol, served by the
// Coupon actors. The bridge consumes coupon.{create,claim,get}.req and produces
// what this returns to the request's reply_to topic.
import { z } from "zod";
import type { RequestOutcome } from "../actors/coupon";
import { couponClaim, couponCreate, couponGet } from "../lib/coupon-schemas";
import { COUPON_REQUEST_TOPICS, type CouponRequestTopic } from "../lib/events";

export const couponRequestTopics = COUPON_REQUEST_TOPICS;
export type { CouponRequestTopic };

const envelope = z.object({
  schema_version: z.literal(1),
  correlation_id: z.string().min(1).max(128),
  reply_to: z.string().min(1).max(249),
});
const bodies = {
  "coupon.create.req": couponCreate,
  "coupon.claim.req": couponClaim,
  "coupon.get.req": couponGet,
} satisfies Record<CouponRequestTopic, z.ZodType>;

export type Reply = {
  schema_version: 1;
  correlation_id: string;
  status: "SUCCESS" | "ERROR";
  error_code?: "DUPLICATE_COUPON" | "NOT_FOUND" | "ALREADY_CLAIMED" | "SOLD_OUT" | "INVALID_REQUEST" | "INTERNAL_ERROR";
  error_message?: string;
  coupon?: { name: string; amount: number; remaining_amount: number; claimed_by: string[] };
};

export type ParsedRequest =
  | { ok: true; topic: CouponRequestTopic; correlation_id: string; reply_to: string; body: any }
  | { ok: false; correlation_id?: string; reply_to?: string; message: string };

export function parseRequest(topic: CouponRequestTopic, value: unknown): ParsedRequest {
  const head = envelope.safeParse(value);
  if (!head.success) return { ok: false, message: describe(head.error) };
  const body = bodies[topic].safeParse(value);
  if (!body.success) return { ok: false, ...head.data, message: describe(body.error) };
  return { ok: true, topic, ...head.data, body: body.data };
}

const describe = (e: z.ZodError) => e.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ");

const errorMessages: Record<string, string> = {
  NOT_FOUND: "coupon not found",
  ALREADY_CLAIMED: "user already claimed this coupon",
  SOLD_OUT: "coupon is sold out",
};

export const errorReply = (correlation_id: string, error_code: Reply["error_code"], error_message: string): Reply => ({
  schema_version: 1,
  correlation_id,
  status: "ERROR",
  error_code,
  error_message,
});

/** Turns an actor outcome into the protocol's reply. */
export function replyFor(correlation_id: string, outcome: RequestOutcome): Reply {
  if ("ok" in outcome) {
    if (!outcome.ok) return errorReply(correlation_id, outcome.error as Reply["error_code"], outcome.message);
    return { schema_version: 1, correlation_id, status: "SUCCESS", coupon: { ...outcome.value, claimed_by: [] } };
  }
  switch (outcome.status) {
    case "CLAIMED":
      return { schema_version: 1, correlation_id, status: "SUCCESS" };
    case "ABANDONED":
      return errorReply(correlation_id, "INTERNAL_ERROR", "request could not be processed and will not be applied");
    default:
      return errorReply(correlation_id, outcome.status, errorMessages[outcome.status]!);
  }
}
