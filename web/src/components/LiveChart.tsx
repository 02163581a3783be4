import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

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

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: palette[i % palette.length], width: 2, points: { show: false } }))],
      axes: [{}, { size: 50 }],
      scales: { x: { time: true } },
      legend: { live: false },
    };
    const u = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; data flows through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [names]);

  useEffect(() => {
    plot.current?.setData([xs, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [xs, series]);

  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
