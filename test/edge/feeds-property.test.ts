// Property: over random subscribe / unsubscribe / update sequences on many
// sockets, each socket receives exactly the updates of the events it followed
// when they were committed, each once, in version order.
import { env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connect, eventId } from "./feed-helpers";

const SOCKETS = 4;
const EVENTS = 3;

type Op =
  | { kind: "sub" | "unsub"; socket: number; event: number }
  | { kind: "update"; event: number; stale: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("sub" as const, "unsub" as const), socket: fc.nat(SOCKETS - 1), event: fc.nat(EVENTS - 1) }),
  fc.record({ kind: fc.constant("update" as const), event: fc.nat(EVENTS - 1), stale: fc.boolean() }),
);

let run = 0;

describe("property: /ws/odds delivers exactly the subscribed updates, in version order", () => {
  it("holds over random sequences", async () => {
    const hub = env.ODDS_FEED.getByName("odds");
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const ids = Array.from({ length: EVENTS }, () => eventId("P"));
        const source = `property-${run++}`;
        const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => connect("/ws/odds")));
        await Promise.all(sockets.map((s) => s.nth("hello")));
        const subs = sockets.map(() => new Set<number>());
        const expected: string[][] = sockets.map(() => []);
        const version = ids.map(() => 0);
        let pos = 0;
        for (const o of ops) {
          if (o.kind === "update") {
            // A stale update repeats the current version: never applied, never sent.
            const stale = o.stale && version[o.event]! > 0;
            const v = stale ? version[o.event]! : ++version[o.event]!;
            const data = { event_id: ids[o.event]!, market: "m", version: v };
            pos++;
            const event = { id: `odds:${ids[o.event]}:${pos}`, type: "odds.updated", aggregate: `odds:${ids[o.event]}`, seq: pos, time: "", data };
            await hub.deliver(source, [{ pos, event }]);
            if (!stale) subs.forEach((set, s) => set.has(o.event) && expected[s]!.push(`${ids[o.event]}@${v}`));
          } else {
            const reply = await sockets[o.socket]!.ask({ type: o.kind === "sub" ? "subscribe" : "unsubscribe", eventId: ids[o.event] });
            expect(reply.type).toBe(o.kind === "sub" ? "snapshot" : "unsubscribed");
            if (o.kind === "sub") subs[o.socket]!.add(o.event);
            else subs[o.socket]!.delete(o.event);
          }
        }
        for (const [s, socket] of sockets.entries()) {
          await socket.ask({ type: "ping", end: true }); // every earlier message has arrived
          const got = socket.of("update").map((m) => `${m.eventId}@${m.payload.version}`);
          expect(got, `socket ${s}`).toEqual(expected[s]);
          const seqs = socket.of("update").map((m) => m.seq);
          expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
          socket.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});
