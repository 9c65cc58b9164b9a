import { connection } from 'next/server';
import { query, SchemaMissingError } from './db';
import { RISK_PCT, type ChartSeries, type Episode } from './chart-series';
import { cached } from './serving-cache';
import type {
  Alert, AlertEvent, ChartReading, CompressorSnapshot, Health, FleetKpis, HourlyReading, Page, PipelineRun,
  PipelineRunStep, PipelineRunWithSteps, Prediction, QualityMetric, QuarantineRuleCount, SensorThreshold, Station,
} from './definitions';
import { RANGE_PRESETS, type AlertFilters, type FleetQuery, type FleetSort, type ReadingsQuery } from './validation';

/**
 * Typed read fetchers, one per widget. Every value reaches SQL as a $n parameter.
 * A database the pipeline has not published to yet (no tables) reads as empty, so pages can say
 * "no data yet: run the pipeline" instead of failing.
 */

async function rows<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
  await connection(); // request-time data: never prerender at build time
  try {
    return await query<R & Record<string, unknown>>(text, values);
  } catch (err) {
    if (err instanceof SchemaMissingError) return [];
    throw err;
  }
}

/** Fleet-level reads: cached in-process until the serving data changes (serving-cache.ts). */
async function shared<T>(key: string, load: () => Promise<T>): Promise<T> {
  await connection();
  return cached(key, load);
}

async function one<R extends object>(text: string, values: unknown[] = []): Promise<R | null> {
  return (await rows<R>(text, values))[0] ?? null;
}

const READING_COLUMNS = `h.compressor_id, h.hour_start, h.reading_count, h.vibration_mean, h.vibration_max,
  h.discharge_temp_mean, h.discharge_temp_max, h.suction_pressure_mean, h.suction_pressure_min,
  h.discharge_pressure_mean, h.discharge_pressure_max, h.pressure_differential_mean, h.horsepower_mean,
  h.gas_flow_mean, h.vibration_status, h.temp_status, h.pressure_status, h.health_status`;

const ALERT_COLUMNS = `a.alert_id, a.compressor_id, c.station_id, a.sensor, a.source, a.severity, a.current_severity, a.is_active,
  a.opened_at, a.escalated_at, a.cleared_at, a.last_reading_at, a.threshold_value, a.peak_value, a.last_value,
  a.reading_count, a.status, a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.operator_note`;

// Same rule as the view v_active_alerts: the condition is present and nobody resolved it.
const ACTIVE = `a.is_active AND a.status <> 'resolved'`;

export async function fetchThresholds(): Promise<SensorThreshold[]> {
  return shared('thresholds', async () => {
    return rows<SensorThreshold>(`SELECT sensor, direction, warning, critical, unit FROM sensor_thresholds ORDER BY sensor`);
  });
}

export async function fetchStations(): Promise<Station[]> {
  return shared('stations', async () => {
    return rows<Station>(
      `SELECT station_id, station_name, basin, city, latitude, longitude FROM stations ORDER BY station_id`,
    );
  });
}

// Newest hour of compressor c from latest_readings, which 05_publish refreshes with every publish:
// one row per unit, where probing hourly_readings (2M rows at 1,000 units x 90 days) costs ~12 us a unit.
const LATEST = `LEFT JOIN latest_readings l ON l.compressor_id = c.compressor_id`;

// The failure model's newest scored hour of compressor c: one primary-key probe per unit.
const RISK = `LEFT JOIN LATERAL (
    SELECT p.hour_start, p.failure_probability_72h, p.rul_hours, p.model_version FROM predictions p
     WHERE p.compressor_id = c.compressor_id ORDER BY p.hour_start DESC LIMIT 1) r ON true`;
const RISK_OUT = `r.hour_start AS r_hour_start, r.failure_probability_72h AS r_failure_probability_72h,
  r.rul_hours AS r_rul_hours, r.model_version AS r_model_version`;

// Worst first: alarms, then units that are down, then units without data, then healthy ones.
const HEALTH_RANK = `CASE COALESCE(l.health_status, 'unknown') WHEN 'critical' THEN 0 WHEN 'warning' THEN 1
  WHEN 'down' THEN 2 WHEN 'unknown' THEN 3 ELSE 4 END`;

