import { createHash } from 'node:crypto';
import { apiSignIn, csrfToken, signIn, startDashboard } from './auth-helpers';
import { ACCOUNTS, dashboardEnv } from './env';
import { expect, screenshot, test, waitForWidgets } from './fixtures';

// Sign-in, roles, CSRF, rate limiting and session expiry against the real dashboard and database.

async function anyAlert(db: import('pg').Client): Promise<string> {
  const row = (await db.query<{ alert_id: string }>(`SELECT alert_id FROM alerts ORDER BY opened_at LIMIT 1`)).rows[0];
  expect(row, 'the pipeline run produced alerts').toBeTruthy();
  return row!.alert_id;
}
const eventsUrl = (id: string) => `/api/alerts/${encodeURIComponent(id)}/events`;
const countEvents = async (db: import('pg').Client) => (await db.query('SELECT COUNT(*)::int AS n FROM alert_events')).rows[0].n as number;

test('signing in: a wrong password is refused, the right one opens a server-side session and returns to the page', async ({ page, db, context }) => {
  await page.goto('/alerts');
  await waitForWidgets(page);
  await expect(page.getByTestId('action-acknowledge')).toHaveCount(0); // nobody signed in: no actions
  await page.getByTestId('sign-in-to-act').first().click();
  await expect(page).toHaveURL(/\/sign-in\?next=%2Falerts/);
  await page.getByTestId('sign-in-name').fill(ACCOUNTS.operator.name);
  await page.getByTestId('sign-in-password').fill('not-the-password');
  await page.getByTestId('sign-in-submit').click();
  await expect(page.getByTestId('sign-in-error')).toHaveText('Wrong account name or password.');
  await expect(page).toHaveURL(/error=invalid/);
  await expect(page).toHaveURL(/next=%2Falerts/);
  await screenshot(page, '12-sign-in-refused');

  await page.getByTestId('sign-in-name').fill(ACCOUNTS.operator.name);
  await page.getByTestId('sign-in-password').fill(ACCOUNTS.operator.password);
  await page.getByTestId('sign-in-submit').click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(page.getByTestId('signed-in-as')).toHaveText('e2e.operator · operator');
  await expect(page.getByTestId('action-acknowledge').first()).toBeVisible();

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'altaviz_session')!;
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
  expect(session.expires * 1000 - Date.now()).toBeGreaterThan(7.9 * 3600_000); // default 8 h TTL
  expect(session.expires * 1000 - Date.now()).toBeLessThan(8.1 * 3600_000);
  // The database holds only the token's hash, with the account and an expiry.
  const stored = await db.query(
    `SELECT a.account_name, s.expires_at > now() + interval '7 hours' AS live FROM auth_sessions s JOIN accounts a USING (account_id) WHERE s.session_hash = $1`,
    [createHash('sha256').update(session.value).digest('hex')],
  );
  expect(stored.rows).toEqual([{ account_name: 'e2e.operator', live: true }]);
  expect((await db.query('SELECT COUNT(*)::int AS n FROM auth_sessions WHERE session_hash = $1', [session.value])).rows[0].n).toBe(0);

  // Signing out ends the session in the database: replaying the old cookie is anonymous.
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sign-in-link')).toBeVisible();
  const replay = await page.request.get('/api/auth/session', { headers: { cookie: `altaviz_session=${session.value}` } });
  expect((await replay.json()).signed_in).toBe(false);
});

test('the first operator account that altaviz run printed signs in', async ({ request, db }) => {
  const password = process.env.E2E_FIRST_OPERATOR_PASSWORD;
  test.skip(!password, 'no fresh pipeline run in this session (E2E_REUSE_PIPELINE / E2E_DATABASE_URL)');
  const res = await apiSignIn(request, 'operator', password!);
  expect(res.status(), await res.text()).toBe(200);
  expect(await res.json()).toMatchObject({ account: 'operator', role: 'operator' });
  const hash = (await db.query(`SELECT password_hash FROM accounts WHERE account_name = 'operator'`)).rows[0].password_hash as string;
  expect(hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$/);
  expect(hash).not.toContain(password!);
});

