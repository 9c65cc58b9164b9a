import { test, expect } from '@playwright/test';
import { AuthConfigError, parseAuthConfig, roleFromClaims } from '../app/lib/auth/config';

// Sign-in configuration parsing and Entra ID role mapping: pure functions, no browser, no server.
// (Entra ID itself cannot be reached from CI; the authorization request is checked in auth.spec.ts.)

const ENTRA = {
  AUTH_ENTRA_TENANT_ID: '11111111-2222-3333-4444-555555555555',
  AUTH_ENTRA_CLIENT_ID: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
  AUTH_ENTRA_CLIENT_SECRET: 'secret',
  AUTH_ENTRA_REDIRECT_URI: 'https://ops.example.com/api/auth/entra/callback',
};

test('defaults: 8 h sessions, 5 failures per account and address, 20 per account, 15 min window, no Entra ID', () => {
  expect(parseAuthConfig({})).toEqual({
    sessionTtlSeconds: 28800, maxFailedSignIns: 5, maxFailedSignInsPerAccount: 20, failedSignInWindowSeconds: 900,
    origin: null, secureCookies: 'auto', localAccounts: true, requireSignIn: false, entra: null,
  });
  const c = parseAuthConfig({ AUTH_SESSION_TTL_SECONDS: '60', AUTH_ORIGIN: 'https://ops.example.com', AUTH_SECURE_COOKIES: 'true' });
  expect(c).toMatchObject({ sessionTtlSeconds: 60, origin: 'https://ops.example.com', secureCookies: 'always' });
});

test('bad settings fail with a message naming the setting', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ AUTH_SESSION_TTL_SECONDS: '0' }, /AUTH_SESSION_TTL_SECONDS=0/],
    [{ AUTH_SESSION_TTL_SECONDS: '8h' }, /whole number/],
    [{ AUTH_ORIGIN: 'ops.example.com' }, /AUTH_ORIGIN.*absolute URL/],
    [{ AUTH_ORIGIN: 'https://ops.example.com/dash' }, /origin only/],
    [{ AUTH_LOCAL_ACCOUNTS: 'off' }, /needs Microsoft Entra ID/],
    [{ AUTH_REQUIRE_SIGN_IN: 'yes' }, /AUTH_REQUIRE_SIGN_IN=yes: use on or off/],
    [{ AUTH_ENTRA_TENANT_ID: ENTRA.AUTH_ENTRA_TENANT_ID }, /AUTH_ENTRA_CLIENT_ID, AUTH_ENTRA_CLIENT_SECRET, AUTH_ENTRA_REDIRECT_URI as well/],
    [{ ...ENTRA, AUTH_ENTRA_TENANT_ID: 'contoso.onmicrosoft.com' }, /tenant\) id, a GUID/],
    [{ ...ENTRA, AUTH_ENTRA_TENANT_ID: 'common' }, /GUID/],
    [{ ...ENTRA, AUTH_ENTRA_REDIRECT_URI: 'http://ops.example.com/api/auth/entra/callback' }, /must be https/],
    [{ ...ENTRA, AUTH_ENTRA_REDIRECT_URI: 'https://ops.example.com/callback' }, /\/api\/auth\/entra\/callback/],
    [{ ...ENTRA, AUTH_ENTRA_DEFAULT_ROLE: 'operator' }, /none or viewer/],
    [{ ...ENTRA, AUTH_ENTRA_OPERATOR_GROUPS: 'Ops Team' }, /group object id/],
  ];
  for (const [env, message] of bad) {
    expect(() => parseAuthConfig(env), JSON.stringify(env)).toThrow(AuthConfigError);
    expect(() => parseAuthConfig(env), JSON.stringify(env)).toThrow(message);
  }
});

test('Entra ID settings: ids normalised, app roles by default, groups and a default role when asked', () => {
  const entra = parseAuthConfig({ ...ENTRA, AUTH_LOCAL_ACCOUNTS: 'off' }).entra!;
  expect(entra).toMatchObject({
    tenantId: '11111111-2222-3333-4444-555555555555', clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    authority: 'https://login.microsoftonline.com', operatorRoles: ['Altaviz.Operator'], viewerRoles: ['Altaviz.Viewer'],
    operatorGroups: [], viewerGroups: [], defaultRole: null,
  });
  // Localhost may use http (development); another cloud's authority host is accepted.
  const dev = parseAuthConfig({ ...ENTRA, AUTH_ENTRA_REDIRECT_URI: 'http://localhost:3000/api/auth/entra/callback', AUTH_ENTRA_AUTHORITY: 'https://login.microsoftonline.us' }).entra!;
  expect(dev.authority).toBe('https://login.microsoftonline.us');

  expect(roleFromClaims({ roles: ['Altaviz.Operator'] }, entra)).toBe('operator');
  expect(roleFromClaims({ roles: ['Altaviz.Viewer', 'Altaviz.Operator'] }, entra)).toBe('operator'); // operator wins
  expect(roleFromClaims({ roles: ['Altaviz.Viewer'] }, entra)).toBe('viewer');
  expect(roleFromClaims({ roles: ['Other.App.Admin'] }, entra)).toBeNull(); // no Altaviz role: refused
  expect(roleFromClaims({}, entra)).toBeNull();
  expect(roleFromClaims({ roles: 'Altaviz.Operator' }, entra)).toBeNull(); // malformed claim is not a role

  const opsGroup = '99999999-8888-7777-6666-555555555555';
  const grouped = parseAuthConfig({
    ...ENTRA, AUTH_ENTRA_OPERATOR_GROUPS: opsGroup.toUpperCase(), AUTH_ENTRA_OPERATOR_ROLES: '', AUTH_ENTRA_DEFAULT_ROLE: 'viewer',
  }).entra!;
  expect(roleFromClaims({ groups: [opsGroup] }, grouped)).toBe('operator');
  expect(roleFromClaims({ roles: ['Altaviz.Operator'] }, grouped)).toBe('viewer'); // roles turned off; default applies
  expect(roleFromClaims({ groups: ['00000000-0000-0000-0000-000000000000'] }, grouped)).toBe('viewer');
});