const FLEET_ORDER: Record<FleetSort, string> = {
  worst: `${HEALTH_RANK}, COALESCE(a.critical_alerts, 0) DESC, COALESCE(a.active_alerts, 0) DESC, c.compressor_id`,
  id: 'c.compressor_id',
  alerts: `COALESCE(a.active_alerts, 0) DESC, ${HEALTH_RANK}, c.compressor_id`,
  vibration: 'l.vibration_mean DESC NULLS LAST, c.compressor_id',
  temp: 'l.discharge_temp_mean DESC NULLS LAST, c.compressor_id',
  risk: 'r.failure_probability_72h DESC NULLS LAST, c.compressor_id',
};

type LatestColumns = { [K in keyof HourlyReading as `l_${K & string}`]: HourlyReading[K] | null };
type RiskColumns = { [K in keyof Prediction as `r_${K & string}`]: Prediction[K] | null };
type SnapshotRow = Omit<CompressorSnapshot, 'latest' | 'risk'> & LatestColumns & RiskColumns & { total?: number };

const LATEST_OUT = READING_COLUMNS.replace(/h\.(\w+)/g, 'l.$1 AS l_$1');

/** Flat l_* columns back into `latest` (null when the unit has no hourly row yet). */
function toSnapshot(r: SnapshotRow): CompressorSnapshot {
  const out: Record<string, unknown> = {};
  const latest: Record<string, unknown> = {};
  const risk: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k.startsWith('l_')) latest[k.slice(2)] = v;
    else if (k.startsWith('r_')) risk[k.slice(2)] = v;
    else if (k !== 'total') out[k] = v;
  }
  return {
    ...(out as Omit<CompressorSnapshot, 'latest' | 'risk'>),
    latest: latest.hour_start ? (latest as unknown as HourlyReading) : null,
    risk: risk.hour_start ? (risk as unknown as Prediction) : null,
  };
}

/** `term` as a LIKE pattern matching it anywhere, with LIKE's own wildcards taken literally. */
function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * One page of the fleet: every compressor with its newest hour and active-alert counts, searched,
 * filtered and sorted in SQL, so a 1,000-unit fleet ships only the rows on screen. `total` counts
 * the matches over all pages.
 */
export async function fetchFleetPage(f: FleetQuery): Promise<Page<CompressorSnapshot>> {
  return shared(`fleet-page:${JSON.stringify(f)}`, async () => {
    const values = [f.station ?? null, f.basin ?? null, f.model ?? null, f.health ?? null,
      f.q ? containsPattern(f.q) : null, f.page_size, (f.page - 1) * f.page_size];
    const list = await rows<SnapshotRow>(
      `SELECT c.compressor_id, c.station_id, c.model, c.rated_horsepower, c.install_date,
              s.station_name, s.basin, s.city, s.latitude, s.longitude,
              COALESCE(l.health_status, 'unknown') AS health_status, ${LATEST_OUT}, ${RISK_OUT},
              COALESCE(a.active_alerts, 0)::int AS active_alerts,
              COALESCE(a.critical_alerts, 0)::int AS critical_alerts,
              COUNT(*) OVER () AS total
         FROM compressors c
         JOIN stations s ON s.station_id = c.station_id
         ${LATEST}
         ${RISK}
         LEFT JOIN (
           SELECT a.compressor_id, COUNT(*) AS active_alerts,
                  COUNT(*) FILTER (WHERE a.current_severity = 'critical') AS critical_alerts
             FROM alerts a WHERE ${ACTIVE} GROUP BY a.compressor_id
         ) a ON a.compressor_id = c.compressor_id
        WHERE ($1::text IS NULL OR c.station_id = $1)
          AND ($2::text IS NULL OR s.basin = $2)
          AND ($3::text IS NULL OR c.model = $3)
          AND ($4::text IS NULL OR COALESCE(l.health_status, 'unknown') = $4)
          AND ($5::text IS NULL OR c.compressor_id ILIKE $5 OR s.station_name ILIKE $5 OR s.city ILIKE $5
               OR s.basin ILIKE $5 OR c.model ILIKE $5)
        ORDER BY ${FLEET_ORDER[f.sort]}
        LIMIT $6 OFFSET $7`,
      values,
    );
    let total = list[0]?.total ?? 0;
    if (!list.length && f.page > 1) {
      // Past the last page: count the matches anyway, so the pager can lead back.
      total = (await fetchFleetPage({ ...f, page: 1, page_size: 1 })).total;
    }
    return { rows: list.map(toSnapshot), total, page: f.page, page_size: f.page_size };
  });
}

