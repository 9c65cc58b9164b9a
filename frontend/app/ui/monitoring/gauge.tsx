import type { SensorThreshold, Status } from '@/app/lib/definitions';
import { fmtNumber } from '@/app/lib/format';
import { arcPath } from '../shared/arc';

const SWEEP = (240 * Math.PI) / 180; // a 240° dial, open at the bottom
const START = -SWEEP / 2;

/**
 * Radial gauge of one sensor's current hourly mean, banded by the same sensor_thresholds rows the
 * pipeline alarmed on: green inside the warning limit, amber up to critical, red beyond.
 */
export function Gauge({ label, value, extreme, extremeLabel, threshold, status }: {
  label: string;
  value: number | null;
  extreme: number | null;
  extremeLabel: string;
  threshold: SensorThreshold | undefined;
  status: Status | 'unknown';
}) {
  const { lo, hi, bands } = scale(threshold, value);
  const angle = (v: number) => START + SWEEP * Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  const cx = 100, cy = 100, r0 = 64, r1 = 80;
  const needle = value === null ? null : angle(value);
  const digits = hi < 20 ? 2 : hi < 200 ? 1 : 0;
  return (
    <figure className="gauge panel" data-testid={`gauge-${threshold?.sensor ?? label}`} data-status={status} style={{ margin: 0 }}>
      <svg viewBox="-24 0 248 168" role="img" aria-label={`${label}: ${fmtNumber(value, digits)} ${threshold?.unit ?? ''}, ${status}`}>
        {bands.map((b) => (
          <path key={b.tone} d={arcPath(cx, cy, r0, r1, angle(b.from), angle(b.to))} style={{ fill: `var(--${b.tone})`, opacity: 0.85 }} />
        ))}
        {threshold
          ? [threshold.warning, threshold.critical].map((t) => {
              const a = angle(t);
              return (
                <text key={t} className="gauge__tick" x={cx + 92 * Math.sin(a)} y={cy - 92 * Math.cos(a) + 3} textAnchor={Math.sin(a) < -0.1 ? 'end' : Math.sin(a) > 0.1 ? 'start' : 'middle'}>
                  {fmtNumber(t, t % 1 ? 1 : 0)}
                </text>
              );
            })
          : null}
        {needle !== null ? (
          <g>
            <line x1={cx} y1={cy} x2={cx + 74 * Math.sin(needle)} y2={cy - 74 * Math.cos(needle)} stroke="var(--text)" strokeWidth="3" strokeLinecap="round" />
            <circle cx={cx} cy={cy} r="6" fill="var(--text)" />
          </g>
        ) : null}
        <text className="gauge__value" x={cx} y={cy + 42} textAnchor="middle">{fmtNumber(value, digits)}</text>
        <text className="gauge__unit" x={cx} y={cy + 58} textAnchor="middle">{threshold?.unit ?? ''}</text>
      </svg>
      <figcaption style={{ textAlign: 'center' }}>
        <div className="gauge__label">{label}</div>
        <div className="gauge__sub">
          <span className={`text-${status}`}>{status === 'normal' ? 'normal' : status}</span> · hourly {extremeLabel} {fmtNumber(extreme, digits)}
        </div>
      </figcaption>
    </figure>
  );
}

type Band = { tone: 'normal' | 'warning' | 'critical'; from: number; to: number };

function scale(t: SensorThreshold | undefined, value: number | null): { lo: number; hi: number; bands: Band[] } {
  if (!t) {
    const hi = Math.max(1, (value ?? 1) * 1.5);
    return { lo: 0, hi, bands: [] };
  }
  if (t.direction === 'high') {
    const hi = Math.max(t.critical * 1.25, (value ?? 0) * 1.05);
    return { lo: 0, hi, bands: [
      { tone: 'normal', from: 0, to: t.warning }, { tone: 'warning', from: t.warning, to: t.critical }, { tone: 'critical', from: t.critical, to: hi },
    ] };
  }
  const hi = Math.max(t.warning * 2.5, (value ?? 0) * 1.2);
  return { lo: 0, hi, bands: [
    { tone: 'critical', from: 0, to: t.critical }, { tone: 'warning', from: t.critical, to: t.warning }, { tone: 'normal', from: t.warning, to: hi },
  ] };
}
