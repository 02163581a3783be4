/**
 * What `npm run dev` shows of its children's output. The bridge long-polls every
 * relay shard and samples their backlog every few seconds; wrangler logs each of
 * those requests, so an idle stack printed about a hundred lines a minute. Those
 * lines are counted here instead of printed (an /internal request that failed is
 * still shown), and delivery is summed up once per interval from the metrics.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g;
const INTERNAL_REQUEST = /^\[wrangler:\w+\] [A-Z]+ \/internal\/\S* (\d{3})\b/;
// Offline, wrangler cannot fetch the Request.cf placeholder and prints a stack each time.
const CF_FETCH_WARNING = /Unable to fetch the `Request\.cf` object/;
const OFFLINE_STACK = /^Error: getaddrinfo \w+ workers\.cloudflare\.com/;
const STACK_FRAME = /^\s+at /;

export type LineVerdict = "show" | "hide" | "error";

/** Decides, line by line, what of wrangler's output to print. */
export function wranglerFilter(): (line: string) => LineVerdict {
  let inOfflineStack = false;
  let warnedOffline = false;
  return (raw) => {
    const line = raw.replace(ANSI, "");
    if (inOfflineStack && STACK_FRAME.test(line)) return "hide";
    inOfflineStack = false;
    if (OFFLINE_STACK.test(line)) {
      inOfflineStack = true;
      return "hide";
    }
    if (CF_FETCH_WARNING.test(line)) {
      if (warnedOffline) return "hide";
      warnedOffline = true;
      return "show";
    }
    const internal = INTERNAL_REQUEST.exec(line);
    if (internal) return Number(internal[1]) >= 400 ? "error" : "hide";
    return /^\[wrangler:(warn|error)\]|^✘/.test(line) ? "error" : "show";
  };
}

/** A JSON log line of the bridge or the archiver: errors and warnings count as errors. */
export function jsonLogVerdict(line: string): LineVerdict {
  try {
    const { level } = JSON.parse(line) as { level?: string };
    return level === "warn" || level === "error" ? "error" : "show";
  } catch {
    return "show";
  }
}

/** Prometheus text → sample name with labels → value (counters and gauges only). */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

/** What grew between two scrapes, summed by a short label. */
export function delivered(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const grown = new Map<string, number>();
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (!(delta > 0)) continue;
    const produced = /^rushgate_bridge_produced_total\{topic="([^"]+)"\}$/.exec(key);
    const label = produced
      ? `to ${produced[1]}`
      : key === "rushgate_bridge_archived_total" || key === "rushgate_archiver_inserted_total"
        ? "into the archive"
        : /^rushgate_bridge_consumed_total\{topic="([^"]+)"\}$/.exec(key)?.[1]?.replace(/^/, "from ");
    if (label) grown.set(label, (grown.get(label) ?? 0) + delta);
  }
  return grown;
}

/** One summary line, or undefined when nothing happened (an idle stack prints nothing). */
export function summary(seconds: number, grown: Map<string, number>, errors: number): string | undefined {
  if (grown.size === 0 && errors === 0) return undefined;
  const parts = [...grown].map(([label, n]) => `${n} ${label}`);
  return `dev: last ${seconds} s: events ${parts.length ? parts.join(", ") : "none"}; ${errors} error${errors === 1 ? "" : "s"}`;
}