/**
 * Units per station and health colour, with the ids only where a station is small enough for the map
 * to draw one dot per unit: about 60 rows for 1,000 units, for the KPIs and the map.
 */
export type StationHealth = { station_id: string; health_status: Health; units: number; newest: string | null; ids: string[] | null };

export const MAP_DOTS_MAX = 16; // beyond this many units a station is drawn as a cluster

export async function fetchFleetHealth(): Promise<StationHealth[]> {
  return shared('fleet-health', async () => {
    return rows<StationHealth>(
      `SELECT c.station_id, COALESCE(l.health_status, 'unknown') AS health_status, COUNT(*)::int AS units,
              MAX(l.hour_start) AS newest,
              CASE WHEN SUM(COUNT(*)) OVER (PARTITION BY c.station_id) <= $1
                   THEN array_agg(c.compressor_id ORDER BY c.compressor_id) END AS ids
         FROM compressors c ${LATEST}
        GROUP BY c.station_id, COALESCE(l.health_status, 'unknown')
        ORDER BY c.station_id`,
      [MAP_DOTS_MAX],
    );
  });
}

/** Values the fleet filters offer: stations, basins and models that exist. */
export async function fetchFleetFacets(): Promise<{ stations: Station[]; basins: string[]; models: string[] }> {
  return shared('fleet-facets', async () => {
    const [stations, models] = await Promise.all([
      fetchStations(),
      rows<{ model: string }>(`SELECT DISTINCT model FROM compressors ORDER BY model`),
    ]);
    return { stations, basins: [...new Set(stations.map((s) => s.basin))].sort(), models: models.map((m) => m.model) };
  });
}

/** Counts per health colour, alert counts, newest data and the last pipeline run. */
export async function fetchFleetKpis(health?: StationHealth[]): Promise<FleetKpis> {
  const [groups, alerts, lastRun] = await Promise.all([
    health ?? fetchFleetHealth(),
    shared('active-alert-counts', () => one<Pick<FleetKpis, 'active_alerts' | 'critical_alerts' | 'unacknowledged_alerts'>>(
      `SELECT COUNT(*) AS active_alerts,
              COUNT(*) FILTER (WHERE a.current_severity = 'critical') AS critical_alerts,
              COUNT(*) FILTER (WHERE a.status = 'open') AS unacknowledged_alerts
         FROM alerts a WHERE ${ACTIVE}`,
    )),
    shared('last-run', () => one<PipelineRun>(
      `SELECT run_id, status, started_at, finished_at, duration_s FROM pipeline_runs ORDER BY started_at DESC LIMIT 1`,
    )),
  ]);
  const count = (h?: Health) => groups.filter((g) => !h || g.health_status === h).reduce((n, g) => n + g.units, 0);
  const newest = groups.reduce<string | null>((m, g) => (g.newest && (!m || g.newest > m) ? g.newest : m), null);
  return {
    compressors: count(), healthy: count('normal'), warning: count('warning'), critical: count('critical'), down: count('down'),
    unknown: count('unknown'), newest_reading: newest,
    active_alerts: alerts?.active_alerts ?? 0, critical_alerts: alerts?.critical_alerts ?? 0,
    unacknowledged_alerts: alerts?.unacknowledged_alerts ?? 0, last_run: lastRun,
  };
}

