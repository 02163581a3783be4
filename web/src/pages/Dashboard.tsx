import { useRef, useState } from "react";
import { LiveChart } from "../components/LiveChart";
import { Banner, Card, Empty, Loading } from "../components/ui";
import { count, useMoney } from "../lib/format";
import { useFeed, useTick } from "../lib/live";

// Five minutes of per-second samples.
const WINDOW = 300;

type Flat = Record<string, number>;

/** Flattens nested counters ({bets: {placed: 3}}) into dotted names ("bets.placed"). */
export function flatten(value: unknown, prefix = "", out: Flat = {}): Flat {
  if (typeof value === "number") out[prefix] = value;
  else if (value && typeof value === "object" && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

const isFailure = (name: string) => /fail|error|5xx|retr|dlq/i.test(name);
const isMoney = (name: string) => /cents/i.test(name);
const names: Record<string, string> = { failures_http_5xx: "HTTP 5xx", failures_dlq: "DLQ", failures_retries: "retries" };
const pretty = (name: string) => names[name] ?? name.replace(/_cents\b/, "").replace(/[._]/g, " ");

export function Dashboard() {
  const { fmt } = useMoney();
  const now = useTick();
  const [totals, setTotals] = useState<Flat | null>(null);
  const [rates, setRates] = useState<Flat>({});
  const history = useRef<{ xs: number[]; rates: Record<string, (number | null)[]> }>({ xs: [], rates: {} });
  const [, redraw] = useState(0);

  const feed = useFeed("/ws/stats", (m) => {
    // A stats message: { seq, type: "stats", at, totals, per_second, second_start }.
    if (!m || typeof m !== "object" || !("totals" in m)) return;
    const t = flatten(m.totals);
    const r = flatten(m.per_second ?? {});
    setTotals(t);
    setRates(r);
    const h = history.current;
    const at = typeof m.second_start === "string" ? Date.parse(m.second_start) / 1000 : Date.now() / 1000;
    if (h.xs.length && at <= h.xs[h.xs.length - 1]!) return; // a repeat of a second already charted (e.g. on reconnect)
    h.xs = [...h.xs, at].slice(-WINDOW);
    const names = new Set([...Object.keys(h.rates), ...Object.keys(r)]);
    const next: Record<string, (number | null)[]> = {};
    for (const name of names) {
      const prev = h.rates[name] ?? new Array<number | null>(h.xs.length - 1).fill(null);
      next[name] = [...prev, r[name] ?? null].slice(-WINDOW);
    }
    h.rates = next;
    redraw((n) => n + 1);
  });

  const h = history.current;
  const counters = totals ? Object.entries(totals).filter(([k]) => !isFailure(k)) : [];
  const failures = totals ? Object.entries(totals).filter(([k]) => isFailure(k)) : [];
  const countSeries = Object.keys(h.rates).filter((k) => !isMoney(k) && !isFailure(k));
  const moneySeries = Object.keys(h.rates).filter((k) => isMoney(k));

  return (
    <div className="grid">
      <Banner state={feed.state} lastMessageAt={feed.lastMessageAt} now={now} />
      {totals === null ? (
        feed.state === "offline" ? (
          <Empty>Offline: the stats feed will resume when the connection returns.</Empty>
        ) : (
          <Loading what="Waiting for the first stats message" />
        )
      ) : (
        <>
          <Card title="Totals">
            {counters.length ? (
              <dl className="stats" data-testid="totals">
                {counters.map(([k, v]) => (
                  <div key={k} data-counter={k}>
                    <dt>{pretty(k)}</dt>
                    <dd>
                      <span className="value">{isMoney(k) ? fmt(v) : count(v)}</span>
                      {rates[k] !== undefined && <small className="rate">{isMoney(k) ? fmt(rates[k]!) : count(rates[k]!)}/s</small>}
                    </dd>
                  </div>
                ))}
              </dl>
            ) : (
              <Empty>Nothing has happened yet.</Empty>
            )}
          </Card>
          <Card title="Per second, last 5 minutes">
            {countSeries.length ? (
              <LiveChart label="Events per second" xs={h.xs} series={countSeries.map((name) => ({ name: pretty(name), values: h.rates[name]! }))} />
            ) : (
              <Empty>No rates yet.</Empty>
            )}
            {moneySeries.length > 0 && (
              <LiveChart label="Money per second, in minor units" xs={h.xs} series={moneySeries.map((name) => ({ name: `${pretty(name)} (minor units)`, values: h.rates[name]! }))} />
            )}
          </Card>
          <Card title="Failures">
            {failures.length ? (
              <dl className="stats failures" data-testid="failures">
                {failures.map(([k, v]) => (
                  <div key={k} className={v > 0 ? "bad" : undefined}>
                    <dt>{pretty(k)}</dt>
                    <dd>{count(v)}</dd>
                  </div>
                ))}
              </dl>
            ) : (
              <Empty>No failure counters reported.</Empty>
            )}
          </Card>
        </>
      )}
    </div>
  );
}
