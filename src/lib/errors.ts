import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The error body every endpoint uses: `{"error": CODE, "message": text}`. */
export type ErrorBody = { error: string; message: string };

/**
 * A failure an actor reports to its caller. Actors return these as values rather
 * than throwing, because custom error fields do not survive Workers RPC.
 */
export type Failure = ErrorBody & { ok: false; http: ContentfulStatusCode };
export type Result<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = (http: ContentfulStatusCode, error: string, message: string): Failure => ({
  ok: false,
  http,
  error,
  message,
});

/** Thrown inside the Worker; `app.onError` turns it into the JSON error body. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Returns the success value of an actor result, or throws its failure as an HttpError. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new HttpError(result.http, result.error, result.message);
  return result.value;
}
