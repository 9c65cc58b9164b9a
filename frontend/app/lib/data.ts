import { connection } from 'next/server';
import { query, SchemaMissingError } from './db';
import type {
  Alert, AlertEvent, CompressorSnapshot, FleetKpis, HourlyReading, Page, PipelineRun, PipelineRunStep,
  PipelineRunWithSteps, QualityMetric, QuarantineRuleCount, SensorThreshold, Station,
} from './definitions';
import { RANGE_PRESETS, type AlertFilters, type FleetFilters, type ReadingsQuery } from './validation';

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

async function one<R extends object>(text: string, values: unknown[] = []): Promise<R | null> {
  return (await rows<R>(text, values))[0] ?? null;
}

const READING_COLUMNS = `h.compressor_id, h.hour_start, h.reading_count, h.vibration_mean, h.vibration_max,
  h.discharge_temp_mean, h.discharge_temp_max, h.suction_pressure_mean, h.suction_pressure_min,
  h.discharge_pressure_mean, h.discharge_pressure_max, h.pressure_differential_mean, h.horsepower_mean,
  h.gas_flow_mean, h.vibration_status, h.temp_status, h.pressure_status, h.health_status`;

const ALERT_COLUMNS = `a.alert_id, a.compressor_id, c.station_id, a.sensor, a.severity, a.current_severity, a.is_active,
  a.opened_at, a.escalated_at, a.cleared_at, a.last_reading_at, a.threshold_value, a.peak_value, a.last_value,
  a.reading_count, a.status, a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.operator_note`;

// Same rule as the view v_active_alerts: the condition is present and nobody resolved it.
const ACTIVE = `a.is_active AND a.status <> 'resolved'`;

export async function fetchThresholds(): Promise<SensorThreshold[]> {
  return rows<SensorThreshold>(`SELECT sensor, direction, warning, critical, unit FROM sensor_thresholds ORDER BY sensor`);
}

export async function fetchStations(): Promise<Station[]> {
  return rows<Station>(
    `SELECT station_id, station_name, basin, city, latitude, longitude FROM stations ORDER BY station_id`,
  );
}

export async function fetchCompressorIds(): Promise<{ compressor_id: string; station_id: string }[]> {
  return rows(`SELECT compressor_id, station_id FROM compressors ORDER BY compressor_id`);
}

type SnapshotRow = Omit<CompressorSnapshot, 'latest'> & { latest: HourlyReading | null };

/**
 * Every compressor with its newest hour and open-alert counts. The newest hour comes from a LATERAL
 * index probe on the (compressor_id, hour_start) primary key rather than v_latest_readings, whose
 * ROW_NUMBER() over all of hourly_readings costs a full scan and sort (seconds at 2M rows).
 */
export async function fetchFleetSnapshot(filters: FleetFilters = {}, limit = 100_000): Promise<CompressorSnapshot[]> {
  return rows<SnapshotRow>(
    `SELECT c.compressor_id, c.station_id, c.model, c.rated_horsepower, c.install_date,
            s.station_name, s.basin, s.city, s.latitude, s.longitude,
            COALESCE(l.health_status, 'unknown') AS health_status,
            to_jsonb(l) AS latest,
            COALESCE(a.active_alerts, 0)::int AS active_alerts,
            COALESCE(a.critical_alerts, 0)::int AS critical_alerts
       FROM compressors c
       JOIN stations s ON s.station_id = c.station_id
       LEFT JOIN LATERAL (
         SELECT ${READING_COLUMNS} FROM hourly_readings h
          WHERE h.compressor_id = c.compressor_id ORDER BY h.hour_start DESC LIMIT 1
       ) l ON true
       LEFT JOIN (
         SELECT a.compressor_id, COUNT(*) AS active_alerts,
                COUNT(*) FILTER (WHERE a.current_severity = 'critical') AS critical_alerts
           FROM alerts a WHERE ${ACTIVE} GROUP BY a.compressor_id
       ) a ON a.compressor_id = c.compressor_id
      WHERE ($1::text IS NULL OR c.station_id = $1)
        AND ($2::text IS NULL OR COALESCE(l.health_status, 'unknown') = $2)
      ORDER BY CASE COALESCE(l.health_status, 'unknown') WHEN 'critical' THEN 0 WHEN 'warning' THEN 1
                    WHEN 'unknown' THEN 2 ELSE 3 END, c.compressor_id
      LIMIT $3`,
    [filters.station ?? null, filters.health ?? null, limit],
  ).then((list) => list.map(normalizeSnapshot));
}

// to_jsonb() renders timestamps in the session zone with an offset; normalise to ISO UTC like the type parser.
function normalizeSnapshot(r: SnapshotRow): CompressorSnapshot {
  return r.latest ? { ...r, latest: { ...r.latest, hour_start: new Date(r.latest.hour_start).toISOString() } } : r;
}

