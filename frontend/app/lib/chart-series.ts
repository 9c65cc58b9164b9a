/** The failure model's probability as a percentage, so its axis and readout read like the other charts. */
export const RISK_PCT = 'failure_risk_pct';

/**
 * What the detail page's charts draw (`fetchChartSeries`, the readings API's `format=series`): bucket
 * starts in seconds since the epoch, and one array of values per series key, aligned with `times`.
 */
export type ChartSeries = { times: number[]; columns: Record<string, (number | null)[]> };

/** An alert episode shaded on the charts' time axis, in seconds since the epoch (an open one ends with the window). */
export type Episode = { sensor: string; severity: 'warning' | 'critical'; start: number; end: number };
