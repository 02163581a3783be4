// Who the simulator talks to, and as whom. HTTP goes to the Worker with the
// service token, or as each user with a JWT signed here (--jwt-secret); Kafka
// messages go to the brokers the bridge reads.
import { SignJWT } from "jose";
import { Kafka, logLevel, type Producer } from "kafkajs";

export type TargetOptions = {
  url: string;
  serviceToken: string;
  /** Signs user tokens (HS256) when set; otherwise the service token acts for users. */
  jwtSecret?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  brokers?: string[];
  /** Per request, ms. */
  timeoutMs: number;
  /** How long one logical request may keep retrying before it is an error, ms. */
  retryForMs: number;
  /**
   * At most this many requests open at once; the rest wait in order. A local
   * workerd has a file-descriptor limit (thousands of sockets at once kill it
   * with EMFILE), and the wait still counts in the latency, which is measured
   * from each request's intended time.
   */
  maxConnections: number;
};

export type Reply = { status: number; body: any; headers: Headers };

/** An answer after retries, or null when none came in time. `tries` counts the attempts. */
export type Outcome = { reply: Reply | null; tries: number; error?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Target {
  readonly userAuth: "jwt" | "service";
  private readonly tokens = new Map<string, Promise<string>>();
  private producer: Promise<Producer> | null = null;
  private open = 0;
  private readonly queue: (() => void)[] = [];

  readonly o: TargetOptions;

  constructor(o: TargetOptions) {
    this.o = o;
    this.userAuth = o.jwtSecret ? "jwt" : "service";
  }

  get kafka(): boolean {
    return Boolean(this.o.brokers?.length);
  }

  private token(as: string | "service"): Promise<string> {
    if (as === "service" || !this.o.jwtSecret) return Promise.resolve(this.o.serviceToken);
    let t = this.tokens.get(as);
    if (!t) {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(as).setIssuedAt().setExpirationTime("2h");
      if (this.o.jwtIssuer) jwt.setIssuer(this.o.jwtIssuer);
      if (this.o.jwtAudience) jwt.setAudience(this.o.jwtAudience);
      t = jwt.sign(new TextEncoder().encode(this.o.jwtSecret));
      this.tokens.set(as, t);
    }
    return t;
  }

  /** One attempt. Throws on a network error or timeout. */
  async once(method: string, path: string, opts: { body?: unknown; as?: string; key?: string } = {}): Promise<Reply> {
    if (this.open >= this.o.maxConnections) await new Promise<void>((r) => this.queue.push(r));
    this.open++;
    try {
      return await this.send(method, path, opts);
    } finally {
      this.open--;
      this.queue.shift()?.();
    }
  }

  private async send(method: string, path: string, opts: { body?: unknown; as?: string; key?: string }): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token(opts.as ?? "service")}` };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.key) headers["idempotency-key"] = opts.key;
    const res = await fetch(new URL(path, this.o.url), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the error message.
    }
    return { status: res.status, body, headers: res.headers };
  }

  /**
   * Until a definitive answer: a network error, a timeout, a 429 or a 503 is
   * tried again (after Retry-After when given), with the same Idempotency-Key,
   * so a retry never does the work twice. Any other status is the answer.
   */
  async call(method: string, path: string, opts: { body?: unknown; as?: string; key?: string } = {}): Promise<Outcome> {
    const deadline = Date.now() + this.o.retryForMs;
    let tries = 0;
    let error = "";
    for (;;) {
      tries++;
      try {
        const reply = await this.once(method, path, opts);
        if (reply.status !== 429 && reply.status !== 503) return { reply, tries };
        error = `${reply.status} ${reply.body?.error ?? ""}`;
        const after = Number(reply.headers.get("retry-after"));
        const wait = Number.isFinite(after) && after > 0 ? after * 1000 : 100 * 2 ** Math.min(tries, 6);
        if (Date.now() + wait > deadline) return { reply: null, tries, error };
        await sleep(wait * (1 + Math.random())); // at least Retry-After, spread so retries do not arrive together
      } catch (err) {
        error = (err as Error).message;
        if (Date.now() > deadline) return { reply: null, tries, error };
        await sleep(100 * 2 ** Math.min(tries, 5));
      }
    }
  }

  /** How many partitions a topic has (it is created if missing: the mock cluster auto-creates). */
  async partitions(topic: string): Promise<number> {
    const kafka = new Kafka({ clientId: "rushgate-simulator", brokers: this.o.brokers!, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 1;
    } finally {
      await admin.disconnect();
    }
  }

  /** Produces to a topic (acks from all replicas). */
  async produce(topic: string, messages: { key: string; value: string; partition?: number }[]): Promise<void> {
    if (!this.o.brokers?.length) throw new Error("no Kafka brokers (--brokers)");
    this.producer ??= (async () => {
      const kafka = new Kafka({ clientId: "rushgate-simulator", brokers: this.o.brokers!, logLevel: logLevel.NOTHING });
      const p = kafka.producer({ allowAutoTopicCreation: true });
      await p.connect();
      return p;
    })();
    await (await this.producer).send({ topic, messages, acks: -1 });
  }

  async close(): Promise<void> {
    if (this.producer) await (await this.producer).disconnect().catch(() => {});
  }
}
