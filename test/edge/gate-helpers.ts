// Driving wallets' stake windows on an injected clock: no test waits on the wall clock.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Wallet } from "../../src/actors/wallet";
import { bridgeAuth, call } from "./helpers";

/** A time in the future aligned to a 120 s window, so real alarms never fire during a test. */
export const T0 = Date.UTC(2031, 0, 1, 12, 0, 0);
export const W = 120_000;
export const LATENESS = 10_000;

export const walletOf = (user: string) => env.WALLET.getByName(user);

/** Sets a wallet's clock (a new instance after an eviction starts on the wall clock again). */
export async function setClock(user: string, at: number): Promise<void> {
  await runInDurableObject(walletOf(user), (w: Wallet) => {
    w.clock = () => at;
  });
}

/**
 * Moves a wallet's clock to `at` and runs its alarm while rows are due by
 * then: what a real alarm would have done by that time, and nothing more.
 */
export async function advance(user: string, at: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await setClock(user, at);
    const due = (await walletOf(user).scheduledWork()).filter((r) => r.due_at <= at);
    if (!due.length) return;
    await runDurableObjectAlarm(walletOf(user));
  }
  throw new Error(`rows still due for ${user} after 20 alarms`);
}

/**
 * An events.bet_placed message as the bridge hands it over: its eventId is
 * `match-{id}`, and its Kafka position (the message id) is `{id}` unless `position` says otherwise.
 */
export function placed(user: string, id: string, stake: number, ts: number, extra: Record<string, unknown> = {}, position = id) {
  return {
    topic: "events.bet_placed",
    id: position,
    value: { eventId: `match-${id}`, ts, userId: user, market: "1X2", stake, currency: "GBP", odds: 2, ...extra },
  };
}

/** The stake gate's key for the bet placed(user, id, …) sent: one per eventId. */
export const betKey = (id: string) => `events.bet_placed:match-${id}`;

export async function ingest(messages: unknown[]) {
  const res = await call("POST", "/internal/ingest", { messages }, bridgeAuth);
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.results as { ok: boolean; error?: string }[];
}
