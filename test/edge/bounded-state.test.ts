// Bounded state: every "once per key" record has a lifetime and a scheduled
// prune. Each test drives an injected clock and runs the alarm
// (runDurableObjectAlarm): a record inside its lifetime still deduplicates, one
// past it is gone, and forgetting it reopens nothing it guarded.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Coupon } from "../../src/actors/coupon";
import { REQUEST_LIFETIME_MS } from "../../src/actors/coupon";
import { HIGH_WATER_LIFETIME_MS, type Relay } from "../../src/actors/relay";
import { GATE_RETENTION_MS } from "../../src/actors/wallet/gate";
import { IDEMPOTENCY_TTL_MS } from "../../src/lib/idempotency";
import { advance, betKey, ingest, LATENESS, placed, setClock, T0, W, walletOf } from "./gate-helpers";
import { get, post, unique } from "./helpers";

const rows = (stub: DurableObjectStub, table: string) =>
  runInDurableObject(stub, (_: unknown, state) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n);

/** Sets an actor's clock to `at` and runs its alarm while rows are due by then. */
async function advanceActor(stub: DurableObjectStub<Coupon>, at: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await runInDurableObject(stub, (a: { clock: () => number }) => void (a.clock = () => at));
    if (!(await stub.scheduledWork()).some((r) => r.due_at <= at)) return;
    await runDurableObjectAlarm(stub);
  }
  throw new Error("rows still due after 20 alarms");
}

describe("idempotency keys: 24 h, pruned by a scheduled row", () => {
  it("a key replays inside its lifetime, is deleted at its end, and is then free for a new request", async () => {
    const user = unique("idem_prune");
    const path = `/api/wallets/${user}/deposits`;
    const deposit = (k: string) => post(path, { amount_cents: 100 }, { "idempotency-key": k });
    await setClock(user, T0);
    const first = await deposit("k1");
    expect(first.status).toBe(201);
    await setClock(user, T0 + 60 * 60 * 1000);
    expect((await deposit("k2")).status).toBe(201);
    expect((await walletOf(user).scheduledWork()).filter((r) => r.kind === "idempotency.prune").map((r) => r.due_at)).toEqual([
      T0 + IDEMPOTENCY_TTL_MS,
    ]);

    // One millisecond before k1's end the prune has nothing to do, and k1 still replays.
    await advance(user, T0 + IDEMPOTENCY_TTL_MS - 1);
    await runDurableObjectAlarm(walletOf(user)); // runs the prune row early: on this clock it must keep both keys
    expect(await rows(walletOf(user), "idempotency")).toBe(2);
    const replay = await deposit("k1");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);

    // At its end the scheduled row deletes k1 only, and re-arms for k2's end.
    await advance(user, T0 + IDEMPOTENCY_TTL_MS);
    expect(await rows(walletOf(user), "idempotency")).toBe(1);
    expect((await walletOf(user).scheduledWork()).filter((r) => r.kind === "idempotency.prune").map((r) => r.due_at)).toEqual([
      T0 + 60 * 60 * 1000 + IDEMPOTENCY_TTL_MS,
    ]);
    expect((await deposit("k2")).headers.get("idempotent-replayed")).toBe("true");
    const again = await deposit("k1");
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.body.seq).toBe(3);

    // Once every key has expired, nothing is left and no prune row stays behind.
    await advance(user, T0 + 10 * IDEMPOTENCY_TTL_MS);
    expect(await rows(walletOf(user), "idempotency")).toBe(0);
    expect((await walletOf(user).scheduledWork()).filter((r) => r.kind === "idempotency.prune")).toEqual([]);
  });
});

describe("coupon request records: 8 days, pruned by a scheduled row", () => {
  it("an abandoned request stays refused inside the lifetime; after it, records go and a replayed claim still claims nothing", async () => {
    const name = unique("REQPRUNE");
    const coupon = env.COUPON.getByName(name);
    const T = T0;
    await advanceActor(coupon, T);
    expect(await coupon.once("c-create", { op: "create", name, amount: 5 })).toMatchObject({ ok: true });
    expect(await coupon.once("c-claim", { op: "claim", user_id: "u1" })).toMatchObject({ status: "CLAIMED" });
    expect(await coupon.abandon("c-gone")).toEqual({ status: "ABANDONED" });
    expect((await coupon.scheduledWork()).filter((r) => r.kind === "requests.prune").map((r) => r.due_at)).toEqual([T + REQUEST_LIFETIME_MS]);

    await advanceActor(coupon, T + REQUEST_LIFETIME_MS - 1);
    await runDurableObjectAlarm(coupon); // runs the prune row early: on this clock it must keep every record
    expect(await rows(coupon, "requests")).toBe(3);
    // Still deduplicated: the abandoned request never applies, the claim replays its outcome.
    expect(await coupon.once("c-gone", { op: "claim", user_id: "u2" })).toEqual({ status: "ABANDONED" });
    expect(await coupon.once("c-claim", { op: "claim", user_id: "u1" })).toMatchObject({ status: "CLAIMED", remaining_amount: 4 });

    await advanceActor(coupon, T + REQUEST_LIFETIME_MS);
    expect(await rows(coupon, "requests")).toBe(0);
    expect((await coupon.scheduledWork()).filter((r) => r.kind === "requests.prune")).toEqual([]);
    // Past the lifetime a replayed claim is refused by the claim itself: one per user.
    expect(await coupon.once("c-claim", { op: "claim", user_id: "u1" })).toEqual({ status: "ALREADY_CLAIMED" });
    expect(await coupon.get(10)).toMatchObject({ ok: true, value: { remaining_amount: 4 } });
  });
});