test('failed sign-ins are rate limited per account and address, in the database, even for the right password', async ({ page, request, db }) => {
  const target = ACCOUNTS.target;
  await db.query('DELETE FROM auth_failed_sign_ins WHERE account_name = $1', [target.name]);
  for (let i = 0; i < 5; i++) {
    const res = await apiSignIn(request, target.name, `wrong-${i}`);
    expect(res.status()).toBe(401);
  }
  expect((await db.query('SELECT COUNT(*)::int AS n FROM auth_failed_sign_ins WHERE account_name = $1', [target.name])).rows[0].n).toBe(5);
  const limited = await apiSignIn(request, target.name, target.password);
  expect(limited.status()).toBe(429);
  expect(Number(limited.headers()['retry-after'])).toBeGreaterThan(800); // the 15-minute window
  expect((await limited.json()).error.message).toMatch(/too many failed sign-ins/);
  // The form says so too; other accounts from the same address are unaffected.
  await page.goto('/sign-in');
  await page.getByTestId('sign-in-name').fill(target.name);
  await page.getByTestId('sign-in-password').fill(target.password);
  await page.getByTestId('sign-in-submit').click();
  await expect(page.getByTestId('sign-in-error')).toContainText('Too many failed sign-ins');
  expect((await apiSignIn(request, ACCOUNTS.viewer.name, ACCOUNTS.viewer.password)).status()).toBe(200);
});

test('a viewer sees alerts but cannot act: no action buttons, the API answers 403, nothing is written', async ({ page, context, request, db }) => {
  const alertId = await anyAlert(db);
  const before = await countEvents(db);
  // Nobody signed in: 401.
  const anonymous = await request.post(eventsUrl(alertId), { data: { action: 'note', note: 'x' } });
  expect(anonymous.status()).toBe(401);

  await signIn(page, 'viewer', '/alerts');
  await waitForWidgets(page);
  await expect(page.getByTestId('alert-row').first()).toBeVisible();
  await expect(page.getByTestId('actions-view-only').first()).toBeVisible();
  await expect(page.getByTestId('action-acknowledge')).toHaveCount(0);
  await page.goto(`/alerts/${encodeURIComponent(alertId)}`);
  await expect(page.getByTestId('actions-view-only')).toBeVisible();
  await screenshot(page, '13-viewer-alert');

  const res = await page.request.post(eventsUrl(alertId), {
    headers: { 'x-csrf-token': await csrfToken(context) },
    data: { action: 'acknowledge', note: 'viewer trying' },
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).error.message).toMatch(/viewer/);
  expect(await countEvents(db)).toBe(before);
});

test('operator API actions need same-origin requests with the CSRF token, and are audited under the account', async ({ page, context, db, baseURL }) => {
  const alertId = await anyAlert(db);
  const before = await countEvents(db);
  await signIn(page, 'operator');
  const token = await csrfToken(context);
  const post = (headers: Record<string, string>, data: object = { action: 'note', note: 'Checked by the API test' }) =>
    page.request.post(eventsUrl(alertId), { headers, data });

  expect((await post({ origin: 'https://evil.example', 'x-csrf-token': token })).status()).toBe(403);
  expect((await post({ 'sec-fetch-site': 'cross-site', 'x-csrf-token': token })).status()).toBe(403);
  expect((await post({ origin: baseURL! })).status()).toBe(403); // no token
  expect((await post({ origin: baseURL!, 'x-csrf-token': 'x'.repeat(43) })).status()).toBe(403);
  // Sign-in and sign-out refuse other sites as well (login CSRF, forced sign-out).
  const crossSignIn = await page.request.post('/api/auth/sign-in', {
    headers: { origin: 'https://evil.example' }, form: { name: ACCOUNTS.viewer.name, password: ACCOUNTS.viewer.password }, maxRedirects: 0,
  });
  expect(crossSignIn.status()).toBe(403);
  expect((await page.request.post('/api/auth/sign-out', { headers: { origin: 'https://evil.example' }, maxRedirects: 0 })).status()).toBe(403);
  expect(await countEvents(db)).toBe(before);

  // Who acted comes from the session; a body that names someone else is refused.
  expect((await post({ origin: baseURL!, 'x-csrf-token': token }, { action: 'note', note: 'n', actor: 'Somebody Else' })).status()).toBe(400);
  const ok = await post({ origin: baseURL!, 'x-csrf-token': token });
  expect(ok.status(), await ok.text()).toBe(201);
  expect((await ok.json()).event).toMatchObject({ action: 'note', actor: 'e2e.operator', note: 'Checked by the API test' });
  const last = await db.query(`SELECT action, actor FROM alert_events WHERE alert_id = $1 ORDER BY event_id DESC LIMIT 1`, [alertId]);
  expect(last.rows[0]).toEqual({ action: 'note', actor: 'e2e.operator' });
});