export async function fetchCompressor(compressorId: string): Promise<CompressorSnapshot | null> {
  const list = await rows<SnapshotRow>(
    `SELECT c.compressor_id, c.station_id, c.model, c.rated_horsepower, c.install_date,
            s.station_name, s.basin, s.city, s.latitude, s.longitude,
            COALESCE(l.health_status, 'unknown') AS health_status, ${LATEST_OUT}, ${RISK_OUT},
            (SELECT COUNT(*)::int FROM alerts a WHERE a.compressor_id = c.compressor_id AND ${ACTIVE}) AS active_alerts,
            (SELECT COUNT(*)::int FROM alerts a WHERE a.compressor_id = c.compressor_id AND ${ACTIVE}
                AND a.current_severity = 'critical') AS critical_alerts
       FROM compressors c
       JOIN stations s ON s.station_id = c.station_id
       ${LATEST}
       ${RISK}
      WHERE c.compressor_id = $1`,
    [compressorId],
  );
  return list[0] ? toSnapshot(list[0]) : null;
}

export async function compressorExists(compressorId: string): Promise<boolean> {
  return Boolean(await one(`SELECT 1 AS x FROM compressors WHERE compressor_id = $1`, [compressorId]));
}

const WORST = (col: string) => `(ARRAY['normal','warning','critical'])[MAX(CASE h.${col} WHEN 'critical' THEN 3
  WHEN 'warning' THEN 2 ELSE 1 END)]`;

/**
 * A window of one compressor's readings in buckets of whole hours, and the rows `select` makes of
 * them: `range` is anchored at the compressor's newest hour (in the same round trip: each one is a
 * wait for a scheduler slot on a busy host), `from`/`to` are taken as given. The bucket is the
 * smallest whole number of hours that keeps the window within `points` buckets.
 */
async function inWindow<R extends object>(
  compressorId: string,
  q: ReadingsQuery,
  select: (from: string, to: string, bucket: string) => string,
  orderBy: string | null,
): Promise<{ from: string | null; to: string | null; bucket_hours: number; rows: R[] }> {
  const hours = RANGE_PRESETS[q.range ?? '7d'];
  if (!q.from && !q.to) {
    const bucket = Math.max(1, Math.ceil(hours / q.points));
    const list = await rows<R & { range_from: string | null; range_to: string | null }>(
      `WITH span AS (
         SELECT MAX(hour_start) + interval '1 hour' AS t_to FROM hourly_readings WHERE compressor_id = $1
       ), b AS (SELECT t_to - make_interval(hours => $2) AS t_from, t_to FROM span)
       SELECT b.t_from AS range_from, b.t_to AS range_to, r.*
         FROM b LEFT JOIN LATERAL (${select('b.t_from', 'b.t_to', '$3')}) r ON true
       ${orderBy ? `ORDER BY r.${orderBy}` : ''}`,
      [compressorId, hours, bucket],
    );
    const first = list[0];
    if (!first?.range_from || !first.range_to) return { from: null, to: null, bucket_hours: 1, rows: [] };
    return { from: first.range_from, to: first.range_to, bucket_hours: bucket, rows: list.map(({ range_from: _f, range_to: _t, ...r }) => r as unknown as R) };
  }
  const newest = await one<{ newest: string | null }>(
    `SELECT MAX(hour_start) AS newest FROM hourly_readings WHERE compressor_id = $1`,
    [compressorId],
  );
  if (!newest?.newest) return { from: null, to: null, bucket_hours: 1, rows: [] };
  const to = q.to ?? new Date(q.from!.getTime() + hours * 3_600_000);
  const from = q.from ?? new Date(to.getTime() - hours * 3_600_000);
  const bucket = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 3_600_000 / q.points));
  const list = await rows<R>(select('$2::timestamptz', '$3', '$4'), [compressorId, from, to, bucket]);
  return { from: from.toISOString(), to: to.toISOString(), bucket_hours: bucket, rows: list };
}

/**
 * Readings for one compressor, downsampled in SQL to at most `points` buckets of whole hours: per
 * bucket the mean of the hourly means, the extreme of the hourly extremes (so a one-hour spike
 * survives), the worst status, and the model's worst risk and shortest RUL. A week at the default
 * 600 points is one bucket per hour. Anchoring a preset at the newest hour rather than at now() keeps
 * a fleet whose pipeline ran days ago showing its data.
 */
