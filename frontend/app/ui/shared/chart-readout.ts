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
