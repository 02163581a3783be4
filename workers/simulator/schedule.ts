// Open-model arrivals: when things are meant to happen, fixed before the run
// starts, whatever the server does. A schedule is segments laid end to end.
import type { Rng } from "./rng.ts";

export type Segment =
  /** `rate` arrivals per second for `seconds` (Poisson). */
  | { kind: "constant"; rate: number; seconds: number }
  /** The rate moves linearly from `from` to `to` over `seconds` (Poisson, by thinning). */
  | { kind: "ramp"; from: number; to: number; seconds: number }
  /** `count` arrivals spread evenly over `seconds` (a spike; 0 seconds = all at once). */
  | { kind: "burst"; count: number; seconds: number }
  /** Exactly `count` arrivals `interval_ms` apart: the old load simulator. */
  | { kind: "fixed"; count: number; interval_ms: number };

export const segmentSeconds = (s: Segment): number => (s.kind === "fixed" ? (s.count * s.interval_ms) / 1000 : s.seconds);

/** Arrival times in ms from the start, ascending. */
export function arrivals(schedule: readonly Segment[], r: Rng): number[] {
  const out: number[] = [];
  let t0 = 0;
  for (const seg of schedule) {
    const len = segmentSeconds(seg) * 1000;
    if (seg.kind === "fixed") {
      for (let i = 0; i < seg.count; i++) out.push(t0 + i * seg.interval_ms);
    } else if (seg.kind === "burst") {
      for (let i = 0; i < seg.count; i++) out.push(t0 + (seg.count > 1 ? (i * len) / seg.count : 0));
    } else {
      const rate = (t: number) => (seg.kind === "constant" ? seg.rate : seg.from + ((seg.to - seg.from) * t) / len);
      const max = seg.kind === "constant" ? seg.rate : Math.max(seg.from, seg.to);
      if (max > 0) {
        for (let t = r.exp(1000 / max); t < len; t += r.exp(1000 / max)) {
          if (r.next() * max < rate(t)) out.push(t0 + t);
        }
      }
    }
    t0 += len;
  }
  return out;
}

export const scheduleSeconds = (schedule: readonly Segment[]) => schedule.reduce((a, s) => a + segmentSeconds(s), 0);
