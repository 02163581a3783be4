import { useState } from "react";
import { call, newKey, type Reply } from "../lib/api";

export type Sent<T> = { key: string; body: unknown; reply: Reply<T> | null; error: unknown };

/**
 * One idempotent request at a time. The key is made before the first attempt and
 * reused by every retry of that request, so a retry after a lost answer replays
 * the first response instead of moving money twice. A new request gets a new key.
 */
export function useIdempotent<T>(path: () => string) {
  const [key, setKey] = useState<string>(newKey);
  const [last, setLast] = useState<Sent<T> | null>(null);
  const [pending, setPending] = useState(false);

  async function send(body: unknown, withKey = key): Promise<Reply<T> | null> {
    setPending(true);
    try {
      const reply = await call<T>(path(), { body, headers: { "idempotency-key": withKey } });
      setLast({ key: withKey, body, reply, error: null });
      setKey(newKey()); // this request is done; the next one is a new request
      return reply;
    } catch (error) {
      setLast({ key: withKey, body, reply: null, error });
      return null; // the key stays: submitting again is a retry of the same request
    } finally {
      setPending(false);
    }
  }
  /** Sends the last request again, with its own key and body. */
  const retry = () => (last ? send(last.body, last.key) : Promise.resolve(null));
  return { key, last, pending, send, retry };
}

export function KeyLine<T>({ idem }: { idem: ReturnType<typeof useIdempotent<T>> }) {
  const { key, last, pending, retry } = idem;
  return (
    <div className="idem">
      <div>
        <span className="muted">Idempotency-Key for the next request: </span>
        <code data-testid="next-key">{key}</code>
      </div>
      {last && (
        <div>
          <span className="muted">Last sent with </span>
          <code data-testid="last-key">{last.key}</code>
          {last.reply ? (
            <span className={last.reply.replayed ? "warn" : "ok"} data-testid="last-outcome">
              {" "}
              → {last.reply.status}
              {last.reply.replayed ? ", replayed (the first response; nothing moved twice)" : ""}
            </span>
          ) : (
            <span className="bad"> → failed</span>
          )}{" "}
          <button type="button" className="secondary small" disabled={pending} onClick={() => void retry()}>
            Retry with the same key
          </button>
        </div>
      )}
    </div>
  );
}
