import type uPlot from 'uplot';
import { fmtTime } from '@/app/lib/format';

/**
 * A uPlot `setCursor` hook that prints the hovered time and values into a chart's readout line (and
 * its ISO time into `data-time`, for tests), or the idle hint when the cursor leaves. `describe`
 * writes the values of data index `idx`.
 */
export function readoutOnCursor(
  readout: () => HTMLElement | null | undefined,
  idle: (points: number) => string,
  describe: (u: uPlot, idx: number) => string,
): (u: uPlot) => void {
  return (u) => {
    const out = readout();
    if (!out) return;
    const idx = u.cursor.idx;
    const t = idx === null || idx === undefined ? undefined : u.data[0][idx];
    if (t === undefined || idx === null || idx === undefined) {
      out.textContent = idle(u.data[0].length);
      delete out.dataset.time;
      return;
    }
    const iso = new Date(t * 1000).toISOString();
    out.dataset.time = iso;
    out.textContent = `${fmtTime(iso)} · ${describe(u, idx)}`;
  };
}

/**
 * Keeps each chart as wide as its holder, and redraws them all (`build`) when the theme toggles:
 * axis and canvas colours come from the theme's CSS variables. Returns the function that stops both.
 */
export function followSizeAndTheme(
  plots: uPlot[],
  holders: (HTMLElement | null)[],
  height: number,
  build: () => void,
): () => void {
  const resize = new ResizeObserver(() => {
    plots.forEach((p, i) => {
      const w = holders[i]?.clientWidth;
      if (w && Math.abs(w - p.width) > 1) p.setSize({ width: Math.max(200, w), height });
    });
  });
  holders.forEach((h) => h && resize.observe(h));
  const theme = new MutationObserver(build);
  theme.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => {
    resize.disconnect();
    theme.disconnect();
  };
}
