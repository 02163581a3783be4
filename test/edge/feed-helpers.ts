import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { relayFor } from "../../src/lib/relays";
import { post, unique } from "./helpers";

export type Msg = { seq: number; type?: string; [k: string]: any };

/** A test WebSocket client: collects every message, and waits for conditions on them. */
export class Client {
  readonly msgs: Msg[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => this.msgs.push(JSON.parse(e.data as string)));
    ws.addEventListener("close", (e) => (this.closed = { code: e.code, reason: e.reason }));
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until `pred` holds on the messages (an event, not a duration, decides; the limit only stops a hung test). */
  async until(pred: (msgs: Msg[]) => boolean, what = "condition"): Promise<Msg[]> {
    for (let i = 0; i < 1000; i++) {
      if (pred(this.msgs)) return this.msgs;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.msgs).slice(0, 2000)}`);
  }

  /** Waits for the n-th message of a type (1-based) and returns it. */
  async nth(type: string, n = 1): Promise<Msg> {
    const msgs = await this.until((m) => m.filter((x) => x.type === type).length >= n, `${n} × ${type}`);
    return msgs.filter((x) => x.type === type)[n - 1]!;
  }

  of(type: string): Msg[] {
    return this.msgs.filter((m) => m.type === type);
  }

  /** Sends a frame and waits for the reply it causes (the next message after those already received). */
  async ask(frame: unknown): Promise<Msg> {
    const n = this.msgs.length;
    this.send(frame);
    return (await this.until((m) => m.length > n, `a reply to ${JSON.stringify(frame)}`))[n]!;
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {}
  }
}

/** Opens a feed socket through the Worker. */
export async function connect(path: string, headers: Record<string, string> = {}): Promise<Client> {
  const res = await SELF.fetch(`https://rushgate.test${path}`, { headers: { upgrade: "websocket", ...headers } });
  if (!res.webSocket) throw new Error(`no upgrade for ${path}: ${res.status} ${await res.text()}`);
  res.webSocket.accept();
  return new Client(res.webSocket);
}

/** A valid odds message. */
export const oddsMsg = (event_id: string, version: number, home = "2.10", market = "1X2") => ({
  event_id,
  home_team: "Home FC",
  away_team: "Away United",
  market,
  odds: { home, draw: "3.40", away: "3.05" },
  updated_at: "2026-01-01T12:00:00Z",
  source: "sportsbook",
  version,
});

/** Pushes an actor's outbox to its relay now, then waits until the relay has forwarded it to the feeds. */
export async function settle(stub: DurableObjectStub, aggregate: string): Promise<void> {
  await runDurableObjectAlarm(stub);
  await relayFor(env, aggregate).forward();
}

/** Posts an odds update and waits until the feeds have it. */
export async function publishOdds(event_id: string, version: number, home = "2.10", market = "1X2") {
  const res = await post("/api/odds", oddsMsg(event_id, version, home, market));
  await settle(env.ODDS.getByName(event_id), `odds:${event_id}`);
  return res;
}

export const eventId = (p = "M") => unique(p).replace(/[^A-Za-z0-9_.:-]/g, "_");
