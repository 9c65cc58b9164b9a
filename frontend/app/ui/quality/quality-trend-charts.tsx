'use client';

import { useEffect, useRef } from 'react';
import { followSizeAndTheme, readoutOnCursor } from '../shared/uplot-hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtMinutes, fmtNumber } from '@/app/lib/format';

export type TrendPanel = { key: string; title: string; unit: string; values: (number | null)[][] };

const HEIGHT = 200;
const idleText = (n: number) => `${n} runs · hover for values, drag to zoom, double-click to zoom out`;

/**
 * Data-quality metrics over the newest runs, one chart per metric and one line per table, drawn with
 * uPlot like the sensor charts (canvas, bundled from npm: no CDN). Hovering one chart moves the cursor
 * on all of them and prints the run's time and every table's value; dragging zooms them all, a double
 * click zooms back out.
 */
export function QualityTrendCharts({ times, tables, colors, panels }: {
  times: number[]; // seconds since the epoch, one per run, oldest first
  tables: string[];
  colors: string[]; // one per table
  panels: TrendPanel[]; // values[table][run]
}) {
  const holders = useRef<(HTMLDivElement | null)[]>([]);
  const readouts = useRef<(HTMLParagraphElement | null)[]>([]);

  useEffect(() => {
    const plots: uPlot[] = [];
    let syncing = false;
    const syncKey = `altaviz-quality-${Math.random().toString(36).slice(2)}`;
    const domain: [number, number] = [times[0] ?? 0, times[times.length - 1] ?? 1];
    const fmt = (panel: TrendPanel, v: number | null | undefined) =>
      v === null || v === undefined ? '—' : panel.key === 'freshness_minutes' ? fmtMinutes(v) : `${fmtNumber(v, 2)} %`;

    function build() {
      plots.splice(0).forEach((p) => p.destroy());
      const css = getComputedStyle(document.documentElement);
      const color = (name: string) => css.getPropertyValue(name).trim() || '#888';
      const muted = color('--muted'), grid = color('--grid');
      panels.forEach((panel, i) => {
        const el = holders.current[i];
        if (!el) return;
        const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '10.5px system-ui, sans-serif' };
        const opts: uPlot.Options = {
          width: Math.max(200, el.clientWidth),
          height: HEIGHT,
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'), // UTC everywhere, as the rest of the dashboard
          legend: { show: false },
          cursor: {
            sync: { key: syncKey, setSeries: false },
            drag: { x: true, y: false, setScale: true },
            points: { size: 6 },
            bind: { dblclick: () => () => { for (const p of plots) p.setScale('x', { min: domain[0], max: domain[1] }); return null; } },
          },
          scales: {
            x: { time: true, min: domain[0], max: domain[1] },
            y: {
              range: (_u, lo, hi) => {
                let a = Number.isFinite(lo) ? lo : 0, b = Number.isFinite(hi) ? hi : 1;
                if (a === b) { a -= 1; b += 1; }
                const pad = (b - a) * 0.08;
                // Padding must not invent negative values for a quantity that cannot go below zero.
                return [a >= 0 ? Math.max(0, a - pad) : a - pad, b + pad];
              },
            },
          },
          axes: [{ ...axis }, { ...axis, size: 52 }],
          series: [
            {},
            ...tables.map((t, j) => ({ label: t, stroke: colors[j], width: 1.8, spanGaps: false, points: { show: times.length <= 40, size: 4 } })),
          ],
          hooks: {
            setCursor: [readoutOnCursor(() => readouts.current[i], idleText,
              (u, idx) => tables.map((name, j) => `${name} ${fmt(panel, u.data[j + 1]![idx])}`).join(' · '))],
            setScale: [(u, key) => {
              if (key !== 'x' || syncing) return;
              const { min, max } = u.scales.x!;
              if (min === undefined || max === undefined) return;
              // A zoom on one chart zooms them all to the same window.
              syncing = true;
              for (const p of plots) if (p !== u) p.setScale('x', { min, max });
              syncing = false;
            }],
          },
        };
        el.replaceChildren();
        plots.push(new uPlot(opts, [times, ...panel.values], el));
      });
    }

    build();
    const stopFollowing = followSizeAndTheme(plots, holders.current, HEIGHT, build);
    return () => {
      stopFollowing();
      plots.forEach((p) => p.destroy());
    };
  }, [times, tables, colors, panels]);

  return (
    <>
      {panels.map((panel, i) => (
        <figure key={panel.key} className="panel" style={{ margin: 0 }} data-testid={`trend-${panel.key}`}>
          <div className="panel__head">
            <h3 style={{ margin: 0 }}>{panel.title} <span className="muted">({panel.unit})</span></h3>
            <div className="series-key">
              {tables.map((t, j) => (
                <span key={t}><i style={{ background: colors[j] }} /><span className="mono">{t}</span></span>
              ))}
            </div>
          </div>
          <div className="chart-canvas" ref={(el) => { holders.current[i] = el; }} style={{ minHeight: HEIGHT }} />
          <p className="chart__tip" aria-live="polite" data-testid="chart-readout" ref={(el) => { readouts.current[i] = el; }}>
            {idleText(times.length)}
          </p>
        </figure>
      ))}
    </>
  );
}
