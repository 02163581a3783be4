// The wallet oracle: every user's balances from the deposits made, the bets
// placed and how they settled, and the bonus awarded. Pure; the engine's
// documented rules (docs/api/bets.md): a bet holds its stake; WON captures it
// and credits floor(stake × odds); LOST captures it; VOID releases it.

export type WalletFacts = {
  deposit: number;
  bets: { stake_cents: number; odds: string; result: "WON" | "LOST" | "VOID" | null }[];
  bonus: number;
};
export type Balances = { posted: number; held: number; bonus: number };

/** stake × decimal odds (≤ 4 decimals), rounded down to the minor unit, exactly. */
export function winnings(stake: number, odds: string): number {
  const [whole, frac = ""] = odds.split(".");
  const ticks = BigInt(whole!) * 10_000n + BigInt(frac.padEnd(4, "0").slice(0, 4));
  return Number((BigInt(stake) * ticks) / 10_000n);
}

export function expectedBalances(f: WalletFacts): Balances {
  let posted = f.deposit;
  let held = 0;
  for (const b of f.bets) {
    if (b.result === null) held += b.stake_cents;
    else if (b.result === "LOST") posted -= b.stake_cents;
    else if (b.result === "WON") posted += winnings(b.stake_cents, b.odds) - b.stake_cents;
  }
  return { posted, held, bonus: f.bonus };
}

/** What differs, as lines; empty when the wallet is right. */
export function compareWallet(user: string, expected: Balances, actual: Balances): string[] {
  const out: string[] = [];
  for (const k of ["posted", "held", "bonus"] as const) {
    if (expected[k] !== actual[k]) out.push(`${user}: ${k} ${actual[k]} (expected ${expected[k]})`);
  }
  return out;
}
