import { expect, screenshot, test, waitForWidgets } from './fixtures';

// Every page of the dashboard, as an operator opens it in the morning.

test('fleet overview: KPIs match the database, the map shows the 4 stations with unit colours', async ({ page, db }) => {
  await page.goto('/');
  await waitForWidgets(page);

  const stations = await db.query<{ station_id: string; city: string }>('SELECT station_id, city FROM stations ORDER BY station_id');
  expect(stations.rows.map((s) => s.station_id)).toEqual(['STN-001', 'STN-002', 'STN-003', 'STN-004']);
  const markers = page.getByTestId('station-marker');
  await expect(markers).toHaveCount(4);
  // Drawn worst last (on top), so compare the labels as a set.
  expect((await page.getByTestId('station-label').allTextContents()).sort()).toEqual(stations.rows.map((s) => s.city).sort());
  // One dot per compressor, coloured with the health of its newest hour.
  const health = await db.query<{ compressor_id: string; health_status: string }>(
    `SELECT compressor_id, health_status FROM v_latest_readings ORDER BY compressor_id`,
  );
  await expect(page.getByTestId('unit-dot')).toHaveCount(health.rows.length);
  for (const row of health.rows) {
    await expect(page.locator(`[data-testid="unit-dot"][data-compressor-id="${row.compressor_id}"]`)).toHaveAttribute('data-health', row.health_status);
  }
  // COMP-003 tripped on day 6 and is under repair: down, not critical.
  await expect(page.locator('[data-testid="unit-dot"][data-compressor-id="COMP-003"]')).toHaveAttribute('data-health', 'down');

  const counts = await db.query<{ health_status: string; n: number }>(
    `SELECT health_status, COUNT(*)::int AS n FROM v_fleet_health GROUP BY health_status`,
  );
  const n = (s: string) => String(counts.rows.find((r) => r.health_status === s)?.n ?? 0);
  await expect(page.getByTestId('kpi-healthy-value')).toHaveText(n('normal'));
  await expect(page.getByTestId('kpi-warning-value')).toHaveText(n('warning'));
  await expect(page.getByTestId('kpi-critical-value')).toHaveText(n('critical'));
  await expect(page.getByTestId('kpi-down-value')).toHaveText(n('down'));
  expect(n('down')).not.toBe('0');
  const active = await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM v_active_alerts`);
  await expect(page.getByTestId('kpi-active-alerts-value')).toHaveText(String(active.rows[0]!.n));
  await expect(page.getByTestId('kpi-freshness-value')).toHaveText(/ago$/);

  // Cards: every compressor, worst first.
  const cards = page.getByTestId('compressor-card');
  await expect(cards).toHaveCount(health.rows.length);
  const worst = ['critical', 'warning', 'down', 'unknown', 'normal'].find((h) => n(h) !== '0');
  await expect(cards.first()).toHaveAttribute('data-health', worst!);
  // Needs attention: the active alerts, worst and newest first, as the database orders them.
  const attention = await db.query<{ compressor_id: string }>(
    `SELECT compressor_id FROM alerts WHERE is_active AND status <> 'resolved'
      ORDER BY CASE current_severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, last_reading_at DESC, alert_id LIMIT 1`,
  );
  const first = attention.rows[0]?.compressor_id;
  if (first) await expect(page.getByTestId('newest-alerts').getByRole('link', { name: first }).first()).toBeVisible();
  else await expect(page.getByTestId('newest-alerts').getByText('No active alerts')).toBeVisible();
  await screenshot(page, '01-fleet-overview');
});

test('monitoring grid lists every compressor with its current status and filters by station', async ({ page, db }) => {
  await page.goto('/monitoring');
  await waitForWidgets(page);
  const all = await db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM compressors');
  await expect(page.getByTestId('fleet-row')).toHaveCount(all.rows[0]!.n);
  await expect(page.locator('[data-testid="fleet-row"][data-compressor-id="COMP-003"]')).toHaveAttribute('data-health', 'down');
  await screenshot(page, '02-monitoring');

  await page.getByLabel('Station').selectOption('STN-003');
  await expect(page).toHaveURL(/station=STN-003/);
  const atStation = await db.query<{ compressor_id: string }>(`SELECT compressor_id FROM compressors WHERE station_id = 'STN-003' ORDER BY 1`);
  await expect(page.getByTestId('fleet-row')).toHaveCount(atStation.rows.length);
});

test('COMP-003 detail shows it down after its trip, banded gauges and charts with the threshold lines', async ({ page, db }) => {
  await page.goto('/monitoring/COMP-003');
  await waitForWidgets(page);
  await expect(page.getByTestId('compressor-title')).toContainText('COMP-003');
  await expect(page.getByTestId('compressor-title')).toContainText('Down');
  // A stopped unit is not alarmed on process limits: its gauges read normal.
  await expect(page.getByTestId('gauge-vibration_mms')).toHaveAttribute('data-status', 'normal');
  // Its history holds the critical vibration episode that led to the trip, and the stop itself.
  const history = page.getByTestId('alert-history');
  await expect(history.getByText('Unit stopped').first()).toBeVisible();
  await expect(history.locator('[data-testid="alert-row"][data-severity="critical"]').first()).toBeVisible();

  // The lines drawn are the pipeline's own thresholds, read from sensor_thresholds.
  const thresholds = await db.query<{ sensor: string; warning: number; critical: number }>('SELECT sensor, warning, critical FROM sensor_thresholds');
  expect(thresholds.rows.length).toBe(4);
  for (const t of thresholds.rows) {
    const chart = page.getByTestId(`chart-${t.sensor}`);
    await expect(chart).toBeVisible();
    await expect(chart.getByTestId('limit-warning')).toHaveAttribute('data-value', String(t.warning));
    await expect(chart.getByTestId('limit-critical')).toHaveAttribute('data-value', String(t.critical));
    await expect(chart.locator('canvas')).toBeVisible(); // uPlot drew it
  }
  // Default range is a week of hourly points.
  const week = await db.query<{ n: number }>(
    `SELECT COUNT(*)::int AS n FROM hourly_readings WHERE compressor_id = 'COMP-003'
        AND hour_start > (SELECT MAX(hour_start) FROM hourly_readings WHERE compressor_id = 'COMP-003') - interval '7 days'`,
  );
  await expect(page.getByTestId('reading-charts')).toHaveAttribute('data-points', String(week.rows[0]!.n));
  await expect(page.getByTestId('alert-history').getByTestId('alert-row').first()).toBeVisible();
  await screenshot(page, '03-compressor-COMP-003');

  // The range lives in the URL and changes what is drawn.
  await page.getByTestId('range-picker').getByRole('link', { name: '24h' }).click();
  await expect(page).toHaveURL(/range=24h/);
  await expect(page.getByTestId('reading-charts')).toHaveAttribute('data-points', '24');
  await page.reload();
  await expect(page.getByTestId('range-picker').getByRole('link', { name: '24h' })).toHaveAttribute('aria-current', 'true');
});

test('an unknown compressor gets the not-found page', async ({ page }) => {
  // The status stays 200 because the page streams behind loading.tsx; Next marks it noindex instead.
  await page.goto('/monitoring/COMP-999');
  await expect(page.getByTestId('not-found')).toBeVisible();
  await page.goto('/alerts/no-such-alert');
  await expect(page.getByTestId('not-found')).toBeVisible();
});

test('alerts page shows every alert', async ({ page, db }) => {
  await page.goto('/alerts');
  await waitForWidgets(page);
  const total = await db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM alerts');
  await expect(page.getByTestId('alerts-total')).toHaveText(`${total.rows[0]!.n} alert${total.rows[0]!.n === 1 ? '' : 's'}`);
  await screenshot(page, '04-alerts');
});

test('data quality shows metrics per table, quarantine by rule and pipeline runs with their steps', async ({ page, db }) => {
  await page.goto('/data-quality');
  await waitForWidgets(page);
  const tables = await db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM data_quality_metrics WHERE run_id = (SELECT run_id FROM data_quality_metrics ORDER BY measured_at DESC LIMIT 1) ORDER BY 1`,
  );
  expect(tables.rows.length).toBeGreaterThan(0);
  await expect(page.getByTestId('quality-row')).toHaveCount(tables.rows.length);
  const rules = await db.query<{ rule: string }>(`SELECT DISTINCT rule FROM quarantine_rule_counts`);
  await expect(page.getByTestId('quarantine-rule')).toHaveCount(rules.rows.length);
  const runs = await db.query<{ run_id: string }>(`SELECT run_id FROM pipeline_runs ORDER BY started_at DESC`);
  await expect(page.getByTestId('pipeline-run')).toHaveCount(runs.rows.length);
  const firstRun = page.getByTestId('pipeline-run').first();
  await expect(firstRun).toHaveAttribute('data-run-id', runs.rows[0]!.run_id);
  await firstRun.locator('summary').click();
  const steps = await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM pipeline_run_steps WHERE run_id = $1`, [runs.rows[0]!.run_id]);
  await expect(firstRun.getByTestId('pipeline-step')).toHaveCount(steps.rows[0]!.n);
  await screenshot(page, '05-data-quality');
});

test('theme toggle switches dark/light and the choice survives a reload', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const lightBg = await bg();
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(bg).not.toBe(lightBg);
  const darkBg = await bg();
  await waitForWidgets(page);
  await screenshot(page, '06-fleet-dark');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await bg()).toBe(darkBg);
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect.poll(bg).toBe(lightBg);
});

test('layout is responsive: a phone-width viewport has no horizontal page scroll', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [path, name] of [['/', '07-mobile-fleet'], ['/monitoring/COMP-003', '08-mobile-compressor']] as const) {
    await page.goto(path);
    await waitForWidgets(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(1);
    await screenshot(page, name);
  }
});

test('predictions: each unit shows its failure risk and remaining life, the compressor page charts them, alerts name their source', async ({ page, db }) => {
  const newest = await db.query<{ compressor_id: string; failure_probability_72h: number; rul_hours: number }>(
    `SELECT DISTINCT ON (compressor_id) compressor_id, failure_probability_72h, rul_hours
       FROM predictions ORDER BY compressor_id, hour_start DESC`,
  );
  expect(newest.rows.length).toBe(10);
  const riskiest = [...newest.rows].sort((a, b) => b.failure_probability_72h - a.failure_probability_72h)[0]!;
  const pct = (p: number) => (p < 0.005 ? '<1 %' : `${Math.round(p * 100)} %`);

  // The monitoring list, sorted by risk (state in the URL): the riskiest unit first, with the model's own numbers.
  await page.goto('/monitoring?sort=risk');
  const first = page.getByTestId('fleet-row').first();
  await expect(first).toContainText(riskiest.compressor_id);
  await expect(first.getByTestId('risk')).toHaveText(pct(riskiest.failure_probability_72h));
  await expect(first.getByTestId('risk')).toHaveClass(/text-critical/);

  // The compressor page draws the risk over time with the model's warning episodes shaded.
  await page.goto(`/monitoring/${riskiest.compressor_id}`);
  const risk = page.getByTestId('chart-failure-risk');
  await expect(risk.locator('canvas')).toBeVisible();
  await expect(risk.getByTestId('limit-warning')).toHaveAttribute('data-value', '50');
  await expect(page.getByTestId('chart-rul').locator('canvas')).toBeVisible();
  const modelAlerts = await db.query<{ n: number }>(
    `SELECT COUNT(*)::int AS n FROM alerts WHERE compressor_id = $1 AND source = 'model'`, [riskiest.compressor_id],
  );
  expect(modelAlerts.rows[0]!.n).toBeGreaterThan(0);
  await expect(risk).toHaveAttribute('data-episodes', /[1-9]/);

  // The alert list says which alerts the model raised.
  await page.goto(`/alerts?compressor=${riskiest.compressor_id}`);
  await expect(page.getByTestId('alert-source').filter({ hasText: 'Model' }).first()).toBeVisible();
});
