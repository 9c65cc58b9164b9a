#!/usr/bin/env node
// Bulk-generate a benchmark fleet into its own database (default: altaviz_bench on the same server),
// leaving the pipeline's database untouched: 1,000 compressors x 90 days of hourly rows = 2,160,000
// hourly_readings rows and as many hourly predictions, plus alerts, audit events, pipeline runs and
// quality metrics at matching scale.
// All generation happens in PostgreSQL with generate_series (no rows cross the wire).
//
//   node scripts/bench-seed.mjs [--compressors 1000] [--days 90] [--stations 40] [--database altaviz_bench]
// The server is found like the dashboard finds it (DATABASE_URL or $ALTAVIZ_HOME/state/database.json).
// Prints the DATABASE_URL to benchmark against.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectionConfig, REFRESH_LATEST_READINGS, schemaSql } from './db-config.mjs';

const { values: args } = parseArgs({
  options: {
    compressors: { type: 'string', default: '1000' },
    days: { type: 'string', default: '90' },
    stations: { type: 'string', default: '40' },
    database: { type: 'string', default: 'altaviz_bench' },
  },
});
const N = Number(args.compressors);
const DAYS = Number(args.days);
const STATIONS = Number(args.stations);
const DB = args.database;
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(DB)) throw new Error('--database must be a plain lower-case identifier');
if (!(N > 0 && N <= 100_000 && DAYS > 0 && DAYS <= 3660 && STATIONS > 0 && STATIONS <= 999)) {
  throw new Error('--compressors 1..100000, --days 1..3660, --stations 1..999');
}

const base = connectionConfig();
const admin = new pg.Client(base);
await admin.connect();
// CREATE DATABASE takes no parameters; DB is checked against a strict identifier pattern above.
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
await admin.end();

const target = base.connectionString
  ? { connectionString: withDatabase(base.connectionString, DB) }
  : { ...base, database: DB };
const db = new pg.Client(target);
await db.connect();
const t0 = Date.now();
const step = async (label, sql, params = []) => {
  const s = Date.now();
  const r = await db.query(sql, params);
  console.log(`${label.padEnd(28)} ${String(r.rowCount ?? '').padStart(10)} rows  ${((Date.now() - s) / 1000).toFixed(1)} s`);
};

await db.query(schemaSql());
// Bulk load: no WAL fsync waits for this throwaway database.
await db.query(`SET synchronous_commit = off`);
// Skip per-row foreign-key triggers: every key is generated from the parent rows just inserted.
await db.query(`SET session_replication_role = replica`);
await step('sensor_thresholds', `INSERT INTO sensor_thresholds (sensor, direction, warning, critical, unit) VALUES
  ('vibration_mms','high',4.5,7.1,'mm/s'), ('discharge_temp_f','high',330,350,'°F'),
  ('discharge_pressure_psi','high',1300,1400,'psi'), ('suction_pressure_psi','low',30,20,'psi')`);
// Stations spread over four basin hubs, scattered within ~1 degree of each.
await step('stations', `
  INSERT INTO stations (station_id, station_name, basin, city, latitude, longitude)
  SELECT format('STN-%s', lpad(i::text, 3, '0')), format('%s Station %s', h.city, (i - 1) / 4 + 1), h.basin, h.city,
         h.lat + (((i * 37) % 100) / 100.0 - 0.5) * 1.6, h.lon + (((i * 61) % 100) / 100.0 - 0.5) * 1.6
    FROM generate_series(1, $1::int) i
    JOIN (VALUES (0, 'Midland', 'Permian', 31.9973, -102.0779), (1, 'Karnes City', 'Eagle Ford', 28.8850, -97.9006),
                 (2, 'Carthage', 'Haynesville', 32.1574, -94.3374), (3, 'Decatur', 'Barnett', 33.2343, -97.5861)) h(k, city, basin, lat, lon)
      ON h.k = (i - 1) % 4`, [STATIONS]);
await step('compressors', `
  INSERT INTO compressors (compressor_id, station_id, model, rated_horsepower, install_date)
  SELECT format('COMP-%s', lpad(i::text, 4, '0')), format('STN-%s', lpad((((i - 1) % $2::int) + 1)::text, 3, '0')),
         (ARRAY['Ariel JGK/4','Ajax DPC-360','Caterpillar G3516','Waukesha 7042GSI'])[((i - 1) % 4) + 1],
         (ARRAY[1480,1340,1380,1480])[((i - 1) % 4) + 1], DATE '2015-01-01' + (i % 3000)
    FROM generate_series(1, $1::int) i`, [N, STATIONS]);