export async function fetchHourlyReadings(compressorId: string, q: ReadingsQuery) {
  const { rows: list, ...window } = await inWindow<ChartReading & { bucket_start: unknown }>(
    compressorId, q, (from, to, bucket) => bucketedReadings(from, to, bucket, ALL_SQL), 'bucket_start');
  const readings = list[0]?.bucket_start == null ? [] : list.map(({ bucket_start: _b, ...r }) => r as ChartReading);
  return { ...window, readings };
}

/**
 * What the detail page's charts draw, in one round trip: the same buckets as series, as one JSON text
 * built by PostgreSQL (`ChartSeries`: `times`, bucket starts in seconds since the epoch, and one array
 * per series key), and the alert episodes overlapping the window. Node only copies the string instead
 * of parsing 540 rows of 13 numbers and serializing them again. Values are rounded to three decimals:
 * finer than the readout (two) and than a pixel of any chart's axis.
 */
export async function fetchChartSeries(compressorId: string, q: ReadingsQuery) {
  const { rows: list, ...window } = await inWindow<{
    points: number | null; scored: boolean | null; series: string | null; episodes: Episode[] | null;
  }>(
    compressorId, q, (from, to, bucket) => `SELECT COUNT(*)::int AS points, BOOL_OR(r.failure_probability_72h IS NOT NULL) AS scored,
         (SELECT json_agg(json_build_object('sensor', a.sensor, 'severity', a.severity,
                   'start', EXTRACT(EPOCH FROM a.opened_at)::float8,
                   'end', EXTRACT(EPOCH FROM CASE WHEN ${ACTIVE} THEN ${to}
                                                  ELSE COALESCE(a.cleared_at, a.resolved_at, a.last_reading_at, ${to}) END)::float8)
                   ORDER BY a.opened_at)
            FROM alerts a
           WHERE a.compressor_id = $1 AND a.opened_at < ${to}
             AND (${ACTIVE} OR COALESCE(a.cleared_at, a.resolved_at, a.last_reading_at) >= ${from})) AS episodes,
         json_build_object('times', ${jsonArray('EXTRACT(EPOCH FROM r.bucket_start)::float8')}, 'columns', json_build_object(
           ${Object.entries(CHART_SERIES).map(([key, e]) => `'${key}', ${jsonArray(`ROUND((${e}) * 1000) / 1000`)}`).join(',\n           ')}
         ))::text AS series
       FROM (${bucketedReadings(from, to, bucket, CHART_SQL)}) r`, null);
  const r = list[0];
  return { ...window, points: r?.points ?? 0, scored: Boolean(r?.scored), series: r?.series ?? EMPTY_SERIES, episodes: r?.episodes ?? [] };
}

const EMPTY_SERIES = JSON.stringify({ times: [], columns: {} } satisfies ChartSeries);

// Compact JSON (json_agg would put a space after every comma), [] for no rows.
const jsonArray = (e: string) => `COALESCE(array_to_json(array_agg(${e} ORDER BY r.bucket_start)), '[]'::json)`;

const CHART_SQL = `AVG(h.vibration_mean) AS vibration_mean, MAX(h.vibration_max) AS vibration_max,
            AVG(h.discharge_temp_mean) AS discharge_temp_mean, MAX(h.discharge_temp_max) AS discharge_temp_max,
            AVG(h.discharge_pressure_mean) AS discharge_pressure_mean, MAX(h.discharge_pressure_max) AS discharge_pressure_max,
            AVG(h.suction_pressure_mean) AS suction_pressure_mean, MIN(h.suction_pressure_min) AS suction_pressure_min,
            AVG(h.horsepower_mean) AS horsepower_mean, AVG(h.gas_flow_mean) AS gas_flow_mean`;