/** Counts per health colour (same LATERAL trick), alert counts, newest data and the last pipeline run. */
export async function fetchFleetKpis(): Promise<FleetKpis> {
  const [counts, lastRun] = await Promise.all([
    one<Omit<FleetKpis, 'last_run'>>(
      `WITH latest AS (
         SELECT c.compressor_id, l.health_status, l.hour_start
           FROM compressors c
           LEFT JOIN LATERAL (SELECT h.health_status, h.hour_start FROM hourly_readings h
                               WHERE h.compressor_id = c.compressor_id ORDER BY h.hour_start DESC LIMIT 1) l ON true
       )
       SELECT (SELECT COUNT(*) FROM latest) AS compressors,
              (SELECT COUNT(*) FROM latest WHERE health_status = 'normal') AS healthy,
              (SELECT COUNT(*) FROM latest WHERE health_status = 'warning') AS warning,
              (SELECT COUNT(*) FROM latest WHERE health_status = 'critical') AS critical,
              (SELECT COUNT(*) FROM latest WHERE health_status IS NULL) AS unknown,
              (SELECT MAX(hour_start) FROM latest) AS newest_reading,
              (SELECT COUNT(*) FROM alerts a WHERE ${ACTIVE}) AS active_alerts,
              (SELECT COUNT(*) FROM alerts a WHERE ${ACTIVE} AND a.current_severity = 'critical') AS critical_alerts,
              (SELECT COUNT(*) FROM alerts a WHERE ${ACTIVE} AND a.status = 'open') AS unacknowledged_alerts`,
    ),
    one<PipelineRun>(
      `SELECT run_id, status, started_at, finished_at, duration_s FROM pipeline_runs ORDER BY started_at DESC LIMIT 1`,
    ),
  ]);
  const empty = { compressors: 0, healthy: 0, warning: 0, critical: 0, unknown: 0, active_alerts: 0,
    critical_alerts: 0, unacknowledged_alerts: 0, newest_reading: null };
  return { ...(counts ?? empty), last_run: lastRun };
}

export async function fetchCompressor(compressorId: string): Promise<CompressorSnapshot | null> {
  const list = await rows<SnapshotRow>(
    `SELECT c.compressor_id, c.station_id, c.model, c.rated_horsepower, c.install_date,
            s.station_name, s.basin, s.city, s.latitude, s.longitude,
            COALESCE(l.health_status, 'unknown') AS health_status, to_jsonb(l) AS latest,
            (SELECT COUNT(*)::int FROM alerts a WHERE a.compressor_id = c.compressor_id AND ${ACTIVE}) AS active_alerts,
            (SELECT COUNT(*)::int FROM alerts a WHERE a.compressor_id = c.compressor_id AND ${ACTIVE}
                AND a.current_severity = 'critical') AS critical_alerts
       FROM compressors c
       JOIN stations s ON s.station_id = c.station_id
       LEFT JOIN LATERAL (SELECT ${READING_COLUMNS} FROM hourly_readings h
                           WHERE h.compressor_id = c.compressor_id ORDER BY h.hour_start DESC LIMIT 1) l ON true
      WHERE c.compressor_id = $1`,
    [compressorId],
  );
  return list[0] ? normalizeSnapshot(list[0]) : null;
}

/**
 * Hourly rows for one compressor. A preset range is anchored at the compressor's newest hour rather
 * than at now(), so a fleet whose data stopped arriving still shows its last days (the freshness KPI
 * is what flags the gap).
 */
export async function fetchHourlyReadings(
  compressorId: string,
  q: ReadingsQuery,
): Promise<{ from: string | null; to: string | null; readings: HourlyReading[] }> {
  let from = q.from ?? null;
  let to = q.to ?? null;
  if (!from || !to) {
    const newest = await one<{ newest: string | null }>(
      `SELECT MAX(hour_start) AS newest FROM hourly_readings WHERE compressor_id = $1`,
      [compressorId],
    );
    if (!newest?.newest) return { from: null, to: null, readings: [] };
    const hours = RANGE_PRESETS[q.range ?? '7d'];
    if (!to) to = from ? new Date(from.getTime() + hours * 3_600_000) : new Date(new Date(newest.newest).getTime() + 3_600_000);
    if (!from) from = new Date(to.getTime() - hours * 3_600_000);
  }
  const readings = await rows<HourlyReading>(
    `SELECT ${READING_COLUMNS} FROM hourly_readings h
      WHERE h.compressor_id = $1 AND h.hour_start >= $2 AND h.hour_start < $3
      ORDER BY h.hour_start`,
    [compressorId, from, to],
  );
  return { from: from.toISOString(), to: to.toISOString(), readings };
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
  return rows<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM alerts a JOIN compressors c ON c.compressor_id = a.compressor_id
      WHERE ${ACTIVE}
      ORDER BY CASE a.current_severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
               a.last_reading_at DESC, a.alert_id
      LIMIT $1`,
    [limit],
  );
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
}

/** Quality metrics of the newest `runs` runs (by measurement time), oldest first for trend lines. */
export async function fetchQualityMetrics(runs = 30): Promise<QualityMetric[]> {
  return rows<QualityMetric>(
    `WITH recent AS (
       SELECT run_id, MAX(measured_at) AS at FROM data_quality_metrics GROUP BY run_id ORDER BY at DESC LIMIT $1
     )
     SELECT m.run_id, m.table_name, m.metric, m.metric_value, m.measured_at
       FROM data_quality_metrics m JOIN recent r ON r.run_id = m.run_id
      ORDER BY r.at, m.table_name, m.metric`,
    [runs],
  );
}

export async function fetchQuarantineCounts(runs = 30): Promise<QuarantineRuleCount[]> {
  return rows<QuarantineRuleCount>(
    `WITH recent AS (
       SELECT run_id, MAX(measured_at) AS at FROM quarantine_rule_counts GROUP BY run_id ORDER BY at DESC LIMIT $1
     )
     SELECT q.run_id, q.rule, q.failed_rows, q.measured_at
       FROM quarantine_rule_counts q JOIN recent r ON r.run_id = q.run_id
      ORDER BY r.at, q.rule`,
    [runs],
  );
}
