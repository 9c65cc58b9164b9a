import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { startDashboard } from './dashboard';
import { dashboardEnv, FRONTEND } from './env';
import { expect, screenshot, test, waitForWidgets } from './fixtures';

// A larger fleet than the pipeline's 10 units: 120 compressors at 6 stations (20 each, so the map
// clusters them) x 7 days, bulk-seeded by scripts/bench-seed.mjs into its own database on the same
// server, served by its own dashboard (scripts/start.mjs). The 1,000-unit numbers come from scripts/bench-api.mjs.

const UNITS = 120;
let dash: { url: string; stop: () => void };
let db: pg.Client;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const seed = spawnSync(process.execPath, [path.join(FRONTEND, 'scripts/bench-seed.mjs'), '--compressors', String(UNITS),
    '--days', '7', '--stations', '6', '--database', 'altaviz_e2e_fleet'], { cwd: FRONTEND, env: dashboardEnv(), encoding: 'utf8' });
  expect(seed.status, seed.stderr).toBe(0);
  const url = seed.stdout.trim().split('\n').pop()!.replace(/^DATABASE_URL=/, '');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  dash = await startDashboard({ ...dashboardEnv(), DATABASE_URL: url });
});

test.afterAll(async () => {
  dash?.stop();
  await db?.end();
});

const RANK: Record<string, number> = { critical: 0, warning: 1, unknown: 2, normal: 3 };
const rowIds = (page: import('@playwright/test').Page) =>
  page.getByTestId('fleet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-compressor-id')!));

test('monitoring pages through the fleet worst first, and search, filters and sort live in the URL', async ({ page }) => {
  await page.goto(`${dash.url}/monitoring`);
  await waitForWidgets(page);
  await expect(page.getByTestId('fleet-row')).toHaveCount(50);
  await expect(page.getByTestId('fleet-total')).toHaveText(`1–50 of ${UNITS} compressors`);
  // Worst first: the units the database holds as critical or warning lead, in rank order.
  const bad = (await db.query<{ compressor_id: string }>(
    `SELECT compressor_id FROM latest_readings WHERE health_status <> 'normal'
      ORDER BY CASE health_status WHEN 'critical' THEN 0 ELSE 1 END, compressor_id`)).rows.map((r) => r.compressor_id);
  expect(bad.length).toBeGreaterThan(0);
  const health = await page.getByTestId('fleet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-health')!));
  expect(health.map((h) => RANK[h])).toEqual([...health.map((h) => RANK[h]!)].sort((a, b) => a - b));
  expect((await rowIds(page)).slice(0, bad.length).sort()).toEqual([...bad].sort());
  await screenshot(page, '12-monitoring-120-units');

  // Pages: next, then the last one with the remainder; no unit twice.
  const first = await rowIds(page);
  await page.getByTestId('fleet-pager').getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/[?&]page=2/);
  await expect(page.getByTestId('fleet-total')).toHaveText(`51–100 of ${UNITS} compressors`);
  const second = await rowIds(page);
  expect(second).toHaveLength(50);
  expect(second.filter((id) => first.includes(id))).toEqual([]);
  await page.getByTestId('fleet-pager').getByRole('link', { name: 'Last »' }).click();
  await expect(page.getByTestId('fleet-page')).toHaveText('Page 3 of 3');
  await expect(page.getByTestId('fleet-row')).toHaveCount(UNITS - 100);

  // Search (substring of the id, station, city or model) starts again at page 1.
  await page.getByTestId('fleet-search').fill('COMP-001');
  await page.getByTestId('fleet-search').press('Enter');
  await expect(page).toHaveURL(/q=COMP-001/);
  await expect(page).not.toHaveURL(/page=/);
  const matches = (await db.query<{ compressor_id: string }>(
    `SELECT compressor_id FROM compressors WHERE compressor_id LIKE '%COMP-001%' ORDER BY 1`)).rows.map((r) => r.compressor_id);
  await expect(page.getByTestId('fleet-row')).toHaveCount(matches.length);
  expect((await rowIds(page)).sort()).toEqual(matches);

  // Filters combine with the search; sort by vibration puts the highest first.
  await page.goto(`${dash.url}/monitoring`);
  await page.getByLabel('Basin').selectOption('Permian');
  await expect(page).toHaveURL(/basin=Permian/);
  await page.getByLabel('Sort').selectOption('vibration');
  await expect(page).toHaveURL(/sort=vibration/);
  const permian = (await db.query<{ compressor_id: string }>(
    `SELECT c.compressor_id FROM compressors c JOIN stations s USING (station_id) JOIN latest_readings l USING (compressor_id)
      WHERE s.basin = 'Permian' ORDER BY l.vibration_mean DESC, c.compressor_id`)).rows.map((r) => r.compressor_id);
  await expect(page.getByTestId('fleet-total')).toHaveText(`1–${Math.min(50, permian.length)} of ${permian.length} compressors`);
  expect(await rowIds(page)).toEqual(permian.slice(0, 50));
  // The state survives a reload: it is all in the URL.
  await page.reload();
  await expect(page.getByLabel('Sort')).toHaveValue('vibration');
  expect(await rowIds(page)).toEqual(permian.slice(0, 50));
});

