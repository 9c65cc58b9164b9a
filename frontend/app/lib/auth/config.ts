/**
 * Sign-in settings, all from the environment (nothing to configure locally):
 *
 * - AUTH_SESSION_TTL_SECONDS (28800 = 8 h): a session ends this long after sign-in, whatever happens.
 * - AUTH_MAX_FAILED_SIGN_INS (5) per account name and client address, AUTH_MAX_FAILED_SIGN_INS_PER_ACCOUNT
 *   (20) from all addresses, within AUTH_FAILED_SIGN_IN_WINDOW_SECONDS (900): more are refused with 429.
 * - AUTH_ORIGIN: the public origin (https://ops.example.com) state-changing requests must come from;
 *   default: the origin the request was addressed to.
 * - AUTH_SECURE_COOKIES (auto): Secure cookies when the request arrived over https; 'true' forces them.
 * - AUTH_LOCAL_ACCOUNTS (on): password sign-in against the accounts table; 'off' leaves only Entra ID.
 * - AUTH_REQUIRE_SIGN_IN (off): 'on' makes every page and API route except sign-in and /api/health
 *   need a signed-in account (viewer or operator); off, anyone who reaches the dashboard may read it.
 * - AUTH_ENTRA_TENANT_ID, AUTH_ENTRA_CLIENT_ID, AUTH_ENTRA_CLIENT_SECRET, AUTH_ENTRA_REDIRECT_URI:
 *   Microsoft Entra ID (OpenID Connect, authorization code + PKCE); all four or none.
 *   AUTH_ENTRA_OPERATOR_ROLES / AUTH_ENTRA_VIEWER_ROLES (app role values, default Altaviz.Operator /
 *   Altaviz.Viewer), AUTH_ENTRA_OPERATOR_GROUPS / AUTH_ENTRA_VIEWER_GROUPS (group object ids),
 *   AUTH_ENTRA_DEFAULT_ROLE (none | viewer: what a tenant user with no matching role gets),
 *   AUTH_ENTRA_AUTHORITY (https://login.microsoftonline.com; another cloud's authority host).
 *
 * Parsing is pure (env in, config or a clear error out) so it is tested without a server.
 */

export type Role = 'viewer' | 'operator';

export type EntraConfig = {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  authority: string;
  operatorRoles: string[];
  viewerRoles: string[];
  operatorGroups: string[];
  viewerGroups: string[];
  defaultRole: Role | null;
};

export type AuthConfig = {
  sessionTtlSeconds: number;
  maxFailedSignIns: number;
  maxFailedSignInsPerAccount: number;
  failedSignInWindowSeconds: number;
  origin: string | null;
  secureCookies: 'auto' | 'always';
  localAccounts: boolean;
  requireSignIn: boolean;
  entra: EntraConfig | null;
};

export class AuthConfigError extends Error {
  constructor(message: string) {
    super(`sign-in configuration: ${message}`);
    this.name = 'AuthConfigError';
  }
}

type Env = Record<string, string | undefined>;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new AuthConfigError(`${name}=${raw} must be a whole number from ${min} to ${max}`);
  return n;
}

function list(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function absoluteUrl(raw: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AuthConfigError(`${name}=${raw} is not an absolute URL`);
  }
  return url;
}

export function parseAuthConfig(env: Env): AuthConfig {
  const rawOrigin = env.AUTH_ORIGIN?.trim();
  const secure = (env.AUTH_SECURE_COOKIES ?? 'auto').trim().toLowerCase();
  if (!['auto', 'true'].includes(secure)) throw new AuthConfigError(`AUTH_SECURE_COOKIES=${secure}: use auto or true`);
  const local = (env.AUTH_LOCAL_ACCOUNTS ?? 'on').trim().toLowerCase();
  if (!['on', 'off'].includes(local)) throw new AuthConfigError(`AUTH_LOCAL_ACCOUNTS=${local}: use on or off`);
  const require = (env.AUTH_REQUIRE_SIGN_IN ?? 'off').trim().toLowerCase();
  if (!['on', 'off'].includes(require)) throw new AuthConfigError(`AUTH_REQUIRE_SIGN_IN=${require}: use on or off`);
  const config: AuthConfig = {
    sessionTtlSeconds: int(env, 'AUTH_SESSION_TTL_SECONDS', 8 * 3600, 1, 30 * 86400),
    maxFailedSignIns: int(env, 'AUTH_MAX_FAILED_SIGN_INS', 5, 1, 1000),
    maxFailedSignInsPerAccount: int(env, 'AUTH_MAX_FAILED_SIGN_INS_PER_ACCOUNT', 20, 1, 100_000),
    failedSignInWindowSeconds: int(env, 'AUTH_FAILED_SIGN_IN_WINDOW_SECONDS', 900, 1, 86400),
    origin: rawOrigin ? toOrigin(rawOrigin, 'AUTH_ORIGIN') : null,
    secureCookies: secure === 'true' ? 'always' : 'auto',
    localAccounts: local === 'on',
    requireSignIn: require === 'on',
    entra: parseEntra(env),
  };
  if (!config.localAccounts && !config.entra) throw new AuthConfigError('AUTH_LOCAL_ACCOUNTS=off needs Microsoft Entra ID (AUTH_ENTRA_*) configured');
  return config;
}

