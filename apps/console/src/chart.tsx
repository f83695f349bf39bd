// The campaign's time series as a uPlot line chart: redemptions, reversals and refusals by reason,
// one point per bucket. uPlot draws on a canvas; the same numbers are in a table beside it for
// screen readers and keyboards (see the campaign page).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesPoint } from "./api.ts";
import { num } from "./format.ts";

const COLORS = ["#1f6feb", "#8250df", "#cf222e", "#bf8700", "#1a7f37", "#d1242f", "#6e7781", "#0969da", "#953800"];

export function refusalCodes(points: SeriesPoint[]): string[] {
  const totals = new Map<string, number>();
  for (const p of points) for (const [code, n] of Object.entries(p.refusals)) totals.set(code, (totals.get(code) ?? 0) + n);
  return [...totals].filter(([, n]) => n > 0).map(([code]) => code);
}

export function SeriesChart({ points, interval }: { points: SeriesPoint[]; interval: "hour" | "day" }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const codes = refusalCodes(points);
    const data: uPlot.AlignedData = [
      points.map((p) => Date.parse(p.start) / 1000),
      points.map((p) => p.redemptions),
      points.map((p) => p.reversals),
      ...codes.map((code) => points.map((p) => p.refusals[code] ?? 0)),
    ];
    const series: uPlot.Series[] = [
      { label: interval === "hour" ? "Hour (UTC)" : "Day (UTC)" },
      { label: "Redemptions", stroke: COLORS[0], width: 2, value: (_u, v) => (v == null ? "—" : num(v)) },
      { label: "Reversals", stroke: COLORS[1], width: 1.5, value: (_u, v) => (v == null ? "—" : num(v)) },
      ...codes.map((code, i) => ({
        label: `Refused ${code}`,
        stroke: COLORS[(i + 2) % COLORS.length],
        width: 1,
        dash: [4, 3],
        value: (_u: uPlot, v: number | null) => (v == null ? "—" : num(v)),
      })),
    ];
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        series,
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => num(t)) }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [points, interval]);
  return <div ref={box} class="chart" aria-hidden="true" />;
}
