import type { Context } from "hono";
import { validator } from "hono/validator";
import { z } from "zod";
import { isUserId } from "./ids";
import { HttpError } from "./errors";

/** Throws a 400 naming the first offending field. */
function invalid(error: z.ZodError): never {
  const issue = error.issues[0];
  const field = issue?.path.join(".") || "body";
  throw new HttpError(400, "INVALID_REQUEST", `${field}: ${issue?.message ?? "invalid"}`);
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) invalid(result.error);
  return result.data;
}

const jsonType = /^application\/([\w.-]+\+)?json$/i;

/**
 * Validates a JSON body with zod. A non-JSON content type or malformed JSON is a
 * 400 too; hono's validator raises the latter as an HTTPException(400).
 * With `optional`, a request with no body and no content type validates `{}`.
 */
export const jsonBody = <S extends z.ZodType>(schema: S, options: { optional?: boolean } = {}) =>
  validator("json", async (value, c: Context) => {
    const type = c.req.header("content-type")?.split(";")[0]?.trim() ?? "";
    if (!jsonType.test(type)) {
      if (options.optional && !type && !(await c.req.text())) return parse(schema, {});
      throw new HttpError(400, "UNSUPPORTED_MEDIA_TYPE", "content-type must be application/json");
    }
    return parse(schema, value);
  });

export const query = <S extends z.ZodType>(schema: S) => validator("query", (value) => parse(schema, value));

/**
 * A user id: 1–128 UTF-16 code units of well-formed Unicode without control
 * characters. zod's own `max` counts code points, so the one predicate decides.
 */
export const userId = z
  .string()
  .refine(isUserId, "a user id: 1 to at most 128 characters (UTF-16 code units) of well-formed Unicode, no control characters");

/** A short label such as an event or market name: well-formed, 1–128 UTF-16 code units. */
export const label = z
  .string()
  .refine((s) => s.length >= 1 && s.length <= 128 && s.isWellFormed(), "1–128 characters of well-formed Unicode");

/** `?limit=&cursor=` for a paged read: limit 1–1,000; cursor a sequence number from a previous page. */
export const pageQuery = (defaultLimit: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(1000).default(defaultLimit),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, "not a cursor from this API")
      .transform(Number)
      .optional(),
  });
