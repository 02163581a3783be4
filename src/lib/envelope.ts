/** The event envelope every actor emits (see DESIGN.md, "Events"). */
/** Event payloads are plain JSON, which also makes them RPC-serializable. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type Envelope<T = Json> = {
  /** `${aggregate}:${seq}`: deterministic, so a retry never makes a new event. */
  id: string;
  type: string;
  aggregate: string;
  /** Per aggregate, strictly increasing, gapless. */
  seq: number;
  /** ISO-8601 UTC, from the actor's clock. */
  time: string;
  data: T;
};
