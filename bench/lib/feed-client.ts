// One client process of bench/feeds.ts (forked, IPC). The sockets are spread
// over several of these so no single process runs out of file descriptors, and
// so the clients' JSON parsing spreads over cores like real clients would.
//
// Messages from the parent:
//   {cmd:"open", url, n}  opens n more sockets (odds feed, one event), waits for each snapshot
//   {cmd:"close"}         closes them
// To the parent:
//   {type:"opened", n}
//   {type:"got", version, first, last}  when every socket here has `version`
//     (first/last: wall-clock ms, performance.timeOrigin + now, comparable across processes)
//   {type:"closed"}

type Got = { n: number; first: number };
const sockets: WebSocket[] = [];
const got = new Map<number, Got>();
const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send!(m);

async function open(url: string, n: number): Promise<void> {
  // In batches: thousands of handshakes at once only queue up in the kernel's accept backlog.
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from(
        { length: Math.min(250, n - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url);
            ws.addEventListener("message", (e) => {
              const m = JSON.parse(String(e.data)) as { type: string; seq: number; payload?: { version: number } };
              if (m.type === "snapshot") resolve();
              if (m.type !== "update") return;
              // Ack now and then, as a client must, so the hub's slow-client bound never trips.
              if (m.seq % 50 === 0) ws.send(JSON.stringify({ type: "ack", seq: m.seq }));
              const v = m.payload!.version;
              const g = got.get(v) ?? { n: 0, first: now() };
              got.set(v, g);
              if (++g.n === sockets.length) {
                send({ type: "got", version: v, first: g.first, last: now() });
                got.delete(v);
              }
            });
            ws.addEventListener("error", () => reject(new Error(`socket error on ${url}`)));
            ws.addEventListener("close", (e) => {
              if (e.code === 4008) send({ type: "slow-closed" });
            });
            sockets.push(ws);
          }),
      ),
    );
  }
}

process.on("message", async (m: { cmd: string; url?: string; n?: number }) => {
  if (m.cmd === "open") {
    await open(m.url!, m.n!);
    send({ type: "opened", n: sockets.length });
  } else if (m.cmd === "close") {
    for (const ws of sockets.splice(0)) ws.close();
    got.clear();
    send({ type: "closed" });
  }
});