// Every 50th unit degrades over its last 10 days (2 % of the fleet), so statuses and alerts are realistic.
await step('hourly_readings', `
  WITH base AS (
    SELECT c.compressor_id, c.n AS unit, t AS hour_start,
           extract(epoch FROM (date_trunc('hour', now()) - t)) / 86400.0 AS age_d,
           (hashint8(c.n * 100003 + extract(epoch FROM t)::bigint / 3600) & 65535) / 65535.0 AS r
      FROM (SELECT compressor_id, row_number() OVER (ORDER BY compressor_id) AS n FROM compressors) c,
           generate_series(date_trunc('hour', now()) - make_interval(days => $1::int), date_trunc('hour', now()) - interval '1 hour', interval '1 hour') t
  ), v AS (
    SELECT *, CASE WHEN unit % 50 = 3 AND age_d < 10 THEN (10 - age_d) / 10.0 ELSE 0 END AS deg FROM base
  ), s AS (
    SELECT *, 2.2 + 0.4 * r + 7 * deg * deg AS vib, 250 + 10 * r + 120 * deg AS temp,
           1100 + 60 * sin(age_d * 6.283) + 30 * r AS dp, 55 + 8 * cos(age_d * 6.283) + 4 * r AS sp
      FROM v
  ), st AS (
    SELECT *, CASE WHEN vib >= 7.1 THEN 'critical' WHEN vib >= 4.5 THEN 'warning' ELSE 'normal' END AS vs,
              CASE WHEN temp >= 350 THEN 'critical' WHEN temp >= 330 THEN 'warning' ELSE 'normal' END AS ts,
              CASE WHEN dp >= 1400 OR sp <= 20 THEN 'critical' WHEN dp >= 1300 OR sp <= 30 THEN 'warning' ELSE 'normal' END AS ps
      FROM s
  )
  INSERT INTO hourly_readings (compressor_id, hour_start, reading_count, vibration_mean, vibration_max, discharge_temp_mean,
    discharge_temp_max, suction_pressure_mean, suction_pressure_min, discharge_pressure_mean, discharge_pressure_max,
    pressure_differential_mean, horsepower_mean, gas_flow_mean, vibration_status, temp_status, pressure_status, health_status)
  SELECT compressor_id, hour_start, 6, vib, vib * 1.1, temp, temp + 4, sp, sp - 3, dp, dp + 20, dp - sp,
         1150 + 80 * r, 8200 + 500 * r, vs, ts, ps,
         CASE WHEN 'critical' IN (vs, ts, ps) THEN 'critical' WHEN 'warning' IN (vs, ts, ps) THEN 'warning' ELSE 'normal' END
    FROM st`, [DAYS]);
await step('latest_readings (as 05_publish)', REFRESH_LATEST_READINGS);
// 07_score scores every unit-hour, so the serving predictions table is as large as hourly_readings:
// the fleet pages' newest risk per unit and the charts' risk and RUL series read it at that size.
await step('predictions', `
  INSERT INTO predictions (compressor_id, hour_start, failure_probability_72h, rul_hours, model_name, model_version, scored_at)
  SELECT compressor_id, hour_start, LEAST(0.98, GREATEST(0.01, (vibration_mean - 2.3) / 5.5)),
         GREATEST(0, 336 - 60 * (vibration_mean - 2.3)), 'altaviz_compressor_failure', '3', hour_start + interval '70 minutes'
    FROM hourly_readings`);