test('overview: KPIs count the whole fleet, cards are paged, the map clusters each station and shows its worst unit', async ({ page }) => {
  await page.goto(`${dash.url}/`);
  await waitForWidgets(page);
  const counts = (await db.query<{ health_status: string; n: number }>(
    `SELECT health_status, COUNT(*)::int AS n FROM latest_readings GROUP BY 1`)).rows;
  const n = (h: string) => String(counts.find((r) => r.health_status === h)?.n ?? 0);
  await expect(page.getByTestId('kpi-healthy-value')).toHaveText(n('normal'));
  await expect(page.getByTestId('kpi-critical-value')).toHaveText(n('critical'));
  await expect(page.getByTestId('compressor-card')).toHaveCount(24);
  await expect(page.getByTestId('fleet-total')).toHaveText(`1–24 of ${UNITS} compressors`);

  const stations = (await db.query<{ station_id: string; units: number; worst: string }>(
    `SELECT c.station_id, COUNT(*)::int AS units,
            (ARRAY['critical','warning','unknown','normal'])[MIN(CASE COALESCE(l.health_status, 'unknown')
              WHEN 'critical' THEN 1 WHEN 'warning' THEN 2 WHEN 'unknown' THEN 3 ELSE 4 END)] AS worst
       FROM compressors c LEFT JOIN latest_readings l USING (compressor_id) GROUP BY 1`)).rows;
  expect(stations).toHaveLength(6);
  await expect(page.getByTestId('station-cluster')).toHaveCount(6);
  await expect(page.getByTestId('unit-dot')).toHaveCount(0);
  for (const s of stations) {
    const marker = page.locator(`[data-testid="station-marker"][data-station-id="${s.station_id}"]`);
    await expect(marker).toHaveAttribute('data-health', s.worst);
    await expect(marker.getByTestId('station-cluster')).toHaveAttribute('data-units', String(s.units));
    await expect(marker.locator(`circle.map__unit--${s.worst}`)).toHaveCount(1); // the centre disc
  }
  expect(stations.some((s) => s.worst === 'critical')).toBe(true);
  await screenshot(page, '13-overview-120-units');

  // A cluster leads to its station's units.
  const critical = stations.find((s) => s.worst === 'critical')!;
  await page.locator(`[data-testid="station-marker"][data-station-id="${critical.station_id}"] [data-testid="station-cluster"]`).click();
  await expect(page).toHaveURL(new RegExp(`/monitoring\\?station=${critical.station_id}`));
  await expect(page.getByTestId('fleet-row')).toHaveCount(critical.units);
  await expect(page.getByTestId('fleet-row').first()).toHaveAttribute('data-health', 'critical');
});

