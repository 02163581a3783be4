import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The error body every endpoint uses: `{"error": CODE, "message": text}`. */
export type ErrorBody = { error: string; message: string };

/**
 * A failure an actor reports to its caller: a domain outcome code and a text,
 * never an HTTP status (only routes choose those, through a `Statuses` table).
 * Actors return these as values rather than throwing, because custom error
 * fields do not survive Workers RPC.
 */
export type Failure = ErrorBody & { ok: false };
export type Result<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = (error: string, message: string): Failure => ({ ok: false, error, message });

/**
 * A route's table from the outcome codes its actor call can return to HTTP
 * statuses; `ok` is the status of success where the table is used for one.
 */
export type Statuses = Readonly<Record<string, ContentfulStatusCode>>;

/** The status a route's table gives an outcome code. A code missing from the table is a bug in the route. */
export function statusOf(code: string, statuses: Statuses): ContentfulStatusCode {
  const status = statuses[code];
  if (status === undefined) throw new Error(`no HTTP status for outcome ${code}`);
  return status;
}

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

/** Returns the success value of an actor result, or throws its failure as an HttpError with the table's status. */
export function unwrap<T>(result: Result<T>, statuses: Statuses): T {
  if (!result.ok) throw new HttpError(statusOf(result.error, statuses), result.error, result.message);
  return result.value;
}