test('a session ends after AUTH_SESSION_TTL_SECONDS; AUTH_REQUIRE_SIGN_IN closes reading; failures count across processes; Entra ID sends the browser off with PKCE, state and nonce', async ({ page, playwright, request, db }) => {
  const tenant = '11111111-2222-3333-4444-555555555555';
  const client = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  // One extra server for all three: short sessions, sign-in required to read, Entra ID configured.
  const dash = await startDashboard({
    ...dashboardEnv(),
    AUTH_SESSION_TTL_SECONDS: '4',
    AUTH_REQUIRE_SIGN_IN: 'on',
    AUTH_ENTRA_TENANT_ID: tenant,
    AUTH_ENTRA_CLIENT_ID: client,
    AUTH_ENTRA_CLIENT_SECRET: 'test-secret-not-real',
    AUTH_ENTRA_REDIRECT_URI: 'http://localhost:3000/api/auth/entra/callback',
  });
  const api = await playwright.request.newContext({ baseURL: dash.url });
  try {
    // Nobody signed in: pages go to sign-in, data routes are 401, health and sign-in stay open.
    const home = await api.get('/alerts?severity=critical', { maxRedirects: 0 });
    expect(home.status()).toBe(307);
    expect(new URL(home.headers()['location']!, dash.url).href).toBe(`${dash.url}/sign-in?next=%2Falerts%3Fseverity%3Dcritical`);
    expect((await api.get('/api/fleet')).status()).toBe(401);
    expect((await api.get('/api/health')).status()).toBe(200);
    expect((await api.get('/sign-in')).status()).toBe(200);

    const res = await apiSignIn(api, ACCOUNTS.viewer.name, ACCOUNTS.viewer.password);
    expect(res.status()).toBe(200);
    expect((await api.get('/api/fleet')).status()).toBe(200); // a viewer reads
    expect(res.headers()['set-cookie']).toMatch(/altaviz_session=[^;]+;.*Max-Age=4/i);
    expect((await (await api.get('/api/auth/session')).json()).signed_in).toBe(true);
    await new Promise((r) => setTimeout(r, 4500));
    // The browser may still send the cookie: the server decides from expires_at.
    const cookie = { cookie: `altaviz_session=${/altaviz_session=([^;]+)/.exec(res.headers()['set-cookie']!)![1]}` };
    expect((await (await api.get('/api/auth/session', { headers: cookie })).json()).signed_in).toBe(false);
    expect((await api.get('/api/fleet', { headers: cookie })).status()).toBe(401);

    // Failed sign-ins live in the database: five on the suite's server lock this one out as well.
    await db.query('DELETE FROM auth_failed_sign_ins WHERE account_name = $1', [ACCOUNTS.target.name]);
    for (let i = 0; i < 5; i++) expect((await apiSignIn(request, ACCOUNTS.target.name, `wrong-${i}`)).status()).toBe(401);
    expect((await apiSignIn(api, ACCOUNTS.target.name, ACCOUNTS.target.password)).status()).toBe(429);

    // Entra ID: the sign-in page offers it, and the redirect is a complete authorization request.
    await page.goto(`${dash.url}/sign-in`);
    await expect(page.getByTestId('sign-in-entra')).toBeVisible();
    const start = await api.get('/api/auth/entra/sign-in?next=/alerts', { maxRedirects: 0 });
    expect(start.status()).toBe(302);
    const to = new URL(start.headers()['location']!);
    expect(`${to.origin}${to.pathname}`).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`);
    const q = Object.fromEntries(to.searchParams);
    expect(q).toMatchObject({
      client_id: client, response_type: 'code', response_mode: 'query', scope: 'openid profile email',
      redirect_uri: 'http://localhost:3000/api/auth/entra/callback', code_challenge_method: 'S256',
    });
    expect(q.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.state!.length).toBeGreaterThan(20);
    expect(q.nonce!.length).toBeGreaterThan(20);
    expect(start.headers()['set-cookie']).toMatch(/altaviz_oidc=.*HttpOnly/i);
    // A callback whose state is not the one this browser was given signs nobody in.
    const forged = await api.get('/api/auth/entra/callback?code=abc&state=forged', { maxRedirects: 0 });
    expect(forged.status()).toBe(303);
    expect(forged.headers()['location']).toBe('/sign-in?error=entra_expired');
  } finally {
    await api.dispose();
    dash.stop();
  }
});
