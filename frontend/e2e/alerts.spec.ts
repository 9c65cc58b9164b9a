import { signIn } from './auth-helpers';
import { ACCOUNTS, USES_PIPELINE } from './env';
import { expect, screenshot, test, waitForWidgets } from './fixtures';
import { runPipeline } from './pipeline';

// Operator actions need a signed-in operator; the audit trail records that account.
const OPERATOR = ACCOUNTS.operator.name;

test('filters narrow the alert table to what the database holds for the same filter', async ({ page, db }) => {
  const count = async (where: string, values: unknown[] = []) =>
    (await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM alerts a JOIN compressors c USING (compressor_id) ${where}`, values)).rows[0]!.n;
  const label = (n: number) => `${n} alert${n === 1 ? '' : 's'}`;
  const total = await count('');
  expect(total).toBeGreaterThan(1);

  await page.goto('/alerts');
  await waitForWidgets(page);
  await expect(page.getByTestId('alerts-total')).toHaveText(label(total));

  // Severity
  await page.getByTestId('filter-severity').selectOption('critical');
  await expect(page).toHaveURL(/severity=critical/);
  const critical = await count(`WHERE a.severity = 'critical'`);
  expect(critical).toBeLessThan(total);
  await expect(page.getByTestId('alerts-total')).toHaveText(label(critical));
  for (const sev of await page.getByTestId('alert-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-severity')))) {
    expect(sev).toBe('critical');
  }

  // Station (combined with severity): the station COMP-003 stands at
  const station = (await db.query<{ station_id: string }>(`SELECT station_id FROM compressors WHERE compressor_id = 'COMP-003'`)).rows[0]!.station_id;
  await page.getByTestId('filter-station').selectOption(station);
  await expect(page).toHaveURL(new RegExp(`station=${station}`));
  await expect(page.getByTestId('alerts-total')).toHaveText(label(await count(`WHERE a.severity = 'critical' AND c.station_id = $1`, [station])));
  for (const s of await page.getByTestId('alert-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-station-id')))) {
    expect(s).toBe(station);
  }

  // Compressor, from a clean slate
  await page.goto('/alerts?compressor=COMP-007');
  await waitForWidgets(page);
  const comp7 = await count(`WHERE a.compressor_id = 'COMP-007'`);
  if (comp7) {
    await expect(page.getByTestId('alerts-total')).toHaveText(label(comp7));
    const ids = await page.getByTestId('alert-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-compressor-id')));
    expect(new Set(ids)).toEqual(new Set(['COMP-007']));
  } else {
    await expect(page.getByText('No alerts match these filters')).toBeVisible();
  }

  // Time: nothing was opened after the newest alert's day
  const newest = (await db.query<{ d: string }>(`SELECT to_char(MAX(opened_at) AT TIME ZONE 'UTC' + interval '1 day', 'YYYY-MM-DD') AS d FROM alerts`)).rows[0]!.d;
  await page.goto(`/alerts?from=${newest}`);
  await expect(page.getByText('No alerts match these filters')).toBeVisible();
  await expect(page.getByTestId('filter-from')).toHaveValue(newest);
  // ...and an inclusive 'until' on that same day keeps everything
  await page.goto(`/alerts?to=${newest}`);
  await expect(page.getByTestId('alerts-total')).toHaveText(label(total));
  // A hand-edited bad filter says what is wrong instead of failing
  await page.goto('/alerts?severity=catastrophic');
  await expect(page.getByText('These filters are not valid')).toBeVisible();
});

test('acknowledging in the UI writes PostgreSQL, shows at once, and survives a reload and a pipeline rerun', async ({ page, db }) => {
  test.setTimeout(50 * 60_000); // includes a full pipeline run
  const target = (await db.query<{ alert_id: string }>(
    `SELECT alert_id FROM alerts WHERE compressor_id = 'COMP-003' AND status = 'open'
      ORDER BY CASE severity WHEN 'critical' THEN 0 ELSE 1 END, opened_at LIMIT 1`,
  )).rows[0];
  expect(target, 'COMP-003 has an open alert to acknowledge').toBeTruthy();
  const alertId = target!.alert_id;
  const row = page.locator(`[data-testid="alert-row"][data-alert-id="${alertId}"]`);

  await signIn(page, 'operator', '/alerts?compressor=COMP-003');
  await expect(page).toHaveURL(/\/alerts\?compressor=COMP-003$/);
  await waitForWidgets(page);
  await expect(row).toHaveAttribute('data-status', 'open');
  await row.getByTestId('action-acknowledge').click();
  const dialog = page.getByTestId('action-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('action-as')).toHaveText(`Recorded as ${OPERATOR}`); // no name to type
  await dialog.getByTestId('action-note').fill('Crew dispatched to check the crosshead bearing');
  await dialog.getByTestId('action-submit').click();
  await expect(dialog).toBeHidden();
  await expect(row).toHaveAttribute('data-status', 'acknowledged'); // no reload: the action refreshed the view
  await expect(row).toContainText(`by ${OPERATOR}`);

  const stored = await db.query(`SELECT status, acknowledged_by, acknowledged_at, operator_note FROM alerts WHERE alert_id = $1`, [alertId]);
  expect(stored.rows[0]).toMatchObject({ status: 'acknowledged', acknowledged_by: OPERATOR, operator_note: 'Crew dispatched to check the crosshead bearing' });
  expect(stored.rows[0].acknowledged_at).toBeTruthy();
  const events = await db.query(`SELECT action, actor, note FROM alert_events WHERE alert_id = $1 ORDER BY event_id`, [alertId]);
  expect(events.rows).toEqual([{ action: 'acknowledge', actor: OPERATOR, note: 'Crew dispatched to check the crosshead bearing' }]);

  await page.reload();
  await expect(row).toHaveAttribute('data-status', 'acknowledged');

  // The audit trail on the alert's own page
  await page.goto(`/alerts/${encodeURIComponent(alertId)}`);
  await expect(page.getByTestId('alert-detail')).toHaveAttribute('data-status', 'acknowledged');
  await expect(page.getByTestId('audit-event')).toHaveCount(1);
  await expect(page.getByTestId('audit-event').first()).toContainText(OPERATOR);
  await screenshot(page, '09-alert-audit-trail');

  test.skip(!USES_PIPELINE, 'pipeline rerun needs the real pipeline (E2E_DATABASE_URL given)');
  const runsBefore = (await db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM pipeline_runs')).rows[0]!.n;
  runPipeline();
  const runsAfter = (await db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM pipeline_runs')).rows[0]!.n;
  expect(runsAfter).toBe(runsBefore + 1);
  const after = await db.query(`SELECT status, acknowledged_by, operator_note FROM alerts WHERE alert_id = $1`, [alertId]);
  expect(after.rows[0]).toMatchObject({ status: 'acknowledged', acknowledged_by: OPERATOR });
  await page.goto('/alerts?compressor=COMP-003');
  await expect(row).toHaveAttribute('data-status', 'acknowledged');
  await expect(row).toContainText(`by ${OPERATOR}`);
});

test('resolving asks for a note, records who resolved it and takes the alert off the active list', async ({ page, db }) => {
  const target = (await db.query<{ alert_id: string; compressor_id: string }>(
    `SELECT alert_id, compressor_id FROM alerts WHERE status = 'open' ORDER BY opened_at DESC LIMIT 1`,
  )).rows[0];
  test.skip(!target, 'no open alert left to resolve');
  const { alert_id: alertId, compressor_id: compressorId } = target!;
  await signIn(page, 'operator', `/monitoring/${compressorId}`);
  await waitForWidgets(page);
  const row = page.getByTestId('alert-history').locator(`[data-alert-id="${alertId}"]`);
  await row.getByTestId('action-resolve').click();
  const dialog = page.getByTestId('action-dialog');
  await dialog.getByTestId('action-submit').click();
  // The note is required: the browser blocks the submit and nothing is written.
  await expect(dialog).toBeVisible();
  expect((await db.query(`SELECT status FROM alerts WHERE alert_id = $1`, [alertId])).rows[0].status).toBe('open');
  await dialog.getByTestId('action-note').fill('Replaced the discharge valve, readings back to normal');
  await dialog.getByTestId('action-submit').click();
  await expect(dialog).toBeHidden();
  await expect(row).toHaveAttribute('data-status', 'resolved');
  const stored = await db.query(`SELECT status, resolved_by FROM alerts WHERE alert_id = $1`, [alertId]);
  expect(stored.rows[0]).toMatchObject({ status: 'resolved', resolved_by: OPERATOR });
  expect((await db.query(`SELECT COUNT(*)::int AS n FROM v_active_alerts WHERE alert_id = $1`, [alertId])).rows[0].n).toBe(0);
});
