import { useQuery } from "@tanstack/react-query";
import { currentToken } from "./auth";

/** An error body from the API: `{"error": CODE, "message": text}`, with the field it names, if any. */
export class ApiError extends Error {
  readonly field: string | null;
  readonly fieldMessage: string;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
    // Validation errors read "field.path: what is wrong" (src/lib/validation.ts).
    const m = /^([A-Za-z_][\w.]*): (.+)$/s.exec(message);
    this.field = m ? m[1]! : null;
    this.fieldMessage = m ? m[2]! : message;
  }
}

export type Reply<T> = { status: number; body: T; replayed: boolean };

type Options = { method?: string; body?: unknown; headers?: Record<string, string>; token?: string | null };

/** One API call with the session's credential. Non-2xx answers throw an ApiError unless `accept` lists them. */
export async function call<T>(path: string, options: Options = {}, accept: number[] = []): Promise<Reply<T>> {
  const token = options.token === undefined ? currentToken() : options.token;
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "the server could not be reached");
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, "BAD_RESPONSE", `the server answered ${res.status} without JSON`);
  }
  const replayed = res.headers.get("idempotent-replayed") === "true";
  if (res.ok || accept.includes(res.status)) return { status: res.status, body: body as T, replayed };
  const err = body as { error?: string; message?: string } | null;
  throw new ApiError(res.status, err?.error ?? `HTTP_${res.status}`, err?.message ?? res.statusText, body);
}

export const get = async <T,>(path: string) => (await call<T>(path)).body;

/** The deployment's public settings (currency), read once from the server. */
export function useConfig() {
  return useQuery({
    queryKey: ["config"],
    queryFn: () => get<{ currency: string }>("/api/config"),
    staleTime: Infinity,
  });
}

/** A fresh idempotency key for one logical request; retries reuse it. */
export const newKey = () => crypto.randomUUID();