test('charts: hovering prints the hour and the stored values on every sensor at once; dragging zooms all of them', async ({ page }) => {
  const id = 'COMP-0003'; // degrading: its vibration chart has an alert episode
  await page.goto(`${dash.url}/monitoring/${id}?range=24h`);
  await waitForWidgets(page);
  await expect(page.getByTestId('reading-charts')).toHaveAttribute('data-points', '24');
  await expect(page.getByTestId('reading-charts')).toHaveAttribute('data-bucket-hours', '1');
  const vib = page.getByTestId('chart-vibration_mms');
  const temp = page.getByTestId('chart-discharge_temp_f');
  const plot = vib.locator('.u-over');
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  const readout = vib.getByTestId('chart-readout');
  await expect(readout).toHaveAttribute('data-time', /Z$/);
  const hour = (await readout.getAttribute('data-time'))!;
  const row = (await db.query<{ vibration_mean: number; vibration_max: number; discharge_temp_mean: number }>(
    `SELECT vibration_mean, vibration_max, discharge_temp_mean FROM hourly_readings WHERE compressor_id = $1 AND hour_start = $2`,
    [id, hour])).rows[0]!;
  const two = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  await expect(readout).toContainText(`hourly mean ${two(row.vibration_mean)}`);
  await expect(readout).toContainText(`hourly max ${two(row.vibration_max)}`);
  await expect(readout).toContainText('UTC');
  // The other charts follow the same cursor: same hour, their own values.
  await expect(temp.getByTestId('chart-readout')).toHaveAttribute('data-time', hour);
  await expect(temp.getByTestId('chart-readout')).toContainText(`hourly mean ${two(row.discharge_temp_mean)}`);
  await screenshot(page, '14-chart-hover');

  // Drag over the middle of one chart: every chart shows the same, narrower window.
  const before = Number(await vib.getAttribute('data-x-max')) - Number(await vib.getAttribute('data-x-min'));
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Number(await vib.getAttribute('data-x-max')) - Number(await vib.getAttribute('data-x-min'))).toBeLessThan(before * 0.5);
  await expect(temp).toHaveAttribute('data-x-min', (await vib.getAttribute('data-x-min'))!);
  await expect(temp).toHaveAttribute('data-x-max', (await vib.getAttribute('data-x-max'))!);

  // 30 days come in 2-hour buckets; zooming into a few days fetches that window again, hourly, on every chart;
  // a double click goes back to the whole range.
  await page.goto(`${dash.url}/monitoring/${id}?range=30d`);
  await waitForWidgets(page);
  await expect(vib).toHaveAttribute('data-bucket-hours', '2');
  const wide = (await vib.locator('.u-over').boundingBox())!;
  await page.mouse.move(wide.x + wide.width * 0.85, wide.y + wide.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(wide.x + wide.width * 0.95, wide.y + wide.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await expect(vib).toHaveAttribute('data-bucket-hours', '1');
  await expect(temp).toHaveAttribute('data-bucket-hours', '1');
  await page.mouse.move(wide.x + wide.width * 0.5, wide.y + wide.height * 0.5);
  await expect(vib.getByTestId('chart-readout')).toContainText('hourly mean');
  // The model's risk is redrawn from the API's probabilities too, as a percentage.
  await expect(page.getByTestId('chart-failure-risk').getByTestId('chart-readout')).toContainText(/hourly max \d/);
  await vib.locator('.u-over').dblclick();
  await expect(vib).toHaveAttribute('data-bucket-hours', '2');
  await expect(temp).toHaveAttribute('data-x-max', (await vib.getAttribute('data-x-max'))!);

  // The API downsamples to whole-hour buckets, never more than asked, and keeps spikes.
  const res = await page.request.get(`${dash.url}/api/compressors/${id}/readings?range=7d&points=50`);
  const body = await res.json();
  expect(body.bucket_hours).toBe(4); // ceil(168 h / 50)
  expect(body.readings.length).toBeLessThanOrEqual(50);
  const peak = (await db.query<{ m: number }>(`SELECT MAX(vibration_max) AS m FROM hourly_readings WHERE compressor_id = $1
      AND hour_start >= $2 AND hour_start < $3`, [id, body.from, body.to])).rows[0]!.m;
  expect(Math.max(...body.readings.map((r: { vibration_max: number }) => r.vibration_max))).toBeCloseTo(peak, 6); // spikes survive
});

test('format=series answers the rows\' values as columns (three decimals, the risk in percent) with the window\'s alert episodes', async ({ request }) => {
  const id = 'COMP-0003';
  const base = `${dash.url}/api/compressors/${id}/readings?range=7d`;
  const rows = await (await request.get(base)).json();
  const res = await request.get(`${base}&format=series`);
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect({ from: body.from, to: body.to, bucket_hours: body.bucket_hours }).toEqual({ from: rows.from, to: rows.to, bucket_hours: rows.bucket_hours });
  expect(body.points).toBe(rows.readings.length);
  expect(body.points).toBe(168); // a week, hourly
  expect(body.scored).toBe(true);
  const { times, columns } = body.series as { times: number[]; columns: Record<string, (number | null)[]> };
  expect(times).toEqual(rows.readings.map((r: { hour_start: string }) => Date.parse(r.hour_start) / 1000));
  const near = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 0.0005 + 1e-9);
  for (const [key, values] of Object.entries(columns)) {
    const want = rows.readings.map((r: Record<string, number | null>) =>
      key === 'failure_risk_pct' ? (r.failure_probability_72h === null ? null : r.failure_probability_72h! * 100) : r[key]);
    expect(want.every((v: number | undefined) => v !== undefined), key).toBe(true);
    expect(values.every((v, i) => near(v, want[i])), key).toBe(true);
  }
  expect(Object.keys(columns)).toEqual(expect.arrayContaining(['vibration_mean', 'vibration_max', 'failure_risk_pct', 'rul_hours']));
  const alerts = (await db.query<{ sensor: string; opened_at: Date }>(
    `SELECT sensor, opened_at FROM alerts WHERE compressor_id = $1 AND opened_at < $3
        AND ((is_active AND status <> 'resolved') OR COALESCE(cleared_at, resolved_at, last_reading_at) >= $2) ORDER BY opened_at`,
    [id, rows.from, rows.to])).rows;
  expect(alerts.length).toBeGreaterThan(0);
  expect(body.episodes.map((e: { sensor: string }) => e.sensor)).toEqual(alerts.map((a) => a.sensor));
  body.episodes.forEach((e: { start: number }, i: number) => expect(e.start).toBeCloseTo(alerts[i]!.opened_at.getTime() / 1000, 2));
  expect((await request.get(`${dash.url}/api/compressors/COMP-9999/readings?range=7d&format=series`)).status()).toBe(404);
  expect((await request.get(`${base}&format=csv`)).status()).toBe(400);
});

