import type { Context } from "hono";
import { validator } from "hono/validator";
import type { z } from "zod";
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
 */
export const jsonBody = <S extends z.ZodType>(schema: S) =>
  validator("json", (value, c: Context) => {
    const type = c.req.header("content-type")?.split(";")[0]?.trim() ?? "";
    if (!jsonType.test(type)) {
      throw new HttpError(400, "UNSUPPORTED_MEDIA_TYPE", "content-type must be application/json");
    }
    return parse(schema, value);
  });

export const query = <S extends z.ZodType>(schema: S) =>
  validator("query", (value) => parse(schema, value));