describe("award ids: kept 30 days after their window closed, then pruned without reopening an award", () => {
  it("a replay inside the retention is a duplicate; after the prune it is late and pays nothing twice", async () => {
    const user = unique("award_prune");
    const offer = await post("/api/offers", { name: "prune", min_stake_cents: 1, bonus_pct: 0.1 });
    expect(offer.status).toBe(201);
    await setClock(user, T0);
    const bet = placed(user, `${user}-1`, 6000, T0 + 10);
    await ingest([bet]);
    const close = T0 + W + LATENESS;
    await advance(user, close);
    const awards = async () => (await get(`/api/awards?user_id=${user}`)).body.awards;
    const bonus = async () => (await get(`/api/wallets/${user}`)).body.bonus.posted;
    expect(await awards()).toHaveLength(1);
    const paid = await bonus();
    expect(paid).toBe(600);
    expect((await walletOf(user).scheduledWork()).filter((r) => r.kind === "gate.prune").map((r) => r.due_at)).toEqual([close + GATE_RETENTION_MS]);

    // Inside the retention every record is there, and a replayed bet is a duplicate.
    await advance(user, close + GATE_RETENTION_MS - 1);
    await runDurableObjectAlarm(walletOf(user)); // runs the prune row early: on this clock it must keep everything
    await ingest([bet]);
    for (const table of ["windows", "gate_bets", "award_tasks", "awards", "offer_awards"]) expect(await rows(walletOf(user), table)).toBe(1);
    expect((await get(`/api/wallets/${user}/windows`)).body.windows[0].late_bets).toEqual([]);

    // Past it, the window, its bets, its finished task and the credit record are gone; the award history stays.
    await advance(user, close + GATE_RETENTION_MS);
    for (const table of ["windows", "gate_bets", "award_tasks", "awards"]) expect(await rows(walletOf(user), table)).toBe(0);
    expect(await rows(walletOf(user), "offer_awards")).toBe(1);
    expect((await walletOf(user).scheduledWork()).filter((r) => r.kind === "gate.prune")).toEqual([]);

    // The same bet replayed now is late (its window closed long ago): no second award, whatever runs after.
    await ingest([bet]);
    await advance(user, close + GATE_RETENTION_MS + 2 * (W + LATENESS));
    expect(await awards()).toHaveLength(1);
    expect(await bonus()).toBe(paid);
    expect((await get(`/api/wallets/${user}/windows`)).body.windows[0]).toMatchObject({ state: "not_qualified", late_bets: [expect.objectContaining({ bet_key: betKey(`${user}-1`) })] });
  });
});

describe("relay high-water marks: forgotten after 7 quiet days", () => {
  it("a mark inside its lifetime drops a repeated batch; a quiet aggregate's mark is pruned, a busy one's is kept", async () => {
    const relay = env.RELAY.getByName(unique("relay-prune"));
    const at = (t: number) => runInDurableObject(relay, (r: Relay) => void (r.clock = () => t));
    const ev = (aggregate: string, seq: number) => ({ id: `${aggregate}:${seq}`, type: "coupon.created", aggregate, seq, time: new Date(T0).toISOString(), data: {} });
    const quiet = unique("coupon:QUIET");
    const busy = unique("coupon:BUSY");
    const day = 24 * 60 * 60 * 1000;
    await at(T0);
    expect(await relay.append([ev(quiet, 1), ev(quiet, 2)])).toBe(2);
    await at(T0 + 3 * day);
    expect(await relay.append([ev(busy, 1)])).toBe(1);
    const marks = () =>
      runInDurableObject(relay, (_: Relay, state) =>
        state.storage.sql.exec<{ aggregate: string }>("SELECT aggregate FROM high_water ORDER BY aggregate").toArray().map((r) => r.aggregate),
      );

    // Just inside the lifetime the alarm prunes nothing, and a repeated batch is still dropped.
    await at(T0 + HIGH_WATER_LIFETIME_MS - 1);
    expect(await runDurableObjectAlarm(relay)).toBe(true);
    expect(await marks()).toEqual([busy, quiet].sort());
    expect(await relay.append([ev(quiet, 1), ev(quiet, 2)])).toBe(0);

    // The repeat above moved nothing: the quiet mark goes at its end, the busy one stays, and the alarm re-arms for it.
    await at(T0 + HIGH_WATER_LIFETIME_MS);
    expect(await runDurableObjectAlarm(relay)).toBe(true);
    expect(await marks()).toEqual([busy]);
    expect(await relay.append([ev(busy, 1)])).toBe(0);
    expect(await runInDurableObject(relay, (_: Relay, state) => state.storage.getAlarm())).toBe(T0 + 3 * day + HIGH_WATER_LIFETIME_MS);
    // The quiet aggregate's next events (its seqs never restart) are taken as new.
    expect(await relay.append([ev(quiet, 3)])).toBe(1);
  });
});