function toOrigin(raw: string, name: string): string {
  const url = absoluteUrl(raw, name);
  if (url.pathname !== '/' || url.search || url.hash) throw new AuthConfigError(`${name}=${raw} must be an origin only, e.g. https://ops.example.com`);
  return url.origin;
}

const ENTRA_REQUIRED = ['AUTH_ENTRA_TENANT_ID', 'AUTH_ENTRA_CLIENT_ID', 'AUTH_ENTRA_CLIENT_SECRET', 'AUTH_ENTRA_REDIRECT_URI'] as const;

function parseEntra(env: Env): EntraConfig | null {
  const given = ENTRA_REQUIRED.filter((k) => env[k]?.trim());
  if (given.length === 0) return null;
  const missing = ENTRA_REQUIRED.filter((k) => !env[k]?.trim());
  if (missing.length) throw new AuthConfigError(`Microsoft Entra ID needs ${missing.join(', ')} as well (all four or none)`);
  const tenantId = env.AUTH_ENTRA_TENANT_ID!.trim();
  const clientId = env.AUTH_ENTRA_CLIENT_ID!.trim();
  // A tenant GUID, not 'common' or a domain: the ID token's issuer is checked against this tenant.
  if (!GUID.test(tenantId)) throw new AuthConfigError(`AUTH_ENTRA_TENANT_ID must be the directory (tenant) id, a GUID; got ${JSON.stringify(tenantId)}`);
  if (!GUID.test(clientId)) throw new AuthConfigError(`AUTH_ENTRA_CLIENT_ID must be the application (client) id, a GUID; got ${JSON.stringify(clientId)}`);
  const redirect = absoluteUrl(env.AUTH_ENTRA_REDIRECT_URI!.trim(), 'AUTH_ENTRA_REDIRECT_URI');
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(redirect.hostname);
  if (redirect.protocol !== 'https:' && !(redirect.protocol === 'http:' && loopback)) {
    throw new AuthConfigError('AUTH_ENTRA_REDIRECT_URI must be https (http only for localhost)');
  }
  if (!redirect.pathname.endsWith('/api/auth/entra/callback')) {
    throw new AuthConfigError('AUTH_ENTRA_REDIRECT_URI must end in /api/auth/entra/callback, e.g. https://ops.example.com/api/auth/entra/callback');
  }
  const authority = toOrigin(env.AUTH_ENTRA_AUTHORITY?.trim() || 'https://login.microsoftonline.com', 'AUTH_ENTRA_AUTHORITY');
  if (!authority.startsWith('https://')) throw new AuthConfigError('AUTH_ENTRA_AUTHORITY must be https');
  const defaultRole = (env.AUTH_ENTRA_DEFAULT_ROLE ?? 'none').trim().toLowerCase();
  if (defaultRole !== 'none' && defaultRole !== 'viewer') throw new AuthConfigError(`AUTH_ENTRA_DEFAULT_ROLE=${defaultRole}: use none or viewer`);
  const config: EntraConfig = {
    tenantId: tenantId.toLowerCase(),
    clientId: clientId.toLowerCase(),
    clientSecret: env.AUTH_ENTRA_CLIENT_SECRET!.trim(),
    redirectUri: redirect.href,
    authority,
    operatorRoles: list(env, 'AUTH_ENTRA_OPERATOR_ROLES', ['Altaviz.Operator']),
    viewerRoles: list(env, 'AUTH_ENTRA_VIEWER_ROLES', ['Altaviz.Viewer']),
    operatorGroups: list(env, 'AUTH_ENTRA_OPERATOR_GROUPS', []).map((g) => g.toLowerCase()),
    viewerGroups: list(env, 'AUTH_ENTRA_VIEWER_GROUPS', []).map((g) => g.toLowerCase()),
    defaultRole: defaultRole === 'viewer' ? 'viewer' : null,
  };
  for (const g of [...config.operatorGroups, ...config.viewerGroups]) {
    if (!GUID.test(g)) throw new AuthConfigError(`group ${JSON.stringify(g)} in AUTH_ENTRA_*_GROUPS is not a group object id (GUID)`);
  }
  return config;
}

/**
 * The Altaviz role for an Entra ID token's claims: app roles (`roles`) or security groups
 * (`groups`, object ids). Operator wins over viewer; null means "no Altaviz access".
 */
export function roleFromClaims(claims: Record<string, unknown>, entra: EntraConfig): Role | null {
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const roles = new Set(strings(claims.roles));
  const groups = new Set(strings(claims.groups).map((g) => g.toLowerCase()));
  if (entra.operatorRoles.some((r) => roles.has(r)) || entra.operatorGroups.some((g) => groups.has(g))) return 'operator';
  if (entra.viewerRoles.some((r) => roles.has(r)) || entra.viewerGroups.some((g) => groups.has(g))) return 'viewer';
  return entra.defaultRole;
}

let cached: { key: string; config: AuthConfig } | undefined;

/** The configuration of this process (parsed once per distinct environment). */
export function authConfig(): AuthConfig {
  const key = JSON.stringify(Object.entries(process.env).filter(([k]) => k.startsWith('AUTH_')).sort());
  if (cached?.key !== key) cached = { key, config: parseAuthConfig(process.env) };
  return cached.config;
}
