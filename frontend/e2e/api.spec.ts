import { csrfToken, signIn } from './auth-helpers';
import { expect, test } from './fixtures';

// Hostile and malformed input: always a 4xx with the JSON error shape, never a 500, and nothing changes.

const INJECTIONS = [
  "COMP-001' OR '1'='1",
  'COMP-001; DROP TABLE alerts;--',
  "COMP-001') UNION SELECT * FROM alert_events--",
  '<script>alert(1)</script>',
  'COMP-001\u0000',
  'A'.repeat(5000),
];

async function expectError(res: import('@playwright/test').APIResponse, status: number) {
  expect(res.status(), await res.text()).toBe(status);
  const body = await res.json();
  expect(body.error.status).toBe(status);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
}

test('the main routes answer 200 with data from the pipeline run', async ({ request }) => {
  const fleet = await (await request.get('/api/fleet')).json();
  expect(fleet.stations).toHaveLength(4);
  expect(fleet.kpis.compressors).toBe(10);
  // COMP-003 tripped on day 6 and is under repair.
  const list = await (await request.get('/api/compressors?health=down')).json();
  expect(list.compressors.map((c: { compressor_id: string }) => c.compressor_id)).toContain('COMP-003');
  const detail = await (await request.get('/api/compressors/COMP-003')).json();
  expect(detail.compressor.health_status).toBe('down');
  expect(detail.thresholds).toHaveLength(4);
  const readings = await (await request.get('/api/compressors/COMP-003/readings?range=24h')).json();
  expect(readings.readings).toHaveLength(24);
  const alerts = await (await request.get('/api/alerts?severity=critical&page_size=5')).json();
  expect(alerts.rows.length).toBeGreaterThan(0);
  expect(alerts.rows.every((a: { severity: string }) => a.severity === 'critical')).toBe(true);
  const quality = await (await request.get('/api/quality?runs=5')).json();
  expect(quality.runs.length).toBeGreaterThan(0);
});

test('unknown compressor and alert ids are 404', async ({ request }) => {
  await expectError(await request.get('/api/compressors/COMP-999'), 404);
  await expectError(await request.get('/api/compressors/COMP-999/readings'), 404);
  await expectError(await request.get('/api/alerts/no-such-alert'), 404);
  await expectError(await request.get('/api/no/such/route'), 404);
});

test('injection strings in path and query are rejected with 400 and change nothing', async ({ request, db }) => {
  const before = (await db.query('SELECT (SELECT COUNT(*) FROM alerts)::int AS a, (SELECT COUNT(*) FROM alert_events)::int AS e')).rows[0];
  for (const bad of INJECTIONS) {
    const enc = encodeURIComponent(bad);
    await expectError(await request.get(`/api/compressors/${enc}`), 400);
    await expectError(await request.get(`/api/compressors/${enc}/readings`), 400);
    await expectError(await request.get(`/api/alerts?compressor=${enc}`), 400);
    await expectError(await request.get(`/api/alerts?station=${enc}`), 400);
    await expectError(await request.get(`/api/alerts?status=${enc}`), 400);
    await expectError(await request.get(`/api/compressors/COMP-003/readings?from=${enc}`), 400);
  }
  const after = (await db.query('SELECT (SELECT COUNT(*) FROM alerts)::int AS a, (SELECT COUNT(*) FROM alert_events)::int AS e')).rows[0];
  expect(after).toEqual(before);
});

test('malformed dates and absurd ranges are 400', async ({ request }) => {
  const base = '/api/compressors/COMP-003/readings';
  for (const q of [
    'from=yesterday', 'from=2026-02-30', 'from=2026-13-01', 'from=2026-01-01T25:00:00Z', 'to=31/12/2026',
    'from=2026-03-01&to=2026-02-01', // reversed
    'from=2020-01-01&to=2026-01-01', // six years of hourly rows
    'from=1900-01-01&to=1900-02-01', 'from=2999-01-01&to=2999-02-01',
    'range=1y', 'range=7d&from=2026-01-01', 'limit=10', 'from=2026-01-01&from=2026-01-02',
  ]) {
    await expectError(await request.get(`${base}?${q}`), 400);
  }
  for (const q of ['severity=catastrophic', 'status=closed', 'page=0', 'page=-1', 'page=abc', 'page_size=100000',
    'active=yes', 'from=2026-01-05&to=2026-01-01', 'to=2026-02-31', 'orderBy=1']) {
    await expectError(await request.get(`/api/alerts?${q}`), 400);
  }
  await expectError(await request.get('/api/quality?runs=0'), 400);
  await expectError(await request.get('/api/quality?runs=1e9'), 400);
  await expectError(await request.get('/api/compressors?health=purple'), 400);
  // Malformed percent-encoding in a path segment is not a crash either.
  const res = await request.get('/api/alerts/%E0%A4%A');
  expect(res.status()).toBeGreaterThanOrEqual(400);
  expect(res.status()).toBeLessThan(500);
});