// The series the detail page's charts draw, by the key its panels name (reading-charts.tsx): the
// aggregates above, the model's shortest RUL, and its worst risk as a percentage.
const CHART_SERIES: Record<string, string> = {
  ...Object.fromEntries([
    'vibration_mean', 'vibration_max', 'discharge_temp_mean', 'discharge_temp_max', 'discharge_pressure_mean',
    'discharge_pressure_max', 'suction_pressure_mean', 'suction_pressure_min', 'horsepower_mean', 'gas_flow_mean', 'rul_hours',
  ].map((k) => [k, `r.${k}`])),
  [RISK_PCT]: 'r.failure_probability_72h * 100',
};

const ALL_SQL = `MIN(h.compressor_id) AS compressor_id, BUCKET AS hour_start, SUM(h.reading_count)::int AS reading_count,
            ${CHART_SQL}, AVG(h.pressure_differential_mean) AS pressure_differential_mean,
            ${WORST('vibration_status')} AS vibration_status, ${WORST('temp_status')} AS temp_status,
            ${WORST('pressure_status')} AS pressure_status, ${WORST('health_status')} AS health_status`;

/**
 * One compressor's ($1) hourly rows in [from, to) in buckets of `bucket` hours starting at `from`
 * (`aggregates` per bucket; BUCKET stands for the bucket's start), with the model's worst risk and
 * shortest RUL per bucket, ordered by `bucket_start`. Readings and predictions are bucketed apart and
 * the buckets joined: joining hour to hour first probed the predictions index once per hour (2,160
 * probes for 90 days).
 */
function bucketedReadings(from: string, to: string, bucket: string, aggregates: string): string {
  const start = (t: string) => `date_bin(make_interval(hours => ${bucket}), ${t}.hour_start, ${from})`;
  const inRange = (t: string) => `${t}.compressor_id = $1 AND ${t}.hour_start >= ${from} AND ${t}.hour_start < ${to}`;
  return `SELECT hb.*, pb.failure_probability_72h, pb.rul_hours
       FROM (SELECT ${start('h')} AS bucket_start, ${aggregates.replace('BUCKET', start('h'))} FROM hourly_readings h WHERE ${inRange('h')}
              GROUP BY 1) hb
       LEFT JOIN (SELECT ${start('p')} AS bucket_start, MAX(p.failure_probability_72h) AS failure_probability_72h,
                         MIN(p.rul_hours) AS rul_hours
                    FROM predictions p WHERE ${inRange('p')} GROUP BY 1) pb ON pb.bucket_start = hb.bucket_start
      ORDER BY hb.bucket_start`;
}

