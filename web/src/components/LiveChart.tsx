import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const MIN_SPAN_SECONDS = 60;
const palette = ["#2563eb", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0891b2", "#dc2626", "#4b5563"];

/**
 * A streaming line chart on uPlot: canvas, built once per set of series, and fed
 * new data with setData each second rather than re-rendering a tree.
 * `xs` are unix seconds; `series` are aligned to them.
 */
export function LiveChart({ xs, series, label }: { xs: number[]; series: { name: string; values: (number | null)[] }[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = series.map((s) => s.name).join("|");
  // The data as of the latest render, for a chart built between two data effects.
  const data = useRef<uPlot.AlignedData>([]);
  data.current = [xs, ...series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      series: [{}, ...(names ? names.split("|") : []).map((name, i) => ({ label: name, stroke: palette[i % palette.length], width: 2, points: { show: false } }))],
      axes: [{}, { size: 50 }],
      // At least a minute wide: a page open for two seconds should not get millisecond ticks.
      scales: { x: { time: true, range: (_u, min, max) => [Math.min(min, max - MIN_SPAN_SECONDS), max] } },
      legend: { live: false },
    };
    const u = new uPlot(opts, data.current, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; data flows through setData below.
  }, [names]);

  useEffect(() => {
    plot.current?.setData([xs, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [xs, series]);

  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
