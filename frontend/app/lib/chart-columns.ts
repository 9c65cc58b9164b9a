/** The failure model's probability as a percentage, so its axis and readout read like the other charts. */
export const RISK_PCT = 'failure_risk_pct';

/** A bucket of readings as the page's query or the readings API returns it (other fields are ignored). */
type ChartRow = Readonly<Record<string, unknown>>;

// Three decimals are finer than the readout (two) and than a pixel of any panel's axis, and keep the
// detail page's payload small: it serializes every drawn value of up to 600 buckets.
const round3 = (v: unknown) => (typeof v === 'number' ? Math.round(v * 1e3) / 1e3 : null);

function value(row: ChartRow, key: string): unknown {
  if (key !== RISK_PCT) return row[key];
  const p = row.failure_probability_72h;
  return typeof p === 'number' ? p * 100 : null;
}

/**
 * One array per series the panels draw (by its `key`), in row order, from bucketed readings: the
 * page's own query rows and the readings API's rows alike (a zoom redraws from the API).
 */
export function chartColumns(
  rows: readonly ChartRow[], panels: readonly { series: readonly { key: string }[] }[],
): Record<string, (number | null)[]> {
  const keys = panels.flatMap((p) => p.series.map((s) => s.key));
  return Object.fromEntries(keys.map((k) => [k, rows.map((r) => round3(value(r, k)))]));
}