function alertWhere(f: Partial<AlertFilters>): { where: string; values: unknown[] } {
  const values: unknown[] = [];
  const clauses: string[] = [];
  const add = (sql: (p: string) => string, v: unknown) => {
    values.push(v);
    clauses.push(sql(`$${values.length}`));
  };
  if (f.severity) add((p) => `a.severity = ${p}`, f.severity);
  if (f.status) add((p) => `a.status = ${p}`, f.status);
  if (f.compressor) add((p) => `a.compressor_id = ${p}`, f.compressor);
  if (f.station) add((p) => `c.station_id = ${p}`, f.station);
  if (f.active !== undefined) add((p) => `(${ACTIVE}) = ${p}`, f.active);
  if (f.from) add((p) => `a.opened_at >= ${p}`, f.from);
  if (f.to) add((p) => `a.opened_at < ${p}`, f.to);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

// Newest first, but unresolved before resolved and critical before warning within the same hour.
const ALERT_ORDER = `ORDER BY a.opened_at DESC, CASE a.status WHEN 'resolved' THEN 1 ELSE 0 END,
  CASE a.severity WHEN 'critical' THEN 0 ELSE 1 END, a.alert_id`;

export async function fetchAlerts(f: AlertFilters): Promise<Page<Alert>> {
  const { where, values } = alertWhere(f);
  const n = values.length;
  const list = await rows<Alert & { total: number }>(
    `SELECT ${ALERT_COLUMNS}, COUNT(*) OVER () AS total
       FROM alerts a JOIN compressors c ON c.compressor_id = a.compressor_id
       ${where} ${ALERT_ORDER}
      LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...values, f.page_size, (f.page - 1) * f.page_size],
  );
  let total = list[0]?.total ?? 0;
  if (!list.length && f.page > 1) {
    // Past the last page: still report how many there are, so the pager can lead back.
    total = (await one<{ n: number }>(`SELECT COUNT(*) AS n FROM alerts a JOIN compressors c
      ON c.compressor_id = a.compressor_id ${where}`, values))?.n ?? 0;
  }
  return { rows: list.map(({ total: _t, ...a }) => a), total, page: f.page, page_size: f.page_size };
}

export async function fetchNewestActiveAlerts(limit = 8): Promise<Alert[]> {
  return shared(`newest-alerts:${limit}`, async () => {
    return rows<Alert>(
      `SELECT ${ALERT_COLUMNS} FROM alerts a JOIN compressors c ON c.compressor_id = a.compressor_id
        WHERE ${ACTIVE}
        ORDER BY CASE a.current_severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                 a.last_reading_at DESC, a.alert_id
        LIMIT $1`,
      [limit],
    );
  });
}

export async function fetchAlert(alertId: string): Promise<Alert | null> {
  return one<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM alerts a JOIN compressors c ON c.compressor_id = a.compressor_id WHERE a.alert_id = $1`,
    [alertId],
  );
}

export async function fetchAlertEvents(alertId: string): Promise<AlertEvent[]> {
  return rows<AlertEvent>(
    `SELECT event_id, alert_id, action, actor, note, created_at FROM alert_events
      WHERE alert_id = $1 ORDER BY created_at DESC, event_id DESC`,
    [alertId],
  );
}

export async function fetchCompressorAlertHistory(compressorId: string, limit = 50): Promise<Alert[]> {
  return rows<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM alerts a JOIN compressors c ON c.compressor_id = a.compressor_id
      WHERE a.compressor_id = $1 ${ALERT_ORDER} LIMIT $2`,
    [compressorId, limit],
  );
}

export async function fetchPipelineRuns(limit = 20): Promise<PipelineRunWithSteps[]> {
  return shared(`pipeline-runs:${limit}`, async () => {
    const runs = await rows<PipelineRun>(
      `SELECT run_id, status, started_at, finished_at, duration_s FROM pipeline_runs ORDER BY started_at DESC LIMIT $1`,
      [limit],
    );
    if (!runs.length) return [];
    const steps = await rows<PipelineRunStep>(
      `SELECT run_id, step, status, started_at, finished_at, duration_s, rows_in, rows_out, detail
         FROM pipeline_run_steps WHERE run_id = ANY($1::text[]) ORDER BY started_at, step`,
      [runs.map((r) => r.run_id)],
    );
    return runs.map((r) => ({ ...r, steps: steps.filter((s) => s.run_id === r.run_id) }));
  });
}

/** Quality metrics of the newest `runs` runs (by measurement time), oldest first for trend lines. */
export async function fetchQualityMetrics(runs = 30): Promise<QualityMetric[]> {
  return shared(`quality-metrics:${runs}`, async () => {
    return rows<QualityMetric>(
      `WITH recent AS (
         SELECT run_id, MAX(measured_at) AS at FROM data_quality_metrics GROUP BY run_id ORDER BY at DESC LIMIT $1
       )
       SELECT m.run_id, m.table_name, m.metric, m.metric_value, m.measured_at
         FROM data_quality_metrics m JOIN recent r ON r.run_id = m.run_id
        ORDER BY r.at, m.table_name, m.metric`,
      [runs],
    );
  });
}

export async function fetchQuarantineCounts(runs = 30): Promise<QuarantineRuleCount[]> {
  return shared(`quarantine-counts:${runs}`, async () => {
    return rows<QuarantineRuleCount>(
      `WITH recent AS (
         SELECT run_id, MAX(measured_at) AS at FROM quarantine_rule_counts GROUP BY run_id ORDER BY at DESC LIMIT $1
       )
       SELECT q.run_id, q.rule, q.failed_rows, q.measured_at
         FROM quarantine_rule_counts q JOIN recent r ON r.run_id = q.run_id
        ORDER BY r.at, q.rule`,
      [runs],
    );
  });
}
