import { z } from 'zod';
import { handler, json, jsonError, redirectTo } from '@/app/lib/api';
import { authConfig } from '@/app/lib/auth/config';
import { clientAddress, crossSiteReason } from '@/app/lib/auth/csrf';
import { createSession, setSessionCookies } from '@/app/lib/auth/session';
import { safeNext, signInWithPassword } from '@/app/lib/auth/sign-in';

const body = z.object({
  name: z.string().trim().min(1, 'account name is required').max(128),
  password: z.string().min(1, 'password is required').max(1024),
  next: z.string().optional(),
});

/**
 * POST /api/auth/sign-in with the sign-in form (redirects: 303 to `next`, or back to /sign-in with
 * the reason), or JSON {"name", "password"} (answers 200 {account, role, csrf_token}, 401, 429).
 */
export const POST = handler(async (request) => {
  const wantsJson = (request.headers.get('content-type') ?? '').includes('application/json');
  const refuse = (status: number, code: string, message: string, extra?: { next?: string; retryAfter?: number }) => {
    const headers = extra?.retryAfter ? { 'retry-after': String(extra.retryAfter) } : undefined;
    if (wantsJson) return jsonError(status, message, headers);
    const query = new URLSearchParams({ error: code });
    if (extra?.next && extra.next !== '/') query.set('next', extra.next);
    return redirectTo(`/sign-in?${query}`, headers);
  };
  const crossSite = crossSiteReason(request);
  if (crossSite) return jsonError(403, crossSite);
  if (!authConfig().localAccounts) return jsonError(404, 'password sign-in is turned off (AUTH_LOCAL_ACCOUNTS=off)');

  let raw: unknown;
  try {
    raw = wantsJson ? await request.json() : Object.fromEntries(await request.formData());
  } catch {
    return jsonError(400, 'send the sign-in form or JSON {"name", "password"}');
  }
  const input = body.safeParse(raw);
  const next = safeNext((raw as { next?: unknown } | null)?.next);
  if (!input.success) return refuse(400, 'missing', 'account name and password are required', { next });

  const result = await signInWithPassword(input.data.name, input.data.password, clientAddress(request));
  if (!result.ok && result.reason === 'rate_limited') {
    return refuse(429, 'rate_limited', `too many failed sign-ins; try again in ${result.retryAfterSeconds} s`, { next, retryAfter: result.retryAfterSeconds });
  }
  if (!result.ok) return refuse(401, 'invalid', 'wrong account name or password', { next });

  const session = await createSession(result.accountId);
  await setSessionCookies(session);
  if (wantsJson) return json({ account: result.account, role: result.role, csrf_token: session.csrfToken, expires_in: session.maxAge });
  return redirectTo(next);
});