test('data-quality trends are uPlot charts: hovering prints the run time and every table\'s value on all four', async ({ page }) => {
  await page.goto(`${dash.url}/data-quality`);
  await waitForWidgets(page);
  const completeness = page.getByTestId('trend-completeness_pct');
  const freshness = page.getByTestId('trend-freshness_minutes');
  await expect(completeness.locator('canvas')).toBeVisible();
  const box = (await completeness.locator('.u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  const readout = completeness.getByTestId('chart-readout');
  await expect(readout).toHaveAttribute('data-time', /Z$/);
  const at = (await readout.getAttribute('data-time'))!;
  const rows = (await db.query<{ table_name: string; metric_value: number }>(
    `SELECT table_name, metric_value FROM data_quality_metrics WHERE metric = 'completeness_pct'
        AND run_id IN (SELECT run_id FROM data_quality_metrics GROUP BY run_id
                        HAVING abs(extract(epoch FROM MAX(measured_at) - $1::timestamptz)) < 1)`, [at])).rows; // the chart's axis is in whole seconds
  expect(rows.length).toBeGreaterThan(0);
  const two = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  for (const r of rows) await expect(readout).toContainText(`${r.table_name} ${two(r.metric_value)} %`);
  await expect(readout).toContainText('UTC');
  // The other metrics follow the same cursor.
  await expect(freshness.getByTestId('chart-readout')).toHaveAttribute('data-time', at);
  await screenshot(page, '15-quality-hover');
});
