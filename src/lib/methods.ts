import { PatternRouter } from "hono/router/pattern-router";

type Route = { method: string; path: string };

// Built once per isolate from the app's routes: middleware (method ALL) is left out.
let router: PatternRouter<string> | undefined;

/** The methods some route serves at `path` (for 405's `Allow`), empty when the path is unknown. */
export function allowedMethods(routes: readonly Route[], path: string): string[] {
  if (!router) {
    router = new PatternRouter<string>();
    for (const r of routes) if (r.method !== "ALL") router.add(r.method, r.path, r.method);
  }
  const methods = new Set<string>();
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
    if (router.match(method, path)[0].length) methods.add(method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
