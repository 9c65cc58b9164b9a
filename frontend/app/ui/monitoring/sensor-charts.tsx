'use client';

import { useEffect, useRef } from 'react';
import { followSizeAndTheme, readoutOnCursor } from '../shared/uplot-hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartSeries, Episode } from '@/app/lib/chart-series';
import { fmtNumber } from '@/app/lib/format';

/** `label` is the aggregate ('mean', 'max', 'min'); the bucket size is prefixed when shown. */
export type PanelSeries = { label: string; key: string; dashed?: boolean; extreme?: boolean };
export type PanelLimit = { kind: 'warning' | 'critical'; value: number };
export type ChartPanel = { id: string; title: string; unit: string; sensor?: string; series: PanelSeries[]; limits: PanelLimit[] };

const HEIGHT = 200;

const per = (bucketHours: number) => (bucketHours === 1 ? 'hourly' : `${bucketHours}-hour`);
const idleText = (n: number) => `${n} points · hover for values, drag to zoom, double-click to zoom out`;

/**
 * Several sensors of one compressor on a shared time axis, drawn with uPlot (canvas, ~50 kB, bundled:
 * no CDN). Hovering one chart moves the cursor on all of them and prints time and values; dragging
 * zooms every chart to the same window, a double click zooms back out. Warning/critical limits are
 * dashed lines, and the sensor's alert episodes are shaded on the time axis. A zoom into a range the
 * server sent in buckets of several hours fetches that window again, finer (down to hourly rows).
 */
