import { WebSocket as PartySocket } from "partysocket";
import { useEffect, useRef, useState } from "react";

export type LinkState = "connecting" | "connected" | "reconnecting" | "offline";

export type Feed = {
  state: LinkState;
  /** When the last message arrived (ms since epoch), or null. */
  lastMessageAt: number | null;
  send(message: unknown): void;
};

/**
 * A live feed over partysocket's reconnecting WebSocket. Every feed message
 * carries a sequence number; on reconnect the URL asks to resume after the last
 * one seen (`?after=`), so nothing is missed across a deploy. `onOpen` runs on
 * every (re)connect, e.g. to subscribe again.
 */
export function useFeed(
  path: string | null,
  onMessage: (message: any) => void,
  onOpen?: (send: (m: unknown) => void) => void,
  /** Query parameters to add on each (re)connect, e.g. a fresh ticket; may be async. */
  params?: () => Promise<Record<string, string>>,
): Feed {
  return useFeedImpl(path, onMessage, onOpen, params);
}

function useFeedImpl(
  path: string | null,
  onMessage: (message: any) => void,
  onOpen?: (send: (m: unknown) => void) => void,
  params?: () => Promise<Record<string, string>>,
): Feed {
  const [state, setState] = useState<LinkState>("connecting");
  const [lastMessageAt, setLast] = useState<number | null>(null);
  const socket = useRef<PartySocket | null>(null);
  const handlers = useRef({ onMessage, onOpen, params });
  handlers.current = { onMessage, onOpen, params };

  useEffect(() => {
    if (!path) return;
    let lastSeq: number | null = null;
    let everOpen = false;
    // partysocket calls this before every (re)connect.
    const url = async () => {
      const base = new URL(path, location.href);
      base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
      if (lastSeq !== null) base.searchParams.set("after", String(lastSeq));
      const extra = handlers.current.params ? await handlers.current.params() : {};
      for (const [k, v] of Object.entries(extra)) base.searchParams.set(k, v);
      return base.toString();
    };
    const ws = new PartySocket(url, [], { maxReconnectionDelay: 5000, minReconnectionDelay: 500, connectionTimeout: 4000 });
    socket.current = ws;
    setState("connecting");
    const send = (m: unknown) => ws.send(JSON.stringify(m));
    const onOpenEv = () => {
      everOpen = true;
      setState("connected");
      handlers.current.onOpen?.(send);
    };
    const onClose = () => setState(navigator.onLine ? (everOpen ? "reconnecting" : "connecting") : "offline");
    const onMsg = (e: MessageEvent) => {
      let data: any;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        return; // a non-JSON frame (e.g. "pong") carries nothing to show
      }
      if (typeof data?.seq === "number") lastSeq = lastSeq === null ? data.seq : Math.max(lastSeq, data.seq);
      setLast(Date.now());
      handlers.current.onMessage(data);
    };
    const offline = () => setState("offline");
    ws.addEventListener("open", onOpenEv);
    ws.addEventListener("close", onClose);
    ws.addEventListener("message", onMsg);
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("offline", offline);
      ws.close();
      socket.current = null;
    };
  }, [path]);

  return {
    state,
    lastMessageAt,
    send: (m) => {
      const ws = socket.current;
      if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    },
  };
}

/** Re-renders every `ms`, for "n seconds ago" labels. */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
