// What happened during the run, as the simulator saw it: each answer it got.
// The oracle computes what rushgate should hold from these and the plan.

export type HttpBetRecord = {
  /** true: 201 with a bet id; false: refused (4xx); null: no definitive answer. */
  placed: boolean | null;
  bet_id?: string;
  status?: number;
  /** Wall-clock ms: when it was sent and when the answer came. */
  sent_at: number;
  answered_at?: number;
  /** Set when a retry with the same Idempotency-Key did not replay the first answer. */
  replay_mismatch?: string;
  /** The settlement: true applied, false refused, null unknown. */
  settled?: { result: "WON" | "LOST" | "VOID"; applied: boolean | null };
};

export type KafkaBetRecord = {
  produced: boolean;
  /** Wall-clock ms of the produce, and the bet's event time. */
  sent_at: number;
  ts: number;
  copies: number;
};

export type Records = {
  deposits: Map<string, boolean | null>;
  http: Map<number, HttpBetRecord>;
  kafka: Map<number, KafkaBetRecord>;
  /** Odds: per update number, APPLIED / STALE / null (unknown or sent over Kafka). */
  odds: Map<number, "APPLIED" | "STALE" | null>;
  /** Flash sale: per user, every definitive answer's status. */
  claims: Map<string, string[]>;
  claimUnknown: number;
  /** Rain: per user, every definitive answer. */
  openings: Map<string, { status: string; amount?: number; answered_at: number }[]>;
  openUnknown: number;
  rainCampaign?: string;
  /** The rain window, wall-clock ms. */
  rainWindow?: { start: number; end: number };
  /** Expected bonus per user, from the offers oracle (absent when the target has no offers engine). */
  expectedBonus?: Map<string, number>;
  /** The award ids the wallets hold (GET /api/awards), for the awards feed. */
  awards?: string[];
};

export const newRecords = (): Records => ({
  deposits: new Map(),
  http: new Map(),
  kafka: new Map(),
  odds: new Map(),
  claims: new Map(),
  claimUnknown: 0,
  openings: new Map(),
  openUnknown: 0,
});