export function SensorCharts({ compressorId, bucketHours, points, buckets, series, panels, episodes, domain }: {
  compressorId: string;
  bucketHours: number;
  points: number; // most buckets to ask for when a zoom fetches a window again
  buckets: number; // how many `series` holds
  series: string; // ChartSeries as JSON text, as PostgreSQL built it: handed over as one string, parsed only in the browser
  panels: ChartPanel[];
  episodes: Episode[];
  domain: [number, number]; // seconds
}) {
  const holders = useRef<(HTMLDivElement | null)[]>([]);
  const readouts = useRef<(HTMLParagraphElement | null)[]>([]);
  const figures = useRef<(HTMLElement | null)[]>([]);
  const keys = useRef<(HTMLSpanElement | null)[][]>([]);

  useEffect(() => {
    const { times, columns } = JSON.parse(series) as ChartSeries;
    const plots: uPlot[] = [];
    let syncing = false;
    const syncKey = `altaviz-${Math.random().toString(36).slice(2)}`;
    const dataOf = (panel: ChartPanel, t: number[], cols: Record<string, (number | null)[]>): uPlot.AlignedData =>
      [t, ...panel.series.map((s) => cols[s.key] ?? [])];
    let bucket = bucketHours;
    let refineTimer: ReturnType<typeof setTimeout> | undefined;
    let request: AbortController | undefined;

    function showBucket(b: number) {
      bucket = b;
      panels.forEach((panel, i) => panel.series.forEach((s, j) => {
        const el = keys.current[i]?.[j];
        if (el) el.textContent = `${per(b)} ${s.label}`;
      }));
      figures.current.forEach((f) => f && (f.dataset.bucketHours = String(b)));
    }

    // Zoomed into a window the current buckets draw coarsely: ask the server for that window, finer.
    function refine(min: number, max: number) {
      const want = Math.max(1, Math.ceil((max - min) / 3600 / points));
      const zoomedOut = min <= domain[0] && max >= domain[1];
      if (zoomedOut ? bucket === bucketHours : want >= bucket) return;
      request?.abort();
      if (zoomedOut) {
        plots.forEach((p, i) => p.setData(dataOf(panels[i]!, times, columns), false));
        showBucket(bucketHours);
        return;
      }
      request = new AbortController();
      const from = new Date(Math.floor(min / 3600) * 3_600_000).toISOString();
      const to = new Date(Math.ceil(max / 3600) * 3_600_000).toISOString();
      fetch(`/api/compressors/${encodeURIComponent(compressorId)}/readings?from=${from}&to=${to}&points=${points}&format=series`,
        { signal: request.signal })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`readings ${r.status}`))))
        .then((body: { bucket_hours: number; series: ChartSeries }) => {
          plots.forEach((p, i) => p.setData(dataOf(panels[i]!, body.series.times, body.series.columns), false));
          showBucket(body.bucket_hours);
        })
        .catch(() => undefined); // aborted by a newer zoom, or the coarse view stays: nothing to report
    }

    function build() {
      plots.splice(0).forEach((p) => p.destroy());
      request?.abort();
      showBucket(bucketHours);
      const css = getComputedStyle(document.documentElement);
      const color = (name: string) => css.getPropertyValue(name).trim() || '#888';
      const accent = color('--accent'), muted = color('--muted'), grid = color('--grid');
      const sev = { warning: color('--warning'), critical: color('--critical') };
      const extreme = '#8e6bd6';

      panels.forEach((panel, i) => {
        const el = holders.current[i];
        if (!el) return;
        const own = episodes.filter((e) => e.sensor === panel.sensor);
        const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '10.5px system-ui, sans-serif' };
        const opts: uPlot.Options = {
          width: Math.max(200, el.clientWidth),
          height: HEIGHT,
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'), // the dashboard speaks UTC everywhere
          legend: { show: false },
          cursor: {
            sync: { key: syncKey, setSeries: false },
            drag: { x: true, y: false, setScale: true },
            points: { size: 6 },
            // Double click: back to the whole range on every chart (and to the data first sent).
            bind: { dblclick: () => () => { for (const p of plots) p.setScale('x', { min: domain[0], max: domain[1] }); return null; } },
          },
          scales: {
            x: { time: true, min: domain[0], max: domain[1] },
            y: {
              // Always show the limits, even when every value sits far below them.
              range: (_u, lo, hi) => {
                const all = [lo, hi, ...panel.limits.map((l) => l.value)].filter((v) => Number.isFinite(v));
                let a = Math.min(...all), b = Math.max(...all);
                if (a === b) { a -= 1; b += 1; }
                const pad = (b - a) * 0.08;
                return [a >= 0 ? Math.max(0, a - pad) : a - pad, b + pad];
              },
            },
          },
          axes: [{ ...axis }, { ...axis, size: 48 }],
          series: [
            {},
            ...panel.series.map((s) => ({
              label: s.label, stroke: s.extreme ? extreme : accent, width: s.dashed ? 1.2 : 1.8,
              dash: s.dashed ? [3, 3] : undefined, spanGaps: false, points: { show: false },
            })),
          ],
          hooks: {
            drawClear: [(u) => {
              // Alert episodes behind the lines: one band per episode across the plot's height.
              const { ctx } = u;
              const { top, height } = u.bbox;
              ctx.save();
              for (const e of own) {
                const x0 = Math.max(u.bbox.left, u.valToPos(e.start, 'x', true));
                const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(e.end, 'x', true));
                if (x1 <= x0) continue;
                ctx.fillStyle = sev[e.severity];
                ctx.globalAlpha = 0.14;
                ctx.fillRect(x0, top, x1 - x0, height);
              }
              ctx.restore();
            }],
            draw: [(u) => {
              const { ctx } = u;
              ctx.save();
              ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.lineWidth = 1.4 * devicePixelRatio;
              for (const l of panel.limits) {
                const y = u.valToPos(l.value, 'y', true);
                ctx.strokeStyle = sev[l.kind];
                ctx.beginPath();
                ctx.moveTo(u.bbox.left, y);
                ctx.lineTo(u.bbox.left + u.bbox.width, y);
                ctx.stroke();
              }
              ctx.restore();
            }],
            setCursor: [readoutOnCursor(() => readouts.current[i], idleText,
              (u, idx) => panel.series.map((s, j) => `${per(bucket)} ${s.label} ${fmtNumber(u.data[j + 1]![idx], 2)}`).join(' · '))],
            setScale: [(u, key) => {
              if (key !== 'x') return;
              const { min, max } = u.scales.x!;
              const fig = figures.current[i];
              if (fig && min !== undefined && max !== undefined) {
                fig.dataset.xMin = String(Math.round(min));
                fig.dataset.xMax = String(Math.round(max));
              }
              if (syncing || min === undefined || max === undefined) return;
              // A zoom on one chart zooms them all to the same window.
              syncing = true;
              for (const p of plots) if (p !== u) p.setScale('x', { min, max });
              syncing = false;
              clearTimeout(refineTimer);
              refineTimer = setTimeout(() => refine(min, max), 120);
            }],
          },
        };
        el.replaceChildren();
        plots.push(new uPlot(opts, dataOf(panel, times, columns), el));
      });
    }

    build();
    const stopFollowing = followSizeAndTheme(plots, holders.current, HEIGHT, build);
    return () => {
      clearTimeout(refineTimer);
      request?.abort();
      stopFollowing();
      plots.forEach((p) => p.destroy());
    };
  }, [compressorId, bucketHours, points, series, panels, episodes, domain]);

  return (
    <>
      {panels.map((panel, i) => (
        <figure key={panel.id} className="panel" style={{ margin: 0 }} data-testid={`chart-${panel.id}`}
          ref={(el) => { figures.current[i] = el; }} data-x-min={domain[0]} data-x-max={domain[1]} data-bucket-hours={bucketHours}
          data-episodes={panel.sensor ? episodes.filter((e) => e.sensor === panel.sensor).length : 0}>
          <div className="panel__head">
            <h3 style={{ margin: 0 }}>{panel.title} <span className="muted">({panel.unit})</span></h3>
            <div className="series-key">
              {panel.series.map((s, j) => (
                <span key={s.key}>
                  <i style={{ background: s.extreme ? '#8e6bd6' : 'var(--accent)' }} />
                  <span ref={(el) => { (keys.current[i] ??= [])[j] = el; }}>{per(bucketHours)} {s.label}</span>
                </span>
              ))}
              {panel.limits.map((l) => (
                <span key={l.kind} className={`limit-key limit-key--${l.kind}`} data-testid={`limit-${l.kind}`} data-value={l.value}>
                  {l.kind === 'critical' ? 'crit' : 'warn'} {fmtNumber(l.value, l.value % 1 ? 1 : 0)}
                </span>
              ))}
            </div>
          </div>
          <div className="chart-canvas" ref={(el) => { holders.current[i] = el; }} style={{ minHeight: HEIGHT }} />
          <p className="chart__tip" aria-live="polite" data-testid="chart-readout" ref={(el) => { readouts.current[i] = el; }}>
            {idleText(buckets)}
          </p>
        </figure>
      ))}
    </>
  );
}