test('alert actions validate the body, refuse invalid transitions and unknown alerts', async ({ page, context, db, baseURL }) => {
  const open = (await db.query<{ alert_id: string }>(`SELECT alert_id FROM alerts WHERE status = 'open' LIMIT 1`)).rows[0];
  test.skip(!open, 'no open alert');
  const url = `/api/alerts/${encodeURIComponent(open!.alert_id)}/events`;
  const eventsBefore = (await db.query('SELECT COUNT(*)::int AS n FROM alert_events')).rows[0].n;
  // As a signed-in operator with the CSRF token, so what is refused here is refused for the body's sake.
  await signIn(page, 'operator');
  const headers = { origin: baseURL!, 'x-csrf-token': await csrfToken(context) };
  const post = (target: string, data: unknown, extra: Record<string, string> = {}) =>
    page.request.post(target, { headers: { ...headers, ...extra }, data: data as object });

  await expectError(await post(url, '{not json', { 'content-type': 'application/json' }), 400);
  await expectError(await post(url, 'acknowledge', { 'content-type': 'text/plain' }), 400);
  await expectError(await post(url, { action: 'delete' }), 400);
  await expectError(await post(url, { action: 'acknowledge', note: 'n'.repeat(2001) }), 400);
  await expectError(await post(url, { action: 'acknowledge', note: 'bell\u0007' }), 400);
  await expectError(await post(url, { action: 'acknowledge', actor: 'x' }), 400); // who acted is the session's account
  await expectError(await post(url, { action: 'acknowledge', status: 'resolved' }), 400);
  await expectError(await post(url, { action: 'resolve' }), 400); // resolve needs a note
  await expectError(await post(url, { action: 'reopen', note: 'why' }), 409); // it is open
  await expectError(await post('/api/alerts/no-such-alert/events', { action: 'acknowledge' }), 404);
  await expectError(await post(`/api/alerts/${encodeURIComponent("x' OR 1=1--")}/events`, { action: 'acknowledge' }), 400);

  expect((await db.query('SELECT COUNT(*)::int AS n FROM alert_events')).rows[0].n).toBe(eventsBefore);
  expect((await db.query('SELECT status FROM alerts WHERE alert_id = $1', [open!.alert_id])).rows[0].status).toBe('open');
});

test('an anonymous answer comes from the response cache until the serving data changes; a session is never cached', async ({ request, page, context, db, baseURL }) => {
  const { alert_id } = (await db.query<{ alert_id: string }>('SELECT alert_id FROM alerts ORDER BY alert_id LIMIT 1')).rows[0]!;
  const url = `/api/alerts/${encodeURIComponent(alert_id)}`;
  const note = `cache check ${Date.now()}`;
  const notes = async (res: import('@playwright/test').APIResponse) => (await res.json()).events.map((e: { note: string | null }) => e.note);
  // Each worker process keeps its own cache: within a few requests every worker has answered once.
  const untilHit = async () => {
    for (let i = 0; i < 6; i++) {
      const res = await request.get(url);
      if (res.headers()['x-altaviz-cache'] === 'hit') return res;
    }
    throw new Error(`${url}: no cache hit in 6 anonymous requests`);
  };
  expect(await notes(await untilHit())).not.toContain(note);

  // An operator's note is an operator action: a new serving-data version for every worker.
  await signIn(page, 'operator');
  const headers = { origin: baseURL!, 'x-csrf-token': await csrfToken(context) };
  const posted = await page.request.post(`${url}/events`, { headers, data: { action: 'note', note } });
  expect(posted.status(), await posted.text()).toBeLessThan(300);
  expect((await page.request.get(url)).headers()['x-altaviz-cache']).toBeUndefined(); // a session: never cached

  const after = await request.get(url);
  expect(after.headers()['x-altaviz-cache']).toBe('miss'); // whichever worker answers, its copy is stale
  expect(await notes(after)).toContain(note);
  expect(await notes(await untilHit())).toContain(note);
});
