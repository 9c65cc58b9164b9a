import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { cookies, headers } from 'next/headers';
import { query, SchemaMissingError } from '../db';
import { authConfig, type Role } from './config';

/**
 * Server-side sessions in the serving database (auth_sessions). The HttpOnly cookie carries a
 * random 256-bit token; the table keeps only its SHA-256, the account and a per-session CSRF
 * token, and ends the session at expires_at (AUTH_SESSION_TTL_SECONDS after sign-in) or sign-out.
 */

export const SESSION_COOKIE = 'altaviz_session';
/** Readable by scripts in the page, so an API client can echo it in X-CSRF-Token (double submit). */
export const CSRF_COOKIE = 'altaviz_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export type Session = { accountId: number; account: string; role: Role; provider: 'local' | 'entra'; csrfToken: string; expiresAt: string };

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createSession(accountId: number): Promise<{ token: string; csrfToken: string; maxAge: number }> {
  const { sessionTtlSeconds } = authConfig();
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  // Expired rows are removed as new sessions start, so the table holds only live sessions.
  await query(`DELETE FROM auth_sessions WHERE expires_at < now()`);
  await query(
    `INSERT INTO auth_sessions (session_hash, account_id, csrf_token, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [sha256(token), accountId, csrfToken, sessionTtlSeconds],
  );
  return { token, csrfToken, maxAge: sessionTtlSeconds };
}

/** The live session a cookie value stands for, or null (unknown, expired, signed out). */
export async function sessionFromToken(token: string | undefined): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  try {
    const rows = await query<{ account_id: number; account_name: string; role: Role; provider: 'local' | 'entra'; csrf_token: string; expires_at: string }>(
      `SELECT a.account_id, a.account_name, a.role, a.provider, s.csrf_token, s.expires_at
         FROM auth_sessions s JOIN accounts a ON a.account_id = s.account_id
        WHERE s.session_hash = $1 AND s.expires_at > now()`,
      [sha256(token)],
    );
    const r = rows[0];
    return r ? { accountId: Number(r.account_id), account: r.account_name, role: r.role, provider: r.provider, csrfToken: r.csrf_token, expiresAt: r.expires_at } : null;
  } catch (err) {
    // A database the pipeline has not published the sign-in tables to yet has no sessions.
    if (err instanceof SchemaMissingError) return null;
    throw err;
  }
}

/** The signed-in account of the current request (server components, actions, route handlers). */
export async function currentSession(): Promise<Session | null> {
  return sessionFromToken((await cookies()).get(SESSION_COOKIE)?.value);
}

export async function endSession(): Promise<void> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (token) await query(`DELETE FROM auth_sessions WHERE session_hash = $1`, [sha256(token)]);
}

/** Secure cookies over https (directly or behind a proxy that says so), or always when configured. */
export async function secureCookies(): Promise<boolean> {
  if (authConfig().secureCookies === 'always') return true;
  const h = await headers();
  return (h.get('x-forwarded-proto') ?? '').split(',')[0]!.trim() === 'https';
}

export async function setSessionCookies(session: { token: string; csrfToken: string; maxAge: number }): Promise<void> {
  const jar = await cookies();
  const secure = await secureCookies();
  jar.set(SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: session.maxAge });
  jar.set(CSRF_COOKIE, session.csrfToken, { httpOnly: false, sameSite: 'strict', secure, path: '/', maxAge: session.maxAge });
}

export async function clearSessionCookies(): Promise<void> {
  const jar = await cookies();
  jar.delete(SESSION_COOKIE);
  jar.delete(CSRF_COOKIE);
}

export function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
