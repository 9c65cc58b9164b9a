'use client';

import { useId, useMemo, useState } from 'react';
import { fmtDay, fmtHourTick, fmtNumber, fmtTime } from '@/app/lib/format';

export type ChartSeries = { label: string; color: string; values: (number | null)[]; dashed?: boolean };
export type ChartLimit = { kind: 'warning' | 'critical'; value: number };

const W = 520, H = 220;
const M = { top: 12, right: 66, bottom: 26, left: 44 };

/**
 * Hand-drawn SVG line chart (no chart library: nothing to download, small bundle). Null values
 * break the line so a gap in the data shows as a gap. Limits are drawn as dashed lines.
 */
export function TimeSeriesChart({ title, unit, times, series, limits = [], domain, testId }: {
  title: string;
  unit: string;
  times: number[];
  series: ChartSeries[];
  limits?: ChartLimit[];
  domain: [number, number];
  testId?: string;
}) {
  const [hover, setHover] = useState<number | null>(null);
  const clipId = useId();
  const iw = W - M.left - M.right, ih = H - M.top - M.bottom;

  const { y, yTicks, tickDigits, x, xTicks, paths } = useMemo(() => {
    const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const all = [...values, ...limits.map((l) => l.value)];
    let lo = Math.min(...all), hi = Math.max(...all);
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.08;
    // Padding must not invent negative values for a quantity that cannot go below zero.
    const yTicks = niceTicks(lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad, 5);
    const y0 = yTicks[0]!, y1 = yTicks[yTicks.length - 1]!;
    const y = (v: number) => M.top + ih - ((v - y0) / (y1 - y0)) * ih;
    const [d0, d1] = domain;
    const x = (t: number) => M.left + ((t - d0) / Math.max(1, d1 - d0)) * iw;
    const paths = series.map((s) => {
      let d = '', pen = false;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      return d;
    });
    // Enough decimals that neighbouring ticks never print the same (99.9 / 100 rather than 100 / 100).
    const step = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
    const e = Math.floor(Math.log10(step) + 1e-9);
    const tickDigits = Math.max(0, -e + (Math.abs(step / 10 ** e - 2.5) < 1e-6 ? 1 : 0));
    return { y, yTicks, tickDigits, x, xTicks: timeTicks(d0, d1), paths };
  }, [series, limits, times, domain, ih, iw]);

  function onMove(e: React.PointerEvent<SVGSVGElement>) {
    if (!times.length) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * W;
    const t = domain[0] + ((px - M.left) / iw) * (domain[1] - domain[0]);
    let best = 0;
    for (let i = 1; i < times.length; i++) if (Math.abs(times[i]! - t) < Math.abs(times[best]! - t)) best = i;
    setHover(best);
  }

  const spanDays = (domain[1] - domain[0]) / 86_400_000;
  return (
    <figure className="panel" style={{ margin: 0 }} data-testid={testId}>
      <div className="panel__head">
        <h3 style={{ margin: 0 }}>{title} <span className="muted">({unit})</span></h3>
        <div className="series-key">
          {series.map((s) => <span key={s.label}><i style={{ background: s.color }} />{s.label}</span>)}
        </div>
      </div>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} over time`} onPointerMove={onMove} onPointerLeave={() => setHover(null)}>
        <defs>
          <clipPath id={clipId}><rect x={M.left} y={M.top} width={iw} height={ih} /></clipPath>
        </defs>
        {yTicks.map((v) => (
          <g key={v}>
            <line className="chart__grid" x1={M.left} x2={M.left + iw} y1={y(v)} y2={y(v)} />
            <text className="chart__axis" x={M.left - 6} y={y(v) + 3.5} textAnchor="end">{fmtNumber(v, tickDigits)}</text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={t} className="chart__axis" x={x(t)} y={H - 8} textAnchor="middle">{spanDays <= 2 ? fmtHourTick(t) : fmtDay(t)}</text>
        ))}
        {limits.map((l) => (
          <g key={l.kind} data-testid={`limit-${l.kind}`} data-value={l.value}>
            <line className={`chart__limit--${l.kind}`} x1={M.left} x2={M.left + iw} y1={y(l.value)} y2={y(l.value)} />
            <text className={`chart__limit-label--${l.kind}`} x={M.left + iw + 4} y={y(l.value) + 3.5}>{l.kind === 'critical' ? 'crit' : 'warn'} {fmtNumber(l.value, l.value % 1 ? 1 : 0)}</text>
          </g>
        ))}
        <g clipPath={`url(#${clipId})`}>
          {series.map((s, i) => (
            <path key={s.label} d={paths[i]} fill="none" stroke={s.color} strokeWidth={s.dashed ? 1.2 : 1.8} strokeDasharray={s.dashed ? '3 3' : undefined} strokeLinejoin="round" data-testid="series" />
          ))}
        </g>
        {hover !== null && times[hover] !== undefined ? (
          <line className="chart__cursor" x1={x(times[hover])} x2={x(times[hover])} y1={M.top} y2={M.top + ih} />
        ) : null}
      </svg>
      <p className="chart__tip" aria-live="polite">
        {hover !== null && times[hover] !== undefined
          ? `${fmtTime(new Date(times[hover]).toISOString())} · ${series.map((s) => `${s.label} ${fmtNumber(s.values[hover], 2)}`).join(' · ')}`
          : `${times.length} hourly points · hover for values`}
      </p>
    </figure>
  );
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 0.999; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/** Midnight (UTC) ticks for multi-day spans, 6-hourly for short ones; at most ~8 labels. */
function timeTicks(d0: number, d1: number): number[] {
  const hour = 3_600_000, day = 24 * hour;
  const span = d1 - d0;
  const step = span <= 2 * day ? 6 * hour : Math.max(1, Math.ceil(span / day / 8)) * day;
  const out: number[] = [];
  for (let t = Math.ceil(d0 / step) * step; t <= d1; t += step) out.push(t);
  return out;
}
