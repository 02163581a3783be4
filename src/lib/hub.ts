// The base of every live feed: a partyserver `Server` with hibernation on.
// It numbers feed items, keeps the last few in SQLite for resume, dedupes what
// relays forward by (relay shard, log position), and fans items out to the
// sockets whose topics match. See docs/feeds.md for the wire protocol.
import { Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import type { StoredEvent } from "./actor";
import { migrate, type Migration } from "./migrations";

/** A relay log entry, as the relay forwards it. */
export type FeedEntry = { pos: number; event: StoredEvent };
/** What a hub makes of an event: a message body for the sockets following `topic`. */
export type FeedItem = { topic: string; body: Record<string, unknown> };
/** Per-socket state, kept in the socket's attachment so it survives hibernation. */
export type SocketState = { topics: string[]; viewer?: string };

/** Every socket follows this topic too; items on it go to everyone. */
export const ALL = "*";
export const PING = JSON.stringify({ type: "ping" });
export const PONG = JSON.stringify({ type: "pong" });
/** Close code for a client that fell too far behind (4000–4999 are the application's). */
export const SLOW_CLIENT = 4008;
const MAX_FRAME = 4096;

const hubMigration: Migration = {
  id: "hub-1",
  sql: `
    CREATE TABLE hub_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
    INSERT INTO hub_seq (id, seq) VALUES (1, 0);
    CREATE TABLE hub_items (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, text TEXT NOT NULL);
    CREATE TABLE hub_sources (source TEXT PRIMARY KEY, pos INTEGER NOT NULL);
  `,
};

export class FrameError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A feed hub. Subclasses say what an event becomes (`itemsFor`), what a new
 * socket is sent first (`greet`) and which commands a socket may send (`command`).
 *
 * Every message a socket receives carries `seq`: the hub's sequence number of
 * the last item the message reflects. Feed items get the next seq; replies
 * (snapshots, acks, errors) carry the current one. A client reconnecting with
 * `?after=<seq>` is sent the items it missed while they are in the buffer.
 */
export abstract class Hub extends Server<Env> {
  static options = { hibernate: true };
  static migrations: readonly Migration[] = [];
  /** How many items are kept for resume. */
  protected bufferSize = 1000;
  /** A socket with more than this many bytes sent and not acked is closed, never waited for. */
  protected maxQueuedBytes = 1 << 20;
  protected readonly db: SqlStorage;
  // topic → sockets, rebuilt from the attachments after the object wakes.
  private index: Map<string, Set<Connection<SocketState>>> | null = null;
  // Bytes sent to a socket since its last ack. workerd does not report a server
  // socket's bufferedAmount, so the client's acks are how the hub knows what is
  // still queued. In memory: a hub that hibernates has nothing in flight to count.
  private unacked = new WeakMap<WebSocket, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = ctx.storage.sql;
    const own = (this.constructor as typeof Hub).migrations;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, [hubMigration, ...own]));
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** What an event becomes; runs inside the delivery transaction, may update hub state. */
  protected abstract itemsFor(event: StoredEvent): FeedItem[];
  /** The first messages for a socket that is not resuming (snapshots, latest items). */
  protected abstract greet(conn: Connection<SocketState>): void | Promise<void>;
  /** A socket's opening topics, from the request the Worker forwarded. Throw FrameError to refuse. */
  protected abstract topicsFor(url: URL, request: Request): string[];
  /** Handles one parsed frame other than ping. Throw FrameError for a bad one. */
  protected command(_conn: Connection<SocketState>, frame: { type?: unknown }): void {
    throw new FrameError("UNKNOWN_TYPE", `unknown frame type ${JSON.stringify(frame.type)}`);
  }

  /** The seq of the last item. */
  protected get seq(): number {
    return this.db.exec<{ seq: number }>("SELECT seq FROM hub_seq").one().seq;
  }

  /**
   * RPC from a relay shard: its entries in log order. Entries at or below the
   * shard's last delivered position are repeats (delivery is at least once) and
   * are skipped, so every event becomes items once. Returns how many were new.
   */
  deliver(source: string, entries: FeedEntry[]): number {
    const last = this.db.exec<{ pos: number }>("SELECT pos FROM hub_sources WHERE source = ?", source).toArray()[0]?.pos ?? 0;
    const fresh = entries.filter((e) => e.pos > last);
    if (!fresh.length) return 0;
    const sent = this.ctx.storage.transactionSync(() => {
      const items = fresh.flatMap((e) => this.itemsFor(e.event));
      this.db.exec(
        "INSERT INTO hub_sources (source, pos) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET pos = excluded.pos",
        source,
        fresh.at(-1)!.pos,
      );
      return this.record(items);
    });
    this.fanOut(sent);
    return fresh.length;
  }

  /** Numbers and stores items (call inside a transaction), trimming the buffer. */
  protected record(items: FeedItem[]): { topic: string; text: string }[] {
    if (!items.length) return [];
    let seq = this.seq;
    const out = items.map((item) => {
      seq++;
      const text = JSON.stringify({ seq, ...item.body });
      this.db.exec("INSERT INTO hub_items (seq, topic, text) VALUES (?, ?, ?)", seq, item.topic, text);
      return { topic: item.topic, text };
    });
    this.db.exec("UPDATE hub_seq SET seq = ?", seq);
    this.db.exec("DELETE FROM hub_items WHERE seq <= ?", seq - this.bufferSize);
    return out;
  }

  /** Numbers, stores and sends items made outside a relay delivery (a timer's). */
  protected publish(items: FeedItem[]): void {
    this.fanOut(this.ctx.storage.transactionSync(() => this.record(items)));
  }

  private fanOut(items: { topic: string; text: string }[]): void {
    const index = this.topics();
    for (const item of items) {
      for (const conn of index.get(item.topic) ?? []) this.send(conn, item.text);
      if (item.topic !== ALL) for (const conn of index.get(ALL) ?? []) this.send(conn, item.text);
    }
  }

  /** Sends, unless the socket has too much queued: then it is closed, so it never holds anyone up. */
  protected send(conn: Connection<SocketState>, text: string): void {
    if (conn.readyState !== WebSocket.READY_STATE_OPEN) return this.forget(conn);
    const queued = Math.max(conn.bufferedAmount ?? 0, this.unacked.get(conn) ?? 0) + text.length;
    if (queued > this.maxQueuedBytes) {
      this.forget(conn);
      try {
        conn.close(SLOW_CLIENT, "slow client: too much queued; reconnect with ?after=<seq>");
      } catch {}
      return;
    }
    try {
      conn.send(text);
      this.unacked.set(conn, queued);
    } catch {
      this.forget(conn);
    }
  }

  /** Sends a reply (not a feed item) carrying the current seq. */
  protected reply(conn: Connection<SocketState>, body: Record<string, unknown>): void {
    this.send(conn, JSON.stringify({ seq: this.seq, ...body }));
  }

  protected error(conn: Connection<SocketState>, code: string, message: string): void {
    this.reply(conn, { type: "error", error: code, message });
  }

  private topics(): Map<string, Set<Connection<SocketState>>> {
    if (this.index) return this.index;
    this.index = new Map();
    for (const conn of this.getConnections<SocketState>()) this.indexAdd(conn, conn.state?.topics ?? []);
    return this.index;
  }

  private indexAdd(conn: Connection<SocketState>, topics: readonly string[]): void {
    const index = this.topics();
    for (const t of topics) {
      let set = index.get(t);
      if (!set) index.set(t, (set = new Set()));
      set.add(conn);
    }
  }

  private forget(conn: Connection<SocketState>): void {
    if (!this.index) return;
    for (const [t, set] of this.index) if (set.delete(conn) && !set.size) this.index.delete(t);
  }

  /** Topics a socket follows (from its attachment). */
  protected following(conn: Connection<SocketState>): readonly string[] {
    return conn.state?.topics ?? [];
  }

  /** Sets a socket's topics: in its attachment (survives hibernation) and in the index. */
  protected follow(conn: Connection<SocketState>, topics: string[]): void {
    const before = this.following(conn);
    conn.setState({ ...conn.state, topics });
    const index = this.topics();
    for (const t of before) {
      if (topics.includes(t)) continue;
      const set = index.get(t);
      if (set?.delete(conn) && !set.size) index.delete(t);
    }
    this.indexAdd(conn, topics);
  }

  /** Buffered items after `after` that a socket follows, oldest first. */
  protected buffered(after: number, topics: readonly string[], limit = this.bufferSize): string[] {
    if (topics.includes(ALL)) {
      return this.db
        .exec<{ text: string }>("SELECT text FROM hub_items WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
        .toArray()
        .map((r) => r.text);
    }
    if (!topics.length) return [];
    return this.db
      .exec<{ text: string }>(
        `SELECT text FROM hub_items WHERE seq > ? AND topic IN (${topics.map(() => "?").join(",")}) ORDER BY seq LIMIT ?`,
        after,
        ...topics,
        limit,
      )
      .toArray()
      .map((r) => r.text);
  }

  /** The oldest seq still in the buffer (seq + 1 when empty). */
  private oldest(): number {
    return this.db.exec<{ s: number | null }>("SELECT min(seq) AS s FROM hub_items").one().s ?? this.seq + 1;
  }

  async onConnect(conn: Connection<SocketState>, ctx: ConnectionContext): Promise<void> {
    const url = new URL(ctx.request.url);
    let topics: string[];
    try {
      topics = this.topicsFor(url, ctx.request);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.error(conn, err.code, err.message);
      conn.close(1008, err.message.slice(0, 120));
      return;
    }
    const viewer = ctx.request.headers.get("x-feed-viewer") ?? undefined;
    conn.setState({ topics: [], ...(viewer ? { viewer } : {}) });
    this.follow(conn, topics);
    const afterParam = url.searchParams.get("after");
    const after = afterParam !== null && /^\d{1,15}$/.test(afterParam) ? Number(afterParam) : undefined;
    const seq = this.seq;
    // Resumable when nothing after `after` has left the buffer, and `after` is one we issued.
    if (after !== undefined && after <= seq && after >= this.oldest() - 1) {
      this.reply(conn, { type: "hello", resumed: true });
      for (const text of this.buffered(after, topics)) this.send(conn, text);
      return;
    }
    this.reply(conn, { type: "hello", resumed: false, ...(after !== undefined ? { reset: true } : {}) });
    await this.greet(conn);
  }

  onMessage(conn: Connection<SocketState>, message: WSMessage): void {
    if (typeof message !== "string") return this.error(conn, "BAD_FRAME", "frames are JSON text");
    if (message.length > MAX_FRAME) return this.error(conn, "BAD_FRAME", `frames are at most ${MAX_FRAME} characters`);
    let frame: unknown;
    try {
      frame = JSON.parse(message);
    } catch {
      return this.error(conn, "BAD_FRAME", "not JSON");
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      return this.error(conn, "BAD_FRAME", "a frame is a JSON object with a type");
    }
    const typed = frame as { type?: unknown };
    // The runtime answers the exact ping text; this is for spellings it does not match.
    if (typed.type === "ping") return this.reply(conn, { type: "pong" });
    // `{"type":"ack","seq":N}`: the client has read everything up to N. No reply.
    if (typed.type === "ack") {
      const seq = (typed as { seq?: unknown }).seq;
      if (!Number.isSafeInteger(seq) || (seq as number) < 0) return this.error(conn, "BAD_FRAME", "ack needs seq: a non-negative integer");
      this.unacked.set(conn, 0);
      return;
    }
    try {
      this.command(conn, typed);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.error(conn, err.code, err.message);
    }
  }

  onClose(conn: Connection<SocketState>): void {
    this.forget(conn);
  }

  onError(conn: Connection<SocketState>): void {
    this.forget(conn);
  }

  /** RPC for tests and the benchmark: open sockets and the current seq. */
  status(): { sockets: number; seq: number } {
    return { sockets: this.ctx.getWebSockets().length, seq: this.seq };
  }
}
