import path from 'node:path';
import pg from 'pg';
import { connectionConfig } from '../scripts/db-config.mjs';
import { startDashboard } from './dashboard';
import { dashboardEnv, FRONTEND } from './env';
import { expect, screenshot, test, waitForWidgets } from './fixtures';

// The dashboard when things are not fine: no database at all, and a database the pipeline never filled.
// Each case gets its own dashboard (scripts/start.mjs) with its own configuration.

test('with the database unreachable every page says so clearly and the API answers 503', async ({ page }) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ALTAVIZ_HOME: path.join(FRONTEND, 'test-results', 'no-such-home') };
  delete env.DATABASE_URL;
  const dash = await startDashboard(env);
  try {
    for (const p of ['/', '/monitoring', '/monitoring/COMP-003', '/alerts', '/data-quality']) {
      await page.goto(dash.url + p);
      await expect(page.getByTestId('database-down')).toBeVisible();
      await expect(page.getByTestId('database-down')).toContainText('database.json');
    }
    await screenshot(page, '10-database-unreachable');
    const health = await page.request.get(`${dash.url}/api/health`);
    expect(health.status()).toBe(503);
    const fleet = await page.request.get(`${dash.url}/api/fleet`);
    expect(fleet.status()).toBe(503);
    expect((await fleet.json()).error.message).toMatch(/run the pipeline|DATABASE_URL/);
  } finally {
    dash.stop();
  }
});

test('an empty serving database shows empty states that say to run the pipeline', async ({ page }) => {
  const admin = new pg.Client(connectionConfig(dashboardEnv()));
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS altaviz_e2e_empty WITH (FORCE)');
  await admin.query('CREATE DATABASE altaviz_e2e_empty');
  await admin.end();
  const cfg = connectionConfig(dashboardEnv());
  const url = cfg.connectionString
    ? cfg.connectionString.replace(/^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?/, '$1/altaviz_e2e_empty')
    : `postgresql://${cfg.user}@/altaviz_e2e_empty?host=${cfg.host}&port=${cfg.port ?? 5432}`;
  const env = { ...process.env, DATABASE_URL: url };
  const dash = await startDashboard(env);
  try {
    for (const p of ['/', '/monitoring', '/alerts', '/data-quality']) {
      await page.goto(dash.url + p);
      await waitForWidgets(page);
      await expect(page.getByText(/yet: run the pipeline/).first()).toBeVisible();
    }
    await page.goto(dash.url + '/');
    await waitForWidgets(page);
    await screenshot(page, '11-empty-database');
    const fleet = await (await page.request.get(`${dash.url}/api/fleet`)).json();
    expect(fleet.kpis.compressors).toBe(0);
  } finally {
    dash.stop();
  }
});
