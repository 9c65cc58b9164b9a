#!/usr/bin/env node
// DEV ONLY: fill a scratch database with a small fleet shaped like the pipeline's default run
// (4 stations, 10 compressors, 7 days hourly, COMP-003 critical from day 5, COMP-007 warning at the end),
// so the dashboard can be worked on before a pipeline run exists. Tests never use this: they run the pipeline.
//   DATABASE_URL='postgresql://postgres@/postgres?host=/tmp/fe-pg' node scripts/dev-seed.mjs
import pg from 'pg';
import { connectionConfig, REFRESH_LATEST_READINGS, schemaSql } from './db-config.mjs';

const client = new pg.Client(connectionConfig());
await client.connect();
await client.query(schemaSql());
await client.query('BEGIN');
await client.query(`TRUNCATE alert_events, alerts, latest_readings, hourly_readings, compressors, stations, sensor_thresholds,
  pipeline_run_steps, pipeline_runs, data_quality_metrics, quarantine_rule_counts`);
await client.query(`INSERT INTO stations (station_id, station_name, basin, city, latitude, longitude) VALUES
  ('STN-001','Midland Permian Station','Permian','Midland',31.9973,-102.0779),
  ('STN-002','Karnes City Eagle Ford Station','Eagle Ford','Karnes City',28.8850,-97.9006),
  ('STN-003','Carthage Haynesville Station','Haynesville','Carthage',32.1574,-94.3374),
  ('STN-004','Decatur Barnett Station','Barnett','Decatur',33.2343,-97.5861)`);
await client.query(`INSERT INTO sensor_thresholds (sensor, direction, warning, critical, unit) VALUES
  ('vibration_mms','high',4.5,7.1,'mm/s'), ('discharge_temp_f','high',330,350,'°F'),
  ('discharge_pressure_psi','high',1300,1400,'psi'), ('suction_pressure_psi','low',30,20,'psi')`);
await client.query(`INSERT INTO compressors (compressor_id, station_id, model, rated_horsepower, install_date)
  SELECT format('COMP-%s', lpad(i::text, 3, '0')), format('STN-%s', lpad((((i - 1) % 4) + 1)::text, 3, '0')),
         (ARRAY['Ariel JGK/4','Ajax DPC-360','Caterpillar G3516','Waukesha 7042GSI'])[((i - 1) % 4) + 1],
         (ARRAY[1480,1340,1380,1480])[((i - 1) % 4) + 1], DATE '2019-01-01' + (i * 97)
    FROM generate_series(1, 10) i`);
// 7 days ending at the last full hour. d = days since start; COMP-003 ramps from day 3, COMP-007 from day 5.5.
await client.query(`
  WITH base AS (
    SELECT c.compressor_id, t AS hour_start,
           extract(epoch FROM t - (date_trunc('hour', now()) - interval '7 days')) / 86400.0 AS d,
           ('x' || substr(md5(c.compressor_id || t::text), 1, 8))::bit(32)::int / 2147483647.0 AS n
      FROM compressors c,
           generate_series(date_trunc('hour', now()) - interval '7 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') t
  ), v AS (
    SELECT *,
      2.2 + 0.3 * n + CASE WHEN compressor_id = 'COMP-003' AND d > 3 THEN 0.9 * exp((d - 3) * 0.75) - 0.9
                           WHEN compressor_id = 'COMP-007' AND d > 5.5 THEN 1.2 * exp((d - 5.5) * 0.8) - 1.2 ELSE 0 END AS vib,
      250 + 8 * n + CASE WHEN compressor_id = 'COMP-003' AND d > 3 THEN (d - 3) * 38
                         WHEN compressor_id = 'COMP-007' AND d > 5.5 THEN (d - 5.5) * 28 ELSE 0 END AS temp,
      1100 + 40 * sin(d * 6.28) + 20 * n AS dp,
      55 + 6 * cos(d * 6.28) + 3 * n AS sp
    FROM base
  ), s AS (
    SELECT *,
      CASE WHEN vib >= 7.1 THEN 'critical' WHEN vib >= 4.5 THEN 'warning' ELSE 'normal' END AS vs,
      CASE WHEN temp >= 350 THEN 'critical' WHEN temp >= 330 THEN 'warning' ELSE 'normal' END AS ts,
      CASE WHEN dp >= 1400 OR sp <= 20 THEN 'critical' WHEN dp >= 1300 OR sp <= 30 THEN 'warning' ELSE 'normal' END AS ps
    FROM v
  )
  INSERT INTO hourly_readings
  SELECT compressor_id, hour_start, 6, vib, vib * 1.12, temp, temp + 4, sp, sp - 3, dp, dp + 25, dp - sp,
         1150 + 60 * n, 8200 + 400 * n, vs, ts, ps,
         CASE WHEN 'critical' IN (vs, ts, ps) THEN 'critical' WHEN 'warning' IN (vs, ts, ps) THEN 'warning' ELSE 'normal' END
    FROM s`);
