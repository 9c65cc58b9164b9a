import { NextResponse } from 'next/server';
import { handler, jsonError } from '@/app/lib/api';
import { authConfig } from '@/app/lib/auth/config';
import { authorizationRequest } from '@/app/lib/auth/entra';
import { secureCookies } from '@/app/lib/auth/session';
import { safeNext } from '@/app/lib/auth/sign-in';

const PENDING_COOKIE = 'altaviz_oidc'; // read back in ../callback/route.ts

/** GET /api/auth/entra/sign-in?next=/alerts: off to Microsoft Entra ID with PKCE, state and nonce. */
export const GET = handler(async (request) => {
  const entra = authConfig().entra;
  if (!entra) return jsonError(404, 'Microsoft Entra ID sign-in is not configured (AUTH_ENTRA_*)');
  const { url, pending } = await authorizationRequest(entra, safeNext(new URL(request.url).searchParams.get('next')));
  const response = NextResponse.redirect(url, 302);
  // Lax: the cookie must come back on Entra's top-level redirect to the callback.
  response.cookies.set(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
    httpOnly: true, sameSite: 'lax', secure: await secureCookies(), path: '/api/auth/entra', maxAge: 600,
  });
  return response;
});
