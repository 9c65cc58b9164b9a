/**
 * Formatting shared by server and client components. Times are shown in UTC, labelled, so a
 * server-rendered value and a hydrated one can never disagree and operators across time zones
 * read the same hour the pipeline stored.
 */

const dateTime = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const dateOnly = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });

export function fmtTime(iso: string | null | undefined): string {
  return iso ? `${dateTime.format(new Date(iso))} UTC` : '—';
}

export function fmtDay(iso: string | number): string {
  return dateOnly.format(new Date(iso));
}

export function fmtHourTick(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:00`;
}

// One formatter per precision: Number.toLocaleString builds a new Intl.NumberFormat on every call
// (~35 us), which a 50-row table with six numbers a row pays 300 times per render.
const numberFormats = new Map<number, Intl.NumberFormat>();

export function fmtNumber(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  let f = numberFormats.get(digits);
  if (!f) numberFormats.set(digits, (f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })));
  return f.format(v);
}

/** The model's probability of failing within 72 h as a percentage ("7 %", "<1 %"). */
export function fmtRisk(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return p < 0.005 ? '<1 %' : `${Math.round(p * 100)} %`;
}

/** Remaining useful life in hours: "36 h" up to two days, then "5 d". */
export function fmtRul(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return '—';
  return hours < 48 ? `${Math.round(hours)} h` : `${Math.round(hours / 24)} d`;
}

/** A risk's colour class: the model's warning and critical probabilities (altaviz.yaml predictions). */
export function riskStatus(p: number | null | undefined): 'normal' | 'warning' | 'critical' | 'unknown' {
  if (p === null || p === undefined) return 'unknown';
  return p >= 0.8 ? 'critical' : p >= 0.5 ? 'warning' : 'normal';
}

export function fmtInt(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en-US');
}

/** "3 min", "5 h 10 min", "13 h", "2 d 4 h": a duration in minutes, as precise as it is useful. */
export function fmtMinutes(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return '—';
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m} min`;
  if (m < 10 * 60) return `${Math.floor(m / 60)} h ${m % 60 ? `${m % 60} min` : ''}`.trim();
  if (m < 48 * 60) return `${Math.floor(m / 60)} h`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}

export function minutesSince(iso: string | null | undefined, now = Date.now()): number | null {
  return iso ? (now - new Date(iso).getTime()) / 60_000 : null;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