// Alerts as episodes derived from the rows above: first hour at or above each level, per sensor.
await client.query(`
  WITH lvl AS (
    SELECT compressor_id, 'vibration_mms' AS sensor, hour_start, vibration_mean AS val, vibration_status AS st FROM hourly_readings
    UNION ALL
    SELECT compressor_id, 'discharge_temp_f', hour_start, discharge_temp_mean, temp_status FROM hourly_readings
  ), ep AS (
    SELECT compressor_id, sensor, sev, MIN(hour_start) AS opened, MAX(hour_start) AS last, MAX(val) AS peak, COUNT(*) AS n
      FROM (SELECT *, unnest(CASE st WHEN 'critical' THEN ARRAY['warning','critical'] WHEN 'warning' THEN ARRAY['warning'] ELSE ARRAY[]::text[] END) AS sev FROM lvl) x
     GROUP BY compressor_id, sensor, sev
  )
  INSERT INTO alerts (alert_id, compressor_id, sensor, severity, current_severity, is_active, opened_at, escalated_at,
                      last_reading_at, threshold_value, peak_value, last_value, reading_count)
  SELECT format('%s:%s:%s:%s', ep.compressor_id, ep.sensor, ep.sev, to_char(ep.opened, 'YYYYMMDD"T"HH24')),
         ep.compressor_id, ep.sensor, ep.sev,
         (SELECT CASE WHEN ep.sensor = 'vibration_mms' THEN h.vibration_status ELSE h.temp_status END FROM hourly_readings h
           WHERE h.compressor_id = ep.compressor_id ORDER BY hour_start DESC LIMIT 1),
         true, ep.opened, NULL, ep.last, t.warning + CASE WHEN ep.sev = 'critical' THEN t.critical - t.warning ELSE 0 END,
         ep.peak, ep.peak, ep.n * 6
    FROM ep JOIN sensor_thresholds t ON t.sensor = ep.sensor`);
// Three runs of quality metrics and steps, the newest one now.
for (const [i, ago] of [[1, 48], [2, 24], [3, 0]]) {
  const run = `dev-run-${i}`;
  await client.query(`INSERT INTO pipeline_runs VALUES ($1, 'success', now() - make_interval(hours => $2) - interval '95 seconds',
    now() - make_interval(hours => $2), 95)`, [run, ago]);
  let offset = 95;
  for (const [step, secs, rin, rout] of [['01_simulate', 12, 0, 10080], ['02_bronze', 18, 10080, 10080], ['03_silver', 25, 10080, 10051 - i],
    ['04_gold', 30, 10051 - i, 1680], ['05_publish', 10, 1680, 1680]]) {
    await client.query(`INSERT INTO pipeline_run_steps VALUES ($1, $2, 'success', now() - make_interval(hours => $3, secs => $4),
      now() - make_interval(hours => $3, secs => $4 - $5), $5, $6, $7, NULL)`, [run, step, ago, offset, secs, rin, rout]);
    offset -= secs;
  }
  for (const [table, fresh, comp, cons, acc] of [['bronze_sensor_readings', 12, 99.8, 100, 99.6], ['silver_sensor_readings', 14, 99.7 - i * 0.1, 99.9, 99.7],
    ['gold_hourly_readings', 15, 100, 100, 100]]) {
    for (const [metric, value] of [['freshness_minutes', fresh + i], ['completeness_pct', comp], ['consistency_pct', cons], ['accuracy_pct', acc - i * 0.05]]) {
      await client.query(`INSERT INTO data_quality_metrics VALUES ($1, $2, $3, $4, now() - make_interval(hours => $5))`, [run, table, metric, value, ago]);
    }
  }
  for (const [rule, n] of [['null_sensor_value', 12 + i], ['out_of_physical_range', 7], ['duplicate_reading', 4 * i], ['future_timestamp', 1], ['statistical_outlier', 5]]) {
    await client.query(`INSERT INTO quarantine_rule_counts VALUES ($1, $2, $3, now() - make_interval(hours => $4))`, [run, rule, n, ago]);
  }
}
await client.query(REFRESH_LATEST_READINGS);
await client.query('COMMIT');
const { rows } = await client.query(`SELECT (SELECT COUNT(*) FROM hourly_readings) AS readings, (SELECT COUNT(*) FROM alerts) AS alerts`);
console.log(`dev seed: ${rows[0].readings} hourly rows, ${rows[0].alerts} alerts`);
await client.end();