// Three historical (resolved) episodes per unit plus live ones for the degrading units.
await step('alerts', `
  INSERT INTO alerts (alert_id, compressor_id, sensor, severity, current_severity, is_active, opened_at, cleared_at,
    last_reading_at, threshold_value, peak_value, last_value, reading_count, status, resolved_at, resolved_by, operator_note)
  SELECT format('%s:%s:%s:%s', c.compressor_id, sn.sensor, sev, k), c.compressor_id, sn.sensor, sev, 'normal', false,
         now() - make_interval(days => (k * 23 + length(c.compressor_id)) % $1::int + 1), now() - make_interval(days => (k * 23) % $1::int),
         now() - make_interval(days => (k * 23) % $1::int), CASE sev WHEN 'critical' THEN 7.1 ELSE 4.5 END, 6.0, 3.0, 24,
         'resolved', now() - make_interval(days => (k * 23) % $1::int), 'bench', 'historical episode'
    FROM compressors c, generate_series(1, 3) k,
         LATERAL (SELECT (ARRAY['vibration_mms','discharge_temp_f','discharge_pressure_psi'])[k] AS sensor) sn,
         LATERAL (SELECT CASE WHEN k = 2 THEN 'critical' ELSE 'warning' END AS sev) sv
  UNION ALL
  SELECT format('%s:vibration_mms:%s:live', h.compressor_id, h.vibration_status), h.compressor_id, 'vibration_mms', h.vibration_status,
         h.vibration_status, true, now() - interval '3 days', NULL, h.hour_start, CASE h.vibration_status WHEN 'critical' THEN 7.1 ELSE 4.5 END,
         h.vibration_max, h.vibration_mean, 432, 'open', NULL, NULL, NULL
    FROM hourly_readings h
   WHERE h.hour_start = date_trunc('hour', now()) - interval '1 hour' AND h.vibration_status <> 'normal'`, [DAYS]);
await step('alert_events', `INSERT INTO alert_events (alert_id, action, actor, note, created_at)
  SELECT alert_id, 'resolve', 'bench', 'historical episode', resolved_at FROM alerts WHERE status = 'resolved'`);
await step('pipeline_runs', `INSERT INTO pipeline_runs (run_id, status, started_at, finished_at, duration_s)
  SELECT format('bench-%s', lpad(d::text, 3, '0')), 'succeeded', now() - make_interval(days => d) - interval '300 seconds', now() - make_interval(days => d), 300
    FROM generate_series(0, $1::int - 1) d`, [DAYS]);
await step('pipeline_run_steps', `INSERT INTO pipeline_run_steps
  SELECT r.run_id, s.step, 'succeeded', r.started_at + make_interval(secs => s.k * 60), r.started_at + make_interval(secs => s.k * 60 + 60), 60,
         CASE WHEN s.k = 0 THEN 0 ELSE 144000 END, CASE WHEN s.k = 3 THEN 24000 ELSE 144000 END, NULL
    FROM pipeline_runs r, (VALUES (0, '01_simulate'), (1, '02_bronze'), (2, '03_silver'), (3, '04_gold'), (4, '05_publish')) s(k, step)`);
await step('data_quality_metrics', `INSERT INTO data_quality_metrics
  SELECT r.run_id, t, m, CASE m WHEN 'freshness_minutes' THEN 10 + (hashtext(r.run_id || t) & 15) ELSE 99 + (hashtext(r.run_id || t || m) & 100) / 100.0 END, r.finished_at
    FROM pipeline_runs r, unnest(ARRAY['bronze_sensor_readings','silver_sensor_readings','gold_hourly_readings']) t,
         unnest(ARRAY['freshness_minutes','completeness_pct','consistency_pct','accuracy_pct']) m`);
await step('quarantine_rule_counts', `INSERT INTO quarantine_rule_counts
  SELECT r.run_id, q, hashtext(r.run_id || q) & 255, r.finished_at
    FROM pipeline_runs r, unnest(ARRAY['null_sensor_value','out_of_physical_range','duplicate_reading','future_timestamp','statistical_outlier']) q`);
// As autovacuum leaves a settled database: statistics, and a visibility map for index-only scans.
await step('vacuum analyze', 'VACUUM ANALYZE');
const size = (await db.query(`SELECT pg_size_pretty(pg_database_size(current_database())) AS s, (SELECT COUNT(*) FROM hourly_readings) AS n`)).rows[0];
await db.end();
console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${Number(size.n).toLocaleString('en-US')} hourly rows, database ${DB} is ${size.s}`);
console.log(`DATABASE_URL=${describe(target)}`);

// Swap the database name in a URL; WHATWG URL rejects the empty host of socket URLs (postgresql://u@/db?host=/dir).
function withDatabase(url, name) {
  const m = url.match(/^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/);
  if (!m) throw new Error(`cannot parse DATABASE_URL ${url}`);
  return `${m[1]}/${name}${m[3] ?? ''}`;
}
// node-postgres parses URLs with WHATWG URL, which rejects an empty host: name one (localhost), and the
// ?host= parameter, a Unix-socket directory, takes precedence over it.
function describe(cfg) {
  if (cfg.connectionString) return cfg.connectionString;
  const socket = cfg.host.startsWith('/');
  return `postgresql://${cfg.user}@${socket ? 'localhost' : cfg.host}:${cfg.port}/${cfg.database}${socket ? `?host=${cfg.host}` : ''}`;
}
